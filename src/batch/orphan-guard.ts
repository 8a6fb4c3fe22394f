/**
 * Preloaded (`node --import`) into every job's child process: when the process that spawned it —
 * a batch or a worker — dies, even by kill -9, the child exits too instead of training on as an
 * orphan holding the workspace lock. (Linux's PDEATHSIG is not reachable from Node; a re-parented
 * process sees its ppid change.)
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) {
    process.stderr.write('r2s: the batch process that started this job is gone; stopping\n');
    process.kill(process.pid, 'SIGTERM'); // the stage's own handlers release the workspace lock
    setTimeout(() => process.exit(137), 2000).unref();
  }
}, 300).unref();
