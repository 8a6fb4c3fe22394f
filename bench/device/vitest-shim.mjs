/**
 * A stand-in for vitest's describe / it / expect / beforeAll, so that GPU test files bundled by
 * esbuild (bench/device/pack.sh, `--alias:vitest=…`) run on the lent GPU machine, which has no npm
 * registry to install vitest from. expect is vitest's own (@vitest/expect on chai). The entry
 * imports the test file, then calls runCollected(): tests run in file order, one at a time, and the
 * process exits 1 when any fails.
 */
import * as chai from 'chai';
import { JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);
export const expect = chai.expect;

const queue = [];
const hooks = [];
let prefix = [];
let skipping = 0;

function describeImpl(name, body) {
  prefix.push(name);
  body();
  prefix.pop();
}
export function describe(name, body) { describeImpl(name, body); }
describe.skipIf = (cond) => (name, body) => {
  if (cond) { skipping++; describeImpl(name, body); skipping--; } else describeImpl(name, body);
};
export function it(name, fn) {
  queue.push({ name: [...prefix, name].join(' › '), fn, skip: skipping > 0 });
}
it.skipIf = (cond) => (name, fn) => { if (cond) queue.push({ name: [...prefix, name].join(' › '), fn, skip: true }); else it(name, fn); };
export const test = it;
export function beforeAll(fn) { hooks.push(fn); }

/** Runs the collected tests; the bundle's entry calls it after importing the test file. */
export async function runCollected() {
  for (const h of hooks) await h();
  let failed = 0;
  for (const t of queue) {
    if (t.skip) { console.log(`SKIP ${t.name}`); continue; }
    const t0 = Date.now();
    try {
      await t.fn();
      console.log(`PASS ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}: ${(e && e.message ? e.message : String(e)).slice(0, 600)}`);
    }
  }
  console.log(`${queue.length - failed} passed or skipped, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
