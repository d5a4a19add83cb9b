// Map and Set as the core uses them. On V8 these are the engine's own; inside Duktape (the
// engine test runs this file there too) they are src/static/polyfill.ts, which must keep
// insertion order and stay fast under many deletes (the drain's record of who was told
// loses one entry per process reaped: thousands in a burst).
import { describe, expect, it } from 'vitest';

describe('Map and Set', () => {
  it('keep insertion order and size through deletes and re-adds', () => {
    const m = new Map<number, string>();
    for (let i = 0; i < 100; i++) m.set(i, `v${i}`);
    for (let i = 0; i < 100; i += 2) expect(m.delete(i)).toBe(true);
    expect(m.delete(0)).toBe(false);
    m.set(0, 'again');
    m.set(1, 'changed');
    expect(m.size).toBe(51);
    expect([...m.keys()].slice(0, 3)).toEqual([1, 3, 5]);
    const keys = [...m.keys()];
    expect(keys[keys.length - 1]).toBe(0);
    expect(m.get(1)).toBe('changed');
    expect(m.get(2)).toBeUndefined();
    const s = new Set<string>(['a', 'b', 'c']);
    s.delete('b');
    s.add('b');
    expect([...s]).toEqual(['a', 'c', 'b']);
  });

  it('delete 20 000 entries one by one in well under a second (linear, not quadratic)', () => {
    const m = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) m.set(i, i);
    const t0 = Date.now();
    for (let i = 0; i < 20_000; i++) m.delete(i);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(m.size).toBe(0);
  });
});
