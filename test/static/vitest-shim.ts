// The part of vitest's API the core's unit tests use, small enough to run inside Duktape:
// the same test files run on V8 under vitest and, bundled with this in place of 'vitest',
// inside the static host (test/static/engine.test.ts). Synchronous tests only.

type Fn = () => void;
interface Case {
  name: string;
  fn: Fn;
}

const cases: Case[] = [];
const prefix: string[] = [];
const hooks: { before: Fn[]; after: Fn[] }[] = [{ before: [], after: [] }];

/** printf-style titles as vitest formats them: %s %d %i %j %o %%. */
function formatTitle(title: string, args: unknown[]): string {
  let i = 0;
  return title.replace(/%[sdijo%]/g, (m) => {
    if (m === '%%') return '%';
    const v = args[i++];
    if (m === '%d' || m === '%i') return String(Number(v));
    if (m === '%j' || m === '%o') return JSON.stringify(v);
    return typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  });
}

function eachOf(table: readonly unknown[], run: (name: string, fn: Fn) => void) {
  return (title: string, fn: (...args: unknown[]) => void) => {
    for (const row of table) {
      const args = Array.isArray(row) ? (row as unknown[]) : [row];
      run(formatTitle(title, args), () => fn(...args));
    }
  };
}

function addCase(name: string, fn: Fn): void {
  const befores: Fn[] = [];
  const afters: Fn[] = [];
  for (const h of hooks) {
    befores.push(...h.before);
    afters.push(...h.after);
  }
  cases.push({
    name: [...prefix, name].join(' > '),
    fn: () => {
      for (const b of befores) b();
      try {
        fn();
      } finally {
        for (const a of afters) a();
      }
    },
  });
}

function describeBlock(name: string, fn: Fn): void {
  prefix.push(name);
  hooks.push({ before: [], after: [] });
  try {
    fn();
  } finally {
    prefix.pop();
    hooks.pop();
  }
}

export const it = Object.assign(addCase, { each: (table: readonly unknown[]) => eachOf(table, addCase) });
export const test = it;
export const describe = Object.assign(describeBlock, {
  each: (table: readonly unknown[]) => eachOf(table, describeBlock),
});
export function beforeEach(fn: Fn): void {
  hooks[hooks.length - 1]!.before.push(fn);
}
export function afterEach(fn: Fn): void {
  hooks[hooks.length - 1]!.after.push(fn);
}

function isPlainCollection(v: unknown): v is Map<unknown, unknown> | Set<unknown> {
  return v instanceof Map || v instanceof Set;
}

/** vitest's toEqual: recursive, undefined properties ignored, Maps and Sets by content. */
function equals(a: unknown, b: unknown): boolean {
  if (a === b || (a !== a && b !== b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (isPlainCollection(a) || isPlainCollection(b)) {
    if (!isPlainCollection(a) || !isPlainCollection(b) || a.constructor !== b.constructor || a.size !== b.size)
      return false;
    return equals([...a.entries()], [...b.entries()]);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof RegExp || b instanceof RegExp)
    return a instanceof RegExp && b instanceof RegExp && a.toString() === b.toString();
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => equals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function matchesObject(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'object' || expected === null || typeof actual !== 'object' || actual === null)
    return equals(actual, expected);
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => matchesObject(actual[i], e))
    );
  return Object.keys(expected).every((k) =>
    matchesObject((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]),
  );
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v instanceof Map || v instanceof Set)
    return `${v instanceof Map ? 'Map' : 'Set'}${JSON.stringify([...v.entries()])}`;
  // What JSON cannot show is shown as String() shows it: a function (stringify returns
  // undefined, though typed string) or a cycle (stringify throws).
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition, @typescript-eslint/no-base-to-string -- see above
    return JSON.stringify(v) ?? String(v);
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see above
    return String(v);
  }
}

function matchers(actual: unknown, negate: boolean, label: string | undefined) {
  const check = (pass: boolean, what: string): void => {
    if (pass === negate)
      throw new Error(`${label ? `${label}: ` : ''}expected ${show(actual)} ${negate ? 'not ' : ''}${what}`);
  };
  return {
    toBe: (e: unknown) => check(actual === e || (actual !== actual && e !== e), `to be ${show(e)}`),
    toEqual: (e: unknown) => check(equals(actual, e), `to equal ${show(e)}`),
    toStrictEqual: (e: unknown) => check(equals(actual, e), `to equal ${show(e)}`),
    toBeNull: () => check(actual === null, 'to be null'),
    toBeUndefined: () => check(actual === undefined, 'to be undefined'),
    toBeDefined: () => check(actual !== undefined, 'to be defined'),
    toBeTruthy: () => check(!!actual, 'to be truthy'),
    toBeFalsy: () => check(!actual, 'to be falsy'),
    // An array element by ===, as vitest's (chai's indexOf): includes() would also find NaN.
    toContain: (e: unknown) =>
      check(
        typeof actual === 'string' ? actual.includes(String(e)) : (actual as unknown[]).some((x) => x === e),
        `to contain ${show(e)}`,
      ),
    toContainEqual: (e: unknown) =>
      check(
        (actual as unknown[]).some((x) => equals(x, e)),
        `to contain equal ${show(e)}`,
      ),
    toMatchObject: (e: unknown) => check(matchesObject(actual, e), `to match object ${show(e)}`),
    toMatch: (e: RegExp | string) =>
      check(typeof e === 'string' ? String(actual).includes(e) : e.test(String(actual)), `to match ${String(e)}`),
    toHaveLength: (n: number) => check((actual as { length: number }).length === n, `to have length ${n}`),
    toBeGreaterThan: (n: number) => check((actual as number) > n, `to be > ${n}`),
    toBeGreaterThanOrEqual: (n: number) => check((actual as number) >= n, `to be >= ${n}`),
    toBeLessThan: (n: number) => check((actual as number) < n, `to be < ${n}`),
    toBeLessThanOrEqual: (n: number) => check((actual as number) <= n, `to be <= ${n}`),
    toThrow: (e?: RegExp | string) => {
      let thrown: unknown = null;
      let did = false;
      try {
        (actual as Fn)();
      } catch (x) {
        did = true;
        thrown = x;
      }
      const text = thrown instanceof Error ? thrown.message : String(thrown);
      check(
        did && (e === undefined || (typeof e === 'string' ? text.includes(e) : e.test(text))),
        `to throw ${e === undefined ? '' : String(e)}`,
      );
    },
  };
}

export function expect(actual: unknown, label?: string) {
  return Object.assign(matchers(actual, false, label), { not: matchers(actual, true, label) });
}

/** Runs every collected case; print gets one line per case and the summary. Returns the failures. */
export function runCollected(print: (line: string) => void): number {
  let failed = 0;
  for (const c of cases) {
    try {
      c.fn();
      print(`ok ${c.name}`);
    } catch (e) {
      failed++;
      print(`not ok ${c.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  print(`${cases.length - failed} passed, ${failed} failed`);
  return failed;
}
