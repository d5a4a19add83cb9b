// The core's unit tests inside the static engine: the same test files, bundled with a small
// vitest shim, lowered to ES5 and compiled to bytecode exactly as dist/tsinit is, run by the
// same host.c. A core change that Duktape cannot run fails here. The same bundle also runs on
// V8, and both runs must report the same tests passing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importStaticBuild } from '../helpers/build.ts';
import { ROOT } from '../helpers/pid1.ts';

const RUNNER = resolve(ROOT, 'dist/build/static/tsinit-unit');
const V8_BUNDLE = resolve(ROOT, 'dist/build/static/unit-v8.js');
let engine: { status: number | null; lines: string[] };
let v8: { status: number | null; lines: string[] };

beforeAll(async () => {
  process.chdir(ROOT); // the build resolves its inputs from the checkout
  const build = await importStaticBuild();
  const alias = { vitest: resolve(ROOT, 'test/static/vitest-shim.ts') };
  await build.buildStatic('linux-x64', {
    entry: 'test/static/engine-entry.ts',
    output: 'dist/build/static/tsinit-unit',
    alias,
  });
  mkdirSync(resolve(ROOT, 'dist/build/static'), { recursive: true });
  writeFileSync(V8_BUNDLE, await build.bundleEs5('test/static/v8-entry.ts', alias));
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, lines: `${r.stdout}${r.stderr}`.trimEnd().split('\n') };
  };
  engine = run(RUNNER, []);
  v8 = run(process.execPath, [V8_BUNDLE]);
}, 300_000);

describe("the core's unit tests inside Duktape", () => {
  it('all pass, and the engine says so in its summary', () => {
    const failures = engine.lines.filter((l) => l.startsWith('not ok'));
    expect(failures).toEqual([]);
    expect(engine.lines.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
    expect(engine.status).toBe(0);
  });

  it("are the same tests, with the same results, as on V8 (plus the bridge's own check)", () => {
    expect(v8.status).toBe(0);
    const shared = engine.lines.filter((l) => !l.includes('[static]') && l.startsWith('ok'));
    expect(shared).toEqual(v8.lines.filter((l) => l.startsWith('ok')));
    expect(shared.length).toBeGreaterThan(500); // the table tests alone are hundreds
    expect(engine.lines.filter((l) => l.includes('[static]') && l.startsWith('ok'))).toHaveLength(7);
  });

  it('a failing test fails the engine run: the runner can fail', async () => {
    const build = await importStaticBuild();
    await build.buildStatic('linux-x64', {
      entry: 'test/static/failing-entry.ts',
      output: 'dist/build/static/tsinit-unit-failing',
      alias: {},
    });
    const r = spawnSync(resolve(ROOT, 'dist/build/static/tsinit-unit-failing'), { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(
      'not ok a deliberately wrong test > expects a Map to hold what it does not: expected "a" to be "b"\n0 passed, 1 failed\n',
    );
  }, 120_000);
});
