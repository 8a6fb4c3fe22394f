/** `r2s worker --redis URL`: see src/batch/cli-worker.ts. */
export { summary, usage, run } from '../../batch/cli-worker.js';
