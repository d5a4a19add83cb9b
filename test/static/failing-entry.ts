// A runner with one failing test: shows that the engine run can fail (test/static/engine.test.ts).
import '../../src/static/polyfill.ts';
import { runInEngine } from './run-in-engine.ts';
import { describe, expect, it } from './vitest-shim.ts';

describe('a deliberately wrong test', () => {
  it('expects a Map to hold what it does not', () => {
    expect(new Map([[1, 'a']]).get(1)).toBe('b');
  });
});
runInEngine();
