import sharp from "sharp";
import { Worker } from 'node:worker_threads';
const w = new Worker(new URL('./src/sfm/feature-worker.mjs', import.meta.url));
const t=Date.now();
w.on('message', (r) => { console.log(Date.now()-t, r.ok, r.error, r.n, r.width); w.terminate(); });
w.on('error', (e) => console.log('err', e));
w.postMessage({ id: 0, path: '/work/shared/datasets/strecha_fountain-P11/images/0000.jpg', maxSize: 1600, type: 'akaze', maxFeatures: 8000, threshold: 0.0002 });
w.on('exit', (c) => console.log('exit', c));
