import { Worker } from 'node:worker_threads';
const w = new Worker(`
const { parentPort } = require('node:worker_threads');
(async () => {
 const t=Date.now();
 const mod = await import('@techstark/opencv-js');
 let cv = mod.default ?? mod;
 console.log('loaded', Date.now()-t, typeof cv, cv instanceof Promise, !!cv.Mat, Object.keys(cv).length);
 if (!cv.Mat) await new Promise((resolve) => { cv.onRuntimeInitialized = resolve; });
 console.log('init', Date.now()-t, !!cv.Mat);
 parentPort.postMessage('ok');
})().catch(e => console.log('E', e));
`, { eval: true });
w.on('message', (r) => { console.log(r); w.terminate(); });
w.on('error', (e) => console.log('err', e));
w.on('exit', (c) => console.log('exit', c));
