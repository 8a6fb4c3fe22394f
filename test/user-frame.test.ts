/**
 * src/io/user-frame.ts: the scale / up / origin file the viewer saves and later stages read.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyUserFrame, readUserFrame, upRotation, userFramePath, type UserFrame } from '../src/io/user-frame.js';
import { UserError } from '../src/util/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-user-frame-'));

describe('user frame', () => {
  it('reads a valid file (or a workspace holding one), null when absent', () => {
    expect(readUserFrame(path.join(dir, 'none.json'))).toBeNull();
    const f: UserFrame = { kind: 'r2s.user-frame', version: 1, scale: { factor: 2.5, from: 'measured', distance: 5, points: [[0, 0, 0], [2, 0, 0]] } };
    writeFileSync(userFramePath(dir), JSON.stringify(f));
    expect(readUserFrame(userFramePath(dir))?.scale?.factor).toBe(2.5);
    expect(readUserFrame(dir)?.scale?.factor).toBe(2.5);
  });

  it('rejects bad files with a one-line UserError naming the file and the fix', () => {
    const bad = path.join(dir, 'bad.json');
    for (const body of ['{', JSON.stringify({ kind: 'r2s.user-frame', version: 1, scale: { factor: -1, from: 'measured', distance: 1, points: [[0, 0, 0], [1, 0, 0]] } }), JSON.stringify({ kind: 'other', version: 1 }), JSON.stringify({ kind: 'r2s.user-frame', version: 1, up: [0, 0, 2] })]) {
      writeFileSync(bad, body);
      let err: unknown;
      try {
        readUserFrame(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      const line = (err as UserError).oneLine();
      expect(line).toContain(bad);
      expect(line).toMatch(/fix:/);
      expect(line).not.toContain('\n');
    }
  });

  it('maps scene points: origin, then up to +z, then scale', () => {
    const f: UserFrame = { kind: 'r2s.user-frame', version: 1, scale: { factor: 2, from: 'measured', distance: 2, points: [[0, 0, 0], [1, 0, 0]] }, up: [0, -1, 0], origin: [1, 1, 1] };
    // a point one unit "up" (−y) from the origin is 2 m up (+z)
    const p = applyUserFrame(f, [1, 0, 1]);
    expect(p[0]).toBeCloseTo(0, 9);
    expect(p[1]).toBeCloseTo(0, 9);
    expect(p[2]).toBeCloseTo(2, 9);
    // the rotation is a rotation and maps up to +z for arbitrary ups
    for (const u of [[0.6, 0, 0.8], [0, 0, -1], [0.2, -0.3, 0.9]] as const) {
      const n = Math.hypot(...u);
      const up = [u[0] / n, u[1] / n, u[2] / n] as [number, number, number];
      const R = upRotation(up);
      const z = [R[6]! * up[0] + R[7]! * up[1] + R[8]! * up[2], R[0]! * up[0] + R[1]! * up[1] + R[2]! * up[2]];
      expect(z[0]).toBeCloseTo(1, 9);
      expect(z[1]).toBeCloseTo(0, 9);
      const det = R[0]! * (R[4]! * R[8]! - R[5]! * R[7]!) - R[1]! * (R[3]! * R[8]! - R[5]! * R[6]!) + R[2]! * (R[3]! * R[7]! - R[4]! * R[6]!);
      expect(det).toBeCloseTo(1, 9);
    }
    expect(applyUserFrame(null, [1, 2, 3])).toEqual([1, 2, 3]);
  });
});
