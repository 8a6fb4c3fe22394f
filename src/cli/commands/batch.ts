/** `r2s batch PIPELINE.yaml` and `r2s batch status`: see src/batch/cli-batch.ts. */
export { summary, usage, run } from '../../batch/cli-batch.js';
