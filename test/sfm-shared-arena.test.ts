import { describe, expect, it } from 'vitest';
import { SharedArena } from '../src/sfm/shared-arena.js';

describe('shared arena of the bundle-adjustment workers', () => {
  it('reuses one buffer from call to call, zeroed, and grows to the largest call', () => {
    const arena = new SharedArena();
    expect(arena.acquire()).toBe(true);
    const [first] = arena.take(100); // no arena yet: a fresh buffer
    expect(first.byteLength).toBe(100);
    arena.take(60);
    arena.release();
    expect(arena.size()).toBeGreaterThanOrEqual(164); // 100, aligned to 104, + 60, with headroom

    expect(arena.acquire()).toBe(true);
    const [a, offA] = arena.take(16), [b, offB] = arena.take(24);
    expect(b).toBe(a);
    expect(offA).toBe(0);
    expect(offB).toBe(16);
    const view = new Float64Array(b, offB, 3);
    view.fill(7);
    arena.release();

    // the next call gets the same memory back, cleared
    expect(arena.acquire()).toBe(true);
    arena.take(16);
    const [c, offC] = arena.take(24);
    expect(c).toBe(a);
    expect(Array.from(new Float64Array(c, offC, 3))).toEqual([0, 0, 0]);
    // a call larger than the arena gets fresh memory for the rest, and the arena grows for next time
    const [big] = arena.take(10_000);
    expect(big).not.toBe(a);
    arena.release();
    expect(arena.size()).toBeGreaterThanOrEqual(10_040);
  });

  it('is held by one call at a time', () => {
    const arena = new SharedArena();
    expect(arena.acquire()).toBe(true);
    expect(arena.acquire()).toBe(false);
    arena.release();
    expect(arena.acquire()).toBe(true);
    arena.release();
  });

  it('is dropped once no call has used it for a moment', async () => {
    const arena = new SharedArena();
    arena.acquire();
    arena.take(1000);
    arena.release();
    expect(arena.size()).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1300));
    expect(arena.size()).toBe(0);
  });
});
