import Database from 'better-sqlite3';
const d = new Database('/tmp/d/ws-f/sfm/database.db', { readonly: true });
const rows = d.prepare('select * from features order by name').all();
const mod = await import('@techstark/opencv-js');
const cv = mod.default;
if (!cv.Mat) await new Promise(r => cv.onRuntimeInitialized = () => r(null));
function mat(r) { const u = new Uint8Array(r.descr.byteLength); u.set(r.descr); return cv.matFromArray(r.n, r.words*4, cv.CV_8UC1, u); }
const A = mat(rows[0]), B = mat(rows[1]);
const bf = new cv.BFMatcher(cv.NORM_HAMMING, false);
const mv = new cv.DMatchVectorVector();
let t = Date.now();
bf.knnMatch(A, B, mv, 2);
console.log('knn', Date.now() - t, mv.size());
t = Date.now();
const ms = new cv.DMatchVector();
bf.match(B, A, ms);
console.log('match', Date.now() - t, ms.size());
