// dist/tsinit-linux-arm64 (the static build) under qemu-user, as PID 1 of a fresh pid namespace: the demo and a
// smoke subset of test/core.test.ts (exit codes, forwarding incl. realtime signals, reaping). Where qemu-user itself limits what can be shown, a comment says how.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { expectForwarded } from '../helpers/expect.ts';
import { cleanEnv, fixture, killAll, ROOT, runPid1, runToEnd, signalNumber } from '../helpers/pid1.ts';
import { childrenOf, parseStatLine, SLOW_WAIT_MS, stateOf, untilWithin } from '../helpers/proc.ts';
import { ARM64_BIN, ELF_MACHINE, elfMachine, NODE_VERSION, PKG, RELEASE } from '../release/artifacts.ts';

const QEMU_TSINIT = resolve(ROOT, 'test/arm64/qemu-tsinit');
const arm64 = { init: QEMU_TSINIT };

afterEach(killAll);

const scratch = mkdtempSync(resolve(tmpdir(), 'tsinit-arm64-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The emulated executable is slower: a longer deadline than the native suites'. */
const until = untilWithin(SLOW_WAIT_MS);

describe('the arm64 executable', () => {
  it('is a static aarch64 ELF that names its version, host and architecture', () => {
    expect(elfMachine(ARM64_BIN)).toBe(ELF_MACHINE['linux-arm64']);
    expect(execFileSync('file', ['-b', ARM64_BIN], { encoding: 'utf8' })).toMatch(/statically linked/);
    const out = execFileSync(QEMU_TSINIT, ['--version'], { encoding: 'utf8' });
    expect(out).toBe(`tsinit version ${PKG.version} - duktape 2.7.0 musl static linux-arm64\n`);
  });

  it('the Node build for arm64 runs under qemu too and names its Node', () => {
    const out = execFileSync('qemu-aarch64-static', ['-L', '/', resolve(RELEASE, 'tsinit-node-linux-arm64'), '--version'], { encoding: 'utf8' });
    expect(out).toBe(`tsinit version ${PKG.version} - node v${NODE_VERSION} linux-arm64\n`);
  });

  it('the one in the release tarball is the same program and runs', () => {
    const dir = resolve(scratch, 'release');
    mkdirSync(dir);
    execFileSync('tar', ['-xzf', resolve(RELEASE, 'tsinit-linux-arm64.tar.gz'), '-C', dir]);
    const out = execFileSync(QEMU_TSINIT, ['--version'], { encoding: 'utf8', env: cleanEnv({ TSINIT_ARM64: resolve(dir, 'tsinit') }) });
    expect(out).toMatch(/ linux-arm64\n$/);
  });
});

describe('exit codes as PID 1 under qemu', () => {
  it.each([0, 3, 42, 255])('passes exit %i through, and the child sees tsinit as its parent, pid 1', async (code) => {
    const r = await runToEnd(['--', 'sh', '-c', `echo "ppid $PPID"; exit ${code}`], arm64);
    expect(r.stdout, r.stderr).toBe('ppid 1\n');
    expect(r.code).toBe(code);
    expect(r.stderr).toBe('');
  });

  it.each([['TERM', 143], ['KILL', 137], ['USR1', 138]])('killed by SIG%s → %i', async (sig, code) => {
    const r = await runToEnd(['--', 'sh', '-c', `kill -${sig} $$`], arm64);
    expect(r.code).toBe(code);
  });

  it('the child leads its own process group under tsinit, pid 1', async () => {
    const r = await runToEnd(['--', 'cat', '/proc/self/stat'], arm64);
    // cat is the child itself: /proc/self/stat is its own, as the namespace numbers it.
    const { pid, ppid, pgrp } = parseStatLine(r.stdout);
    expect(ppid).toBe(1);
    expect(pgrp).toBe(pid);
  });

  it('the child starts with every signal at default and an empty mask, even when tsinit inherited them ignored', () => {
    // posix_spawnattr_t, sigset_t and the spawn flags cross node:ffi as raw memory: a wrong
    // size or offset on aarch64 would show here. grep is the child: its own status is checked.
    const out = execFileSync('bash', ['-c', `trap '' PIPE XFSZ HUP INT USR2; unshare --pid --fork --mount-proc "$INIT" -- grep -E '^Sig(Ign|Blk):' /proc/self/status`],
      { env: cleanEnv({ INIT: QEMU_TSINIT }), encoding: 'utf8' });
    expect(out).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  it.each([
    ['nonexistent-command-xyz', 127, "tsinit: error: command not found: 'nonexistent-command-xyz': No such file or directory (ENOENT)\n"],
    ['/etc/passwd', 126, "tsinit: error: cannot run '/etc/passwd': Permission denied (EACCES)\n"],
  ])('%s: exit %i and tsinit\'s one line (the spawn reports a failed exec through a pipe, which qemu-user emulates)', async (command, code, stderr) => {
    const r = await runToEnd(['--', command], arm64);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr });
  });
});

// Signals 34 and 35 are not sent: qemu-user 7.2 keeps host SIGRTMIN for itself (it arrives in
// the guest as glibc's internal SIGCANCEL, after which the emulated node stops serving its event
// loop) and maps host 35..64 to guest 33..62, so guest 63 and 64 cannot be reached from outside.
// 36..64 arrive in tsinit as 34..62, it forwards them, and qemu maps them back on the way out.
const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGABRT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGTERM', 'SIGWINCH', 'SIGRTMIN+2', 'SIGRTMIN+6', 'SIGRTMIN+16', 'SIGRTMAX'];

describe('forwarding as PID 1 under qemu', () => {
  it('standard and realtime signals reach the child and its group, one at a time', async () => {
    const r = runPid1(['--', fixture('signals.py'), '--grandchild'], arm64);
    await r.waitFor(/READY/, 20_000);
    await r.waitFor(/GRANDCHILD/);
    for (const sig of SIGNALS) {
      await r.signal(sig);
      await expectForwarded(r, sig, ['child', 'grandchild']);
    }
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
  });

  it('a burst all arrives', async () => {
    const r = runPid1(['--', fixture('signals.py')], arm64);
    await r.waitFor(/READY/, 20_000);
    const init = await r.initPid();
    for (const sig of SIGNALS) process.kill(init, signalNumber(sig));
    for (const sig of SIGNALS) await expectForwarded(r, sig);
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
  });

  it('SIGTERM: the child handles it, tsinit exits with its code', async () => {
    const r = runPid1(['--', 'sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo READY; while :; do sleep 0.05; done'], arm64);
    await r.waitFor(/READY/, 20_000);
    await r.signal('SIGTERM');
    await r.waitFor(/got TERM/);
    expect((await r.exit()).code).toBe(7);
  });
});

describe('reaping under qemu', () => {
  it('as PID 1: every orphan is reaped', async () => {
    const r = runPid1(['-vv', '--', 'sh', '-c', 'for i in $(seq 20); do sh -c "sleep 0.2 &"; done; echo READY; exec sleep 100'], arm64);
    await r.waitFor(/READY/, 20_000);
    const init = await r.initPid();
    // Only the main child (sleep 100) may remain below tsinit: no orphan, no zombie.
    await until('orphans reaped', () => {
      const kids = childrenOf(init);
      return kids.length === 1 && stateOf(kids[0]!) !== 'Z';
    });
    // The log line of the last reap may still be on its way through the pipe: wait for it.
    await until('20 reaped lines', () => (r.stderr.match(/reaped pid/g) ?? []).length >= 20);
    process.kill(init, 'SIGTERM');
    expect((await r.exit()).code).toBe(143);
  });

  it('not PID 1: qemu-user 7.2 refuses the subreaper prctl; tsinit warns once and runs the child', async () => {
    // qemu's prctl emulation does not know PR_SET_CHILD_SUBREAPER and returns EINVAL without
    // calling the kernel. On arm64 hardware the core tests' subreaper case applies.
    const r = await runToEnd(['--', 'sh', '-c', 'exit 5'], { ...arm64, pid1: false });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('tsinit: warning: not PID 1 and cannot become a subreaper: Invalid argument (EINVAL); orphans will not be reaped\n');
  });
});

describe('the demo under qemu', () => {
  it('reaps its 5 orphans, delivers SIGTERM, exits with the workload\'s code', async () => {
    // test/demo.mjs runs ./dist/tsinit: give it a folder where that is the arm64 one under qemu.
    const dir = resolve(scratch, 'demo');
    mkdirSync(resolve(dir, 'dist'), { recursive: true });
    symlinkSync(QEMU_TSINIT, resolve(dir, 'dist/tsinit'));
    const demo = spawn(process.execPath, [resolve(ROOT, 'test/demo.mjs')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    demo.stdout.on('data', (d) => { out += d; });
    demo.stderr.on('data', (d) => { out += d; });
    const stuck = setTimeout(() => demo.kill('SIGKILL'), 45_000); // the demo has no deadline of its own
    const code = await new Promise((res) => demo.on('close', res));
    clearTimeout(stuck);
    expect(out).toContain('orphans reaped by tsinit:     5 of 5');
    expect(out).toContain('SIGTERM reached the workload: yes');
    expect(out).toContain('workload finished cleanly:    yes');
    expect(code, out).toBe(0);
  });
});
