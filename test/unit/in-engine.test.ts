// Every unit test file that tests the core alone also runs inside the static engine: it must be
// imported by test/static/unit-tests.ts, which test/static/engine.test.ts bundles for Duktape.
// A file is about the core alone when all it imports is vitest (the shim stands in), the core
// and the plain data of test/helpers/usage-errors.ts. The others are listed with their reason.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const UNIT = resolve(ROOT, 'test/unit');

/** The unit files that run on Node only, and why. */
const NODE_ONLY: Record<string, string> = {
  'boundaries.test.ts': 'reads the sources with node:fs to hold the import boundaries',
  'bridge.test.ts': "reads host.c and libc.ts with node:fs and TypeScript's parser",
  'in-engine.test.ts': 'reads the test files with node:fs (this file)',
};

/** What a file may import and still run inside Duktape. */
const ENGINE_IMPORTS: readonly RegExp[] = [
  /^vitest$/,
  /^\.\.\/\.\.\/src\/core\/[a-z-]+\.ts$/,
  /^\.\.\/helpers\/usage-errors\.ts$/,
];

function importsOf(path: string): string[] {
  return [...readFileSync(path, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

const unitFiles = readdirSync(UNIT)
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
const inEngine = new Set(
  importsOf(resolve(ROOT, 'test/static/unit-tests.ts'))
    .map((spec) => /^\.\.\/unit\/([a-z-]+\.test\.ts)$/.exec(spec)?.[1])
    .filter((f) => f !== undefined),
);
const isCoreOnly = (file: string) =>
  importsOf(resolve(UNIT, file)).every((spec) => ENGINE_IMPORTS.some((re) => re.test(spec)));

describe('the unit files inside the static engine', () => {
  it.each(unitFiles.filter(isCoreOnly))(
    '%s tests the core alone and is imported by test/static/unit-tests.ts',
    (file) => {
      expect(inEngine.has(file), `add "import '../unit/${file}';" to test/static/unit-tests.ts`).toBe(true);
    },
  );

  it('every other unit file is listed as Node only, with its reason, and does import what Duktape lacks', () => {
    expect(unitFiles.filter((f) => !isCoreOnly(f))).toEqual(Object.keys(NODE_ONLY).sort());
  });

  it('the engine runs no file that is not in test/unit', () => {
    expect([...inEngine].filter((f) => !unitFiles.includes(f))).toEqual([]);
  });
});
