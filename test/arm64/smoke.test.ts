// What is arm64's own: the executables are aarch64 ELF files that name their platform, the one in
// the release tarball runs, the demo runs, and what qemu-user changes. The PID 1 scenarios
// themselves (exit codes, forwarding, reaping, shutdown, the terminal) are the pid1 project's,
// which `npm run test:arm64` runs again with TSINIT_BIN=test/arm64/qemu-tsinit.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, ROOT, runToEnd } from '../helpers/pid1.ts';
import { ARM64_BIN, ELF_MACHINE, elfMachine, NODE_VERSION, PKG, RELEASE } from '../release/artifacts.ts';

const QEMU_TSINIT = resolve(ROOT, 'test/arm64/qemu-tsinit');
const arm64 = { init: QEMU_TSINIT };

afterEach(killAll);

const scratch = mkdtempSync(resolve(tmpdir(), 'tsinit-arm64-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the arm64 executable', () => {
  it('is a static aarch64 ELF that names its version, host and architecture', () => {
    expect(elfMachine(ARM64_BIN)).toBe(ELF_MACHINE['linux-arm64']);
    expect(execFileSync('file', ['-b', ARM64_BIN], { encoding: 'utf8' })).toMatch(/statically linked/);
    const out = execFileSync(QEMU_TSINIT, ['--version'], { encoding: 'utf8' });
    expect(out).toBe(`tsinit version ${PKG.version} - duktape 2.7.0 musl static linux-arm64\n`);
  });

  it('the Node build for arm64 runs under qemu too and names its Node', () => {
    const out = execFileSync(
      'qemu-aarch64-static',
      ['-L', '/', resolve(RELEASE, 'tsinit-node-linux-arm64'), '--version'],
      { encoding: 'utf8' },
    );
    expect(out).toBe(`tsinit version ${PKG.version} - node v${NODE_VERSION} linux-arm64\n`);
  });

  it('the one in the release tarball is the same program and runs', () => {
    const dir = resolve(scratch, 'release');
    mkdirSync(dir);
    execFileSync('tar', ['-xzf', resolve(RELEASE, 'tsinit-linux-arm64.tar.gz'), '-C', dir]);
    const out = execFileSync(QEMU_TSINIT, ['--version'], {
      encoding: 'utf8',
      env: cleanEnv({ TSINIT_ARM64: resolve(dir, 'tsinit') }),
    });
    expect(out).toMatch(/ linux-arm64\n$/);
  });
});

describe('what qemu-user changes', () => {
  it('not PID 1: qemu-user 7.2 refuses the subreaper prctl; tsinit warns once and runs the child', async () => {
    // qemu's prctl emulation does not know PR_SET_CHILD_SUBREAPER and returns EINVAL without
    // calling the kernel. On arm64 hardware the pid1 project's subreaper cases apply.
    const r = await runToEnd(['--', 'sh', '-c', 'exit 5'], { ...arm64, pid1: false });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(
      'tsinit: warning: not PID 1 and cannot become a subreaper: Invalid argument (EINVAL); orphans will not be reaped\n',
    );
  });
});

describe('the demo under qemu', () => {
  it("reaps its 5 orphans, delivers SIGTERM, exits with the workload's code", async () => {
    // test/demo.mjs runs ./dist/tsinit: give it a folder where that is the arm64 one under qemu.
    const dir = resolve(scratch, 'demo');
    mkdirSync(resolve(dir, 'dist'), { recursive: true });
    symlinkSync(QEMU_TSINIT, resolve(dir, 'dist/tsinit'));
    const demo = spawn(process.execPath, [resolve(ROOT, 'test/demo.mjs')], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    demo.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    demo.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const stuck = setTimeout(() => demo.kill('SIGKILL'), 45_000); // the demo has no deadline of its own
    const code = await new Promise((res) => demo.on('close', res));
    clearTimeout(stuck);
    expect(out).toContain('orphans reaped by tsinit:     5 of 5');
    expect(out).toContain('SIGTERM reached the workload: yes');
    expect(out).toContain('workload finished cleanly:    yes');
    expect(code, out).toBe(0);
  });
});
