import { version } from '../../util/version.js';
export const summary = 'print the r2s version';
export async function run(): Promise<number> {
  process.stdout.write(version + '\n');
  return 0;
}
