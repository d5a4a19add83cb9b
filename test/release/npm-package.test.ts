// The npm package @tsinit/node (bin `tsinit`), the Node-host build: the bundle alone, for images
// that already have Node 26. The release's tarball installed into a temp folder like a user
// would, then run as PID 1 on the pinned Node. What differs from the executable is pinned here:
// NODE_OPTIONS applies to it. (The `tsinit` package, the static executable, is npm-static.test.ts.)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectForwarded } from '../helpers/expect.ts';
import { fixture, killAll, runPid1, runToEnd, TSINIT } from '../helpers/pid1.ts';
import { ensureRelease, NODE_VERSION, NPM_TARBALLS, PKG, RELEASE } from './artifacts.ts';

const scratch = mkdtempSync(resolve(tmpdir(), 'tsinit-npm-'));
const PREFIX = resolve(scratch, 'prefix');
const BIN = resolve(PREFIX, 'node_modules/.bin/tsinit');
const PRELOAD = resolve(scratch, 'preload.cjs');
let tarball = '';

// An image with Node 26: the pinned Node first on PATH, nothing else of the repository.
const NODE26_PATH = [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);
const env26 = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: NODE26_PATH,
  HOME: scratch,
  ...extra,
});

beforeAll(() => {
  if (!process.version.startsWith('v26.'))
    throw new Error(`the tests must run on the pinned Node 26 (got ${process.version}): use npm run`);
  ensureRelease();
  tarball = resolve(RELEASE, NPM_TARBALLS.node);
  mkdirSync(PREFIX);
  execFileSync(
    'npm',
    ['install', '--prefix', PREFIX, '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HOME: scratch } },
  );
  writeFileSync(PRELOAD, 'process.stderr.write(`PRELOAD pid=${process.pid}\\n`);\n');
}, 120_000);
afterEach(killAll);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the @tsinit/node tarball', () => {
  it('holds the bin and package.json only: no node_modules, no executable, a few tens of KB', () => {
    const entries = execFileSync('tar', ['-tvzf', tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => ({ size: Number(l.split(/\s+/)[2]), path: l.split(/\s+/).at(-1)! }));
    const paths = entries.map((e) => e.path).sort();
    expect(paths).toContain('package/package.json');
    expect(paths).toEqual(['package/package.json', 'package/tsinit.cjs']);
    const manifest = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    ) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: '@tsinit/node',
      version: PKG.version,
      bin: { tsinit: 'tsinit.cjs' },
      engines: { node: '>=26.9.0' },
    });
    const bin = entries.find((e) => e.path === 'package/tsinit.cjs')!;
    expect(bin.size).toBeGreaterThan(10_000);
    expect(bin.size).toBeLessThan(100_000);
    expect(statSync(tarball).size).toBeLessThan(100_000);
  });

  it('installs a tsinit command: the bundle with a #!/usr/bin/env node line, executable', () => {
    expect(readlinkSync(BIN)).toBe('../@tsinit/node/tsinit.cjs');
    const text = readFileSync(BIN, 'utf8');
    expect(text.split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(statSync(BIN).mode & 0o111).toBe(0o111);
  });
});

describe('tsinit from the npm package, on Node 26 from PATH', () => {
  it('--version names the Node it runs on', async () => {
    const r = await runToEnd(['--version'], { init: BIN, env: env26(), pid1: false });
    expect(r.stdout).toBe(`tsinit version ${PKG.version} - node v${NODE_VERSION} linux-x64\n`);
    expect(r.stderr).toBe('');
  });

  it.each([0, 7, 255])('as PID 1 passes exit %i through; nothing on stderr (no ExperimentalWarning)', async (code) => {
    const r = await runToEnd(['--', 'sh', '-c', `echo "ppid $PPID"; exit ${code}`], { init: BIN, env: env26() });
    expect(r.stdout).toBe('ppid 1\n');
    expect(r.code).toBe(code);
    expect(r.stderr).toBe('');
  });

  it("at -vv logs its work and still no warning of Node's", async () => {
    const r = await runToEnd(['-vv', '--', 'true'], { init: BIN, env: env26() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^tsinit: spawned pid/m);
    expect(r.stderr).not.toMatch(/Warning|FFI|experimental/i);
    expect(
      r.stderr
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('tsinit: ')),
    ).toBe(true);
  });

  it('killed by SIGTERM → 143', async () => {
    const r = await runToEnd(['--', 'sh', '-c', 'kill -TERM $$'], { init: BIN, env: env26() });
    expect(r.code).toBe(143);
  });

  it("forwards standard and realtime signals to the child's group", async () => {
    const r = runPid1(['--', fixture('signals.py'), '--grandchild'], { init: BIN, env: env26() });
    await r.waitFor(/READY/);
    await r.waitFor(/GRANDCHILD/);
    for (const sig of [
      'SIGHUP',
      'SIGINT',
      'SIGUSR1',
      'SIGUSR2',
      'SIGTERM',
      'SIGWINCH',
      'SIGRTMIN',
      'SIGRTMIN+6',
      'SIGRTMAX',
    ]) {
      await r.signal(sig);
      await expectForwarded(r, sig, ['child', 'grandchild']);
    }
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('reaps every orphan as PID 1', async () => {
    const r = runPid1(
      ['-vv', '--', 'sh', '-c', 'for i in $(seq 20); do sh -c "sleep 0.1 &"; done; sleep 0.5; echo DONE'],
      { init: BIN, env: env26() },
    );
    await r.waitFor(/DONE/);
    expect((await r.exit()).code).toBe(0);
    expect((r.stderr.match(/reaped pid/g) ?? []).length).toBeGreaterThanOrEqual(20);
  });
});

describe('NODE_OPTIONS: the difference from the executable', () => {
  it("the environment's NODE_OPTIONS runs inside the npm tsinit (pid 1), never inside the executable", async () => {
    const opts = { NODE_OPTIONS: `--require=${PRELOAD}` };
    const npm = await runToEnd(['--', 'sh', '-c', 'exit 0'], { init: BIN, env: env26(opts) });
    expect(npm.code).toBe(0);
    expect(npm.stderr).toBe('PRELOAD pid=1\n');
    const sea = await runToEnd(['--', 'sh', '-c', 'exit 0'], { init: TSINIT, env: env26(opts) });
    expect(sea.code).toBe(0);
    expect(sea.stderr).toBe('');
  });

  it("so an app's NODE_OPTIONS that does not resolve for the init stops it before the app starts", async () => {
    const opts = { NODE_OPTIONS: '--require=/app/tracing.js' };
    const npm = await runToEnd(['--', 'sh', '-c', 'echo app ran'], { init: BIN, env: env26(opts) });
    expect(npm.code).toBe(1);
    expect(npm.stdout).toBe('');
    expect(npm.stderr).toContain("Cannot find module '/app/tracing.js'");
    const sea = await runToEnd(['--', 'sh', '-c', 'echo app ran'], { init: TSINIT, env: env26(opts) });
    expect(sea.stdout).toBe('app ran\n');
  });

  it("the guide's way: NODE_OPTIONS set after the -- reaches the app only", async () => {
    const r = await runToEnd(
      ['--', 'env', `NODE_OPTIONS=--require=${PRELOAD}`, 'node', '-e', 'console.log("app pid " + process.pid)'],
      { init: BIN, env: env26() },
    );
    expect(r.code).toBe(0);
    const app = /^app pid (\d+)$/m.exec(r.stdout);
    expect(app, r.stdout).not.toBeNull();
    expect(r.stderr).toBe(`PRELOAD pid=${app![1]}\n`);
    expect(app![1]).not.toBe('1');
  });
});

describe('on a Node without node:ffi', () => {
  it('fails with one line naming the Node and the version needed, exit 1', () => {
    // The machine's own Node (v20 here): the first node on PATH that is not the pinned one.
    const lacksFfi = (n: string): boolean => {
      try {
        const [major, minor] = execFileSync(n, ['--version'], { encoding: 'utf8' }).slice(1).split('.').map(Number);
        return major! < 26 || (major === 26 && minor! < 9);
      } catch {
        return false; // no node in that folder
      }
    };
    const old = (process.env.PATH ?? '')
      .split(delimiter)
      .map((d) => resolve(d, 'node'))
      .find(lacksFfi);
    if (old === undefined)
      throw new Error("no Node older than 26.9 on PATH to show the failure with (the machine's v20 is expected)");
    const version = execFileSync(old, ['--version'], { encoding: 'utf8' }).trim();
    const r = spawnSync(BIN, ['--', 'true'], {
      env: { PATH: `${dirname(old)}${delimiter}/usr/bin${delimiter}/bin` },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`tsinit: error: node:ffi is not available in node ${version} (tsinit needs Node >= 26.9)\n`);
  });
});
