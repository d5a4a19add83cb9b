// Hostile or unusual surroundings for dist/tsinit: NODE_OPTIONS meant to hijack it, no /proc,
// a read-only root, an unprivileged user (uid 65534) in its own user and pid namespace, an
// empty environment (no PATH), bytes that are not UTF-8, 100 KB values, and argument lists at
// the kernel's limit and over it (E2BIG). Each asserts exact outcomes, not "it did not crash".
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectForwarded } from '../helpers/expect.ts';
import {
  cleanEnv,
  DirectRun,
  fixture,
  HOST,
  killAll,
  Pid1Run,
  runPid1,
  runToEnd,
  signalNumber,
  TIMER_SLACK_MS,
} from '../helpers/pid1.ts';
import { descendantsOf, fdsOf, isRunning, readStat, statusLine, zombiesUnder } from '../helpers/proc.ts';
import { fixtureFor65534, hfixture, record, until, usePrivateInit } from './harness.ts';

const init = usePrivateInit();
afterEach(killAll);

describe('NODE_OPTIONS meant for the application', () => {
  const child = ['sh', '-c', 'printf "%s" "${NODE_OPTIONS-unset}"; exit 3'];
  const normalize = (s: string): string => s.replace(/\d+/g, 'N');

  it.each([
    ['--require /nonexistent'],
    ['--inspect=0.0.0.0:9229'],
    ['--max-old-space-size=1'],
    [
      '--require /nonexistent --inspect=0.0.0.0:9229 --max-old-space-size=1 --no-disable-sigusr1 --abort-on-uncaught-exception',
    ],
  ])('NODE_OPTIONS=%s: tsinit behaves exactly as without it, the child gets it unchanged', async (value) => {
    const without = await runToEnd(['-vv', '--', ...child], { init: init.bin, env: cleanEnv() });
    const withIt = await runToEnd(['-vv', '--', ...child], { init: init.bin, env: cleanEnv({ NODE_OPTIONS: value }) });
    expect(without.code).toBe(3);
    expect(without.stdout).toBe('unset');
    expect(withIt.code).toBe(3);
    expect(withIt.stdout).toBe(value);
    expect(normalize(withIt.stderr)).toBe(normalize(without.stderr));
  });
});

/** How long the SIGKILL passes after a drain's deadline go on at most (README, the drain: "a 2 s grace"). */
const KILL_GRACE_MS = 2000;

/** tsinit as PID 1 of a pid namespace whose mount namespace has no /proc at all. */
function runWithoutProc(args: string[]): Pid1Run {
  return new Pid1Run(
    'unshare',
    ['--mount', '--pid', '--fork', 'sh', '-c', 'umount -l /proc && exec "$@"', 'sh', init.bin, ...args],
    {},
  );
}

describe('no /proc', () => {
  it('spawns, forwards, reaps, drains the group and exits with the exact status at the deadline, never kill(-1)', async () => {
    const script = `[ -e /proc/self ] && { echo "PROC IS THERE"; exit 99; }
      for i in 1 2 3 4 5; do sh -c 'sleep 0.1 &'; done
      (setsid sh -c 'trap "" TERM; exec sleep 100' &)
      exec ${fixture('signals.py')} 4`;
    const r = runWithoutProc(['-v', '--drain', '1s', '--', 'sh', '-c', script]);
    await r.waitFor(/^READY/m);
    const pid = await r.initPid();
    // What tsinit cannot see, the host can: the orphans are reaped, a TERM-proof one stays.
    await until('the five orphans reaped', () => zombiesUnder(pid).length === 0 && descendantsOf(pid).length === 2);
    process.kill(pid, 'SIGUSR2');
    process.kill(pid, signalNumber('SIGRTMIN+3'));
    await expectForwarded(r, 'SIGUSR2');
    await expectForwarded(r, 'SIGRTMIN+3');
    const t0 = performance.now();
    r.closeStdin();
    const e = await r.exit();
    const ms = performance.now() - t0;
    expect(e.code, r.output).toBe(4);
    expect(r.stderr).toMatch(/draining unknown number of process\(es\) for up to 1s/);
    // The TERM-proof one is outside the child's group: nothing can name it, and as PID 1 the
    // exit ends it; the line says what was sent (the group is empty) and nothing more.
    expect(r.stderr).toMatch(
      /warning: no process of the child's group left to SIGKILL \(no \/proc: the rest ends with PID 1\): still running at the end of the 1s drain/,
    );
    expect(r.stderr).not.toMatch(/kill -1/);
    expect(ms).toBeGreaterThanOrEqual(950); // the TERM-proof process held it until the drain's end
    expect(ms).toBeLessThan(1000 + TIMER_SLACK_MS);
    record(
      'no /proc',
      `orphans reaped (zombies 0), USR2 and RTMIN+3 forwarded; TERM-proof leftover outside the group ended with PID 1 at the 1 s drain: exit 4 after ${ms.toFixed(0)} ms`,
    );
  });

  it("subreaper mode: at the 1 s deadline the group's TERM-proof member is SIGKILLed; a setsid daemon outside the group cannot be named and outlives tsinit, never signalled (no kill(-1))", async () => {
    const files = mkdtempSync(join(init.dir, 'noproc-'));
    const script = `[ -e /proc/self ] && { echo "PROC IS THERE"; exit 99; }
      (trap '' TERM; exec sleep 100) </dev/null >/dev/null 2>&1 & echo "MEMBER $!"
      setsid sh -c 'trap "echo TERM >> ${files}/daemon" TERM; while :; do sleep 0.1; done' </dev/null >/dev/null 2>&1 & echo "DAEMON $!"
      read x; exit 4`;
    // unshare without --fork execs the shell, which execs tsinit: the process spawned is tsinit, not PID 1.
    const r = new DirectRun(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        'umount -l /proc && exec "$@"',
        'sh',
        init.bin,
        '--drain',
        '1s',
        '--',
        'sh',
        '-c',
        script,
      ],
      {},
    );
    const member = Number((await r.waitFor(/^MEMBER (\d+)$/m))[1]);
    const daemon = Number((await r.waitFor(/^DAEMON (\d+)$/m))[1]);
    try {
      await until('the daemon runs below tsinit', () => readStat(daemon)?.pgrp === daemon);
      const t0 = performance.now();
      r.closeStdin();
      const e = await r.exit();
      const ms = performance.now() - t0;
      expect(e.code, r.output).toBe(4);
      // The member ignores TERM: only the deadline's SIGKILL to the group ends it.
      expect(isRunning(member), `the group's member ${member} outlived the drain\n${r.output}`).toBe(false);
      // Not PID 1, tsinit cannot see when the group is empty: its SIGKILL passes run to the end
      // of their 2 s grace (README, the drain), then it exits.
      expect(ms).toBeGreaterThanOrEqual(1000 + KILL_GRACE_MS - 50);
      expect(ms).toBeLessThan(1000 + KILL_GRACE_MS + TIMER_SLACK_MS);
      // The daemon in its own session: nothing names it without /proc, and nothing reached it.
      expect(isRunning(daemon)).toBe(true);
      expect(existsSync(join(files, 'daemon')) ? readFileSync(join(files, 'daemon'), 'latin1') : '').toBe('');
      record(
        'no /proc, subreaper',
        `TERM-proof group member SIGKILLed at the 1 s deadline, exit 4 after the 2 s grace: ${ms.toFixed(0)} ms; setsid daemon untouched`,
      );
    } finally {
      for (const p of [-daemon, member])
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
    }
  });

  it("the group already got the stop signal: the drain sends it no second TERM; the deadline's SIGKILL ends the rest", async () => {
    // The main child takes 0.5 s to exit after its TERM, so a second TERM from the drain would
    // reach the member apart from the first and be counted on its own.
    const member = 'sh -c \'trap "echo MEMBER TERM" TERM; echo MEMBER READY; while :; do sleep 0.1; done\' &';
    const script = `[ -e /proc/self ] && { echo "PROC IS THERE"; exit 99; }
      trap 'sleep 0.5; exit 3' TERM
      ${member}
      while :; do sleep 0.1; done`;
    const r = runWithoutProc(['--drain', '1s', '--', 'sh', '-c', script]);
    await r.waitFor(/^MEMBER READY$/m);
    const pid = await r.initPid();
    process.kill(pid, 'SIGTERM');
    const e = await r.exit();
    expect(e.code, r.output).toBe(3);
    expect((r.stdout.match(/^MEMBER TERM$/gm) ?? []).length, r.output).toBe(1);
  });

  it('argv: the static host passes the bytes it was given exactly; the Node host falls back to its decoding (U+FFFD); the environment stays exact', () => {
    const out = spawnSync('unshare', [
      '--mount',
      '--pid',
      '--fork',
      'bash',
      '-c',
      `umount -l /proc && exec env -i $'X=\\xff' "$0" -- /bin/sh -c 'printf "%s|%s" "$1" "$X"' sh $'a\\xffb'`,
      init.bin,
    ]);
    expect(out.status, out.stderr.toString()).toBe(0);
    // The static host spawns from main()'s own argv; Node has only its decoded strings without /proc.
    const arg = HOST === 'static' ? [0x61, 0xff, 0x62] : [0x61, 0xef, 0xbf, 0xbd, 0x62];
    expect(out.stdout.equals(Buffer.from([...arg, 0x7c, 0xff])), out.stdout.toString('hex')).toBe(true);
  });
});

describe('roots with the properties of Alpine and distroless/static, made here (no image pulled)', () => {
  /**
   * A root holding only tsinit (as /tsinit) and extra files, run as PID 1 with chroot in a new
   * pid and mount namespace (its /proc mounted inside): the child is sigtally, which prints
   * READY, answers SIGPWR with its tally and exits 7 when stdin ends.
   */
  async function runInRoot(
    root: string,
    app: string,
  ): Promise<{ code: number | null; stdout: string; stderr: string; usr2: number }> {
    copyFileSync(init.bin, join(root, 'tsinit'));
    chmodSync(join(root, 'tsinit'), 0o755);
    mkdirSync(join(root, 'proc'), { recursive: true });
    const r = new Pid1Run(
      'unshare',
      [
        '--pid',
        '--fork',
        '--mount',
        'sh',
        '-c',
        'mount -t proc proc "$0/proc" && exec chroot "$0" /tsinit -- "$1" 7',
        root,
        app,
      ],
      {},
    );
    if (HOST === 'node') return { ...(await r.exit()), stdout: r.stdout, stderr: r.stderr, usr2: 0 };
    await r.waitFor(/^READY \d+$/m);
    const pid = await r.initPid();
    process.kill(pid, 'SIGUSR2');
    await until('the child tallied SIGUSR2', () => {
      process.kill(pid, 'SIGPWR');
      return /^MARK .*"12": 1/m.test(r.stdout);
    });
    r.closeStdin();
    const e = await r.exit();
    return { ...e, stdout: r.stdout, stderr: r.stderr, usr2: 1 };
  }

  it("musl only (Alpine's userland: musl's loader and a program linked against it, no glibc): the static build runs it, forwards and exits with its status; the Node build cannot start", async () => {
    const root = mkdtempSync(join(init.dir, 'musl-root-'));
    mkdirSync(join(root, 'lib'));
    copyFileSync('/usr/lib/x86_64-linux-musl/libc.so', join(root, 'lib/ld-musl-x86_64.so.1'));
    chmodSync(join(root, 'lib/ld-musl-x86_64.so.1'), 0o755);
    execFileSync('musl-gcc', ['-O2', '-Wall', '-Werror', '-o', join(root, 'app'), hfixture('sigtally.c')]);
    expect(readFileSync(join(root, 'app')).includes(Buffer.from('/lib/ld-musl-x86_64.so.1'))).toBe(true);
    expect(existsSync(join(root, 'lib64')) || existsSync(join(root, 'lib/x86_64-linux-gnu'))).toBe(false);
    const out = await runInRoot(root, '/app');
    if (HOST === 'static')
      expect({ code: out.code, stderr: out.stderr, usr2: out.usr2 }).toEqual({ code: 7, stderr: '', usr2: 1 });
    else expect(out.code, out.stderr).toBe(127); // chroot: no glibc loader for the Node executable
  });

  it('no shell and no libc (distroless/static: a static program and nothing else): the static build runs it, forwards and exits with its status', async () => {
    const root = mkdtempSync(join(init.dir, 'static-root-'));
    execFileSync('musl-gcc', ['-static', '-O2', '-Wall', '-Werror', '-o', join(root, 'app'), hfixture('sigtally.c')]);
    const out = await runInRoot(root, '/app');
    expect(existsSync(join(root, 'bin/sh'))).toBe(false);
    if (HOST === 'static')
      expect({ code: out.code, stderr: out.stderr, usr2: out.usr2 }).toEqual({ code: 7, stderr: '', usr2: 1 });
    else expect(out.code, out.stderr).toBe(127);
  });
});

describe('a read-only root', () => {
  /**
   * Every mount of the new mount namespace, / first, made read-only before tsinit starts.
   * The shell then prints its own write_bytes and execs tsinit in the same process. That count
   * is not 0: a child's I/O counts are added to its parent's when the parent reaps it. Here the
   * shell reaps its `awk` and `mount` children. On an ext4 with no journal, a child's first exec
   * of a binary whose atime is over a day old dirties an inode block, which adds 4096 to
   * write_bytes. That happens before that child's own remount takes effect, and it happens on
   * a freshly booted machine. So the test asserts that nothing is added after the exec.
   */
  const READ_ONLY =
    'for m in $(awk \'{print $2}\' /proc/self/mounts); do mount -o remount,bind,ro "$m" 2>/dev/null; done; ' +
    'while read -r k v; do [ "$k" = write_bytes: ] && echo "EXEC_WRITE_BYTES $v"; done < /proc/$$/io; exec "$@"';

  it('runs, forwards and reaps; tsinit writes nothing (write_bytes unchanged from its exec, no file open for writing)', async () => {
    const probe =
      'for d in / /tmp /var/tmp /dev/shm /run /root; do touch "$d/.tsinit-probe" 2>/dev/null && echo "WRITABLE $d"; done; echo PROBED';
    const r = new Pid1Run(
      'unshare',
      [
        '--pid',
        '--fork',
        '--mount-proc',
        'sh',
        '-c',
        READ_ONLY,
        'sh',
        init.bin,
        '-vv',
        '--',
        'sh',
        '-c',
        `${probe}; sh -c 'sleep 0.1 &'; exec ${fixture('signals.py')} 6`,
      ],
      {},
    );
    await r.waitFor(/^READY/m);
    expect(r.stdout).toMatch(/^PROBED$/m);
    expect(r.stdout).not.toMatch(/WRITABLE/);
    const pid = await r.initPid();
    await until('the orphan reaped', () => r.stderr.includes('reaped pid') && zombiesUnder(pid).length === 0);
    process.kill(pid, 'SIGUSR2');
    await expectForwarded(r, 'SIGUSR2');
    const atExec = /^EXEC_WRITE_BYTES (\d+)$/m.exec(r.stdout)?.[1];
    expect(atExec, 'the write_bytes the shell printed before its exec').toMatch(/^\d+$/);
    expect(readFileSync(`/proc/${pid}/io`, 'latin1')).toMatch(new RegExp(`^write_bytes: ${atExec}$`, 'm'));
    for (const [fd, target] of fdsOf(pid)) {
      const flags = parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1'))![1]!, 8);
      if (target.startsWith('/') && !target.startsWith('/dev/')) expect(flags & 3, `fd ${fd} -> ${target}`).toBe(0);
    }
    r.closeStdin();
    expect((await r.exit()).code).toBe(6);
  });
});

describe('an unprivileged user (uid 65534) in its own user and pid namespace', () => {
  it('is PID 1 there with no capability, and still spawns, forwards, reaps and exits with the status', async () => {
    const r = new Pid1Run(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        'unshare',
        '--user',
        '--map-user=65534',
        '--map-group=65534',
        '--pid',
        '--fork',
        '--mount-proc',
        init.bin,
        '-v',
        '--',
        'sh',
        '-c',
        `echo "ID $(id -u) $(id -g) PPID $PPID"; for i in 1 2 3; do sh -c 'sleep 0.1 &'; done; exec ${fixtureFor65534(init, fixture('signals.py'))} 8`,
      ],
      {},
    );
    await r.waitFor(/^READY/m);
    expect(r.stdout).toMatch(/^ID 65534 65534 PPID 1$/m);
    const pid = await r.initPid();
    expect(statusLine(pid, 'Uid')).toBe('65534\t65534\t65534\t65534');
    expect(statusLine(pid, 'Gid')).toBe('65534\t65534\t65534\t65534');
    expect(statusLine(pid, 'CapEff')).toBe('0000000000000000');
    expect(statusLine(pid, 'NSpid')).toMatch(/^\d+\t1$/);
    await until('the orphans reaped', () => zombiesUnder(pid).length === 0 && descendantsOf(pid).length === 1);
    process.kill(pid, 'SIGUSR2');
    process.kill(pid, signalNumber('SIGRTMIN+6'));
    await expectForwarded(r, 'SIGUSR2');
    await expectForwarded(r, 'SIGRTMIN+6');
    r.closeStdin();
    expect((await r.exit()).code).toBe(8);
    expect(r.stderr).not.toMatch(/warning|error/);
    record(
      'uid 65534 in user+pid namespace',
      'setpriv --reuid=65534 … unshare --user --map-user=65534 --pid --fork --mount-proc works on this kernel; tsinit PID 1, CapEff 0; orphans reaped, USR2 and RTMIN+6 forwarded, exit 8',
    );
  });
});

describe('a nearly empty environment', () => {
  it('no PATH: /bin and /usr/bin are searched, /sbin and the working directory never; the child gets the empty environment', async () => {
    const dir = join(init.dir, 'cwd-only');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'only-here'), '#!/bin/sh\necho HERE\n');
    chmodSync(join(dir, 'only-here'), 0o755);
    const inBin = await runToEnd(['--', 'true'], { init: init.bin, env: {}, pid1: false });
    expect(inBin.code).toBe(0);
    const environ = await runToEnd(['--', 'cat', '/proc/self/environ'], { init: init.bin, env: {}, pid1: false });
    expect(environ.stdout).toBe('');
    const sbin = await runToEnd(['--', 'sysctl', '-n', 'kernel.pid_max'], { init: init.bin, env: {}, pid1: false });
    expect(sbin.code).toBe(127);
    expect(sbin.stderr).toBe("tsinit: error: command not found: 'sysctl': No such file or directory (ENOENT)\n");
    const cwd = await runToEnd(['--', 'only-here'], { init: init.bin, env: {}, pid1: false, cwd: dir });
    expect(cwd.code).toBe(127);
    // An empty PATH is one empty entry, which musl and glibc (like every shell) read as "the working directory".
    const empty = await runToEnd(['--', 'only-here'], { init: init.bin, env: { PATH: '' }, pid1: false, cwd: dir });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('HERE\n');
    // As PID 1 the same holds (unshare finds tsinit by its absolute path).
    const pid1 = await runToEnd(['--', 'sh', '-c', 'exit 5'], { init: init.bin, env: {} });
    expect(pid1.code).toBe(5);
  });

  it("no PATH: the static build also searches /usr/local/bin (musl's default /usr/local/bin:/bin:/usr/bin), the Node build does not (glibc's /bin:/usr/bin)", () => {
    const dir = join(init.dir, 'usr-local-bin');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'only-in-local'), '#!/bin/sh\necho HERE\n');
    chmodSync(join(dir, 'only-in-local'), 0o755);
    // A mount namespace of its own puts the script in /usr/local/bin for this run only.
    const out = spawnSync(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        'mount --bind "$1" /usr/local/bin && [ -x /usr/local/bin/only-in-local ] || exit 99; exec env -i "$2" -- only-in-local',
        'sh',
        dir,
        init.bin,
      ],
      { encoding: 'latin1' },
    );
    if (HOST === 'static') {
      expect({ code: out.status, stdout: out.stdout, stderr: out.stderr }).toEqual({
        code: 0,
        stdout: 'HERE\n',
        stderr: '',
      });
    } else {
      expect({ code: out.status, stdout: out.stdout, stderr: out.stderr }).toEqual({
        code: 127,
        stdout: '',
        stderr: "tsinit: error: command not found: 'only-in-local': No such file or directory (ENOENT)\n",
      });
    }
  });
});

/** Runs argv with env through execve(2) with exact bytes (exec-bytes.py): Node's spawn would re-encode them. */
function execBytes(dir: string, file: string, argv: Buffer[], env: Buffer[]): ReturnType<typeof spawnSync> {
  const spec = join(dir, `spec-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const b64 = (b: Buffer): string => b.toString('base64');
  writeFileSync(spec, JSON.stringify({ file: b64(Buffer.from(file)), argv: argv.map(b64), env: env.map(b64) }));
  return spawnSync(hfixture('exec-bytes.py'), [spec], { maxBuffer: 64 << 20, timeout: 30_000 });
}

/** n random bytes, none of them NUL (which cannot be in an argument). */
function noNul(n: number): Buffer {
  const b = randomBytes(n);
  for (let i = 0; i < n; i++) if (b[i] === 0) b[i] = 1 + (i % 255);
  return b;
}

describe('arguments and environment as bytes', () => {
  it.each([
    ['run directly', false],
    ['as PID 1', true],
  ])('non-UTF-8, empty and 100 KB values reach the child byte for byte (%s)', (_name, pid1) => {
    const big = noNul(100 * 1024);
    const bigEnv = Buffer.concat([Buffer.from('BIG='), noNul(100 * 1024)]);
    const args = [
      Buffer.from('/bin/sh'),
      Buffer.from('-c'),
      Buffer.from('cat /proc/$$/cmdline; printf "\\0--\\0"; cat /proc/$$/environ'),
      Buffer.from('sh'),
      big,
      Buffer.alloc(0),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('ü'),
      Buffer.alloc(0),
    ];
    const env = [
      bigEnv,
      Buffer.from('EMPTY='),
      Buffer.from([0x58, 0x3d, 0xc3, 0x28]),
      Buffer.from([0xfe, 0x3d, 0x31]),
      Buffer.from('PATH=/usr/bin:/bin'),
    ];
    const prefix = pid1 ? ['/usr/bin/unshare', '--pid', '--fork', '--mount-proc', init.bin] : [init.bin];
    const out = execBytes(
      init.dir,
      prefix[0]!,
      [...prefix, '--', ...args.map((a) => a)].map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(a))),
      env,
    );
    expect(out.status, out.stderr.toString()).toBe(0);
    const z = Buffer.from([0]);
    const expected = Buffer.concat([
      ...args.flatMap((a) => [a, z]),
      Buffer.from('\0--\0'),
      ...env.flatMap((e) => [e, z]),
    ]);
    expect(
      (out.stdout as Buffer).equals(expected),
      `got ${(out.stdout as Buffer).length} bytes, expected ${expected.length}`,
    ).toBe(true);
  });
});

describe('argument lists at the kernel limit', () => {
  /** The kernel's budget for argv+envp strings plus pointers: a quarter of RLIMIT_STACK, within 128 KiB..6 MiB. */
  function argBudget(): number {
    const m = /^Max stack size\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'))!;
    const stack = m[1] === 'unlimited' ? Infinity : Number(m[1]);
    return Math.max(Math.min(((8 << 20) / 4) * 3, stack / 4), 128 << 10);
  }

  /**
   * The child's argv is tsinit's minus tsinit's own words, with the same environment, so it is
   * always smaller than what the kernel has just accepted for tsinit, except when the command
   * is a #! script: the kernel then adds the interpreter and the script's path again. A long
   * script path opens a window where tsinit's own exec fits and the child's does not.
   */
  function setup(): {
    script: string;
    bin: string;
    window: number;
    sizes: (env: Buffer[]) => { tsinitOver: number; childOver: number };
  } {
    let dir = join(init.dir, 'e2big');
    for (let i = 0; i < 14; i++) dir = join(dir, `${String(i).padStart(2, '0')}${'d'.repeat(198)}`);
    mkdirSync(dir, { recursive: true });
    const script = join(dir, 'child.sh');
    const interp = '/bin/sh';
    writeFileSync(script, `#!${interp}\necho "RAN $#"\n`);
    chmodSync(script, 0o755);
    const bin = init.bin;
    const budget = argBudget();
    const sizes = (env: Buffer[]): { tsinitOver: number; childOver: number } => {
      const envBytes = env.reduce((n, e) => n + e.length + 1, 0);
      // execve: the file name, then every argv and envp string with its NUL, plus one pointer each.
      const tsinitUsed = (bin.length + 1) * 2 + 3 + (script.length + 1) + envBytes;
      const childUsed = (script.length + 1) * 2 + (interp.length + 1) + envBytes;
      return {
        tsinitOver: tsinitUsed - (budget - (3 + env.length) * 8),
        childOver: childUsed - (budget - (1 + env.length) * 8),
      };
    };
    return { script, bin, sizes, window: script.length + interp.length - 2 * bin.length - 19 };
  }

  /** An environment padded so that tsinit's own exec is `over` bytes past the limit (negative: under). */
  function padded(s: ReturnType<typeof setup>, over: number): Buffer[] {
    // Values of 100 000 bytes (a single string may not exceed 128 KiB), the last one trimmed to fit.
    const env: Buffer[] = [Buffer.from('PATH=/usr/bin:/bin')];
    const pad = (i: number, n: number): Buffer => Buffer.from(`P${String(i).padStart(2, '0')}=${'x'.repeat(n)}`);
    while (s.sizes([...env, pad(env.length, 100_000)]).tsinitOver < over) env.push(pad(env.length, 100_000));
    const last = pad(env.length, 0);
    const room = over - s.sizes([...env, last]).tsinitOver;
    env.push(pad(env.length, room));
    if (s.sizes(env).tsinitOver !== over)
      throw new Error(`padding missed: ${s.sizes(env).tsinitOver} instead of ${over}`);
    return env;
  }

  it('just under it (for tsinit and for the child): the child runs', () => {
    const s = setup();
    const env = padded(s, -s.window - 16);
    expect(s.sizes(env).childOver).toBeLessThan(0);
    const out = execBytes(
      init.dir,
      s.bin,
      [s.bin, '--', s.script].map((a) => Buffer.from(a)),
      env,
    );
    expect(out.status, out.stderr.toString()).toBe(0);
    expect(out.stdout.toString()).toBe('RAN 0\n');
  });

  it('over it for the child only: E2BIG is one clear line and exit 126', () => {
    const s = setup();
    expect(s.window).toBeGreaterThan(2000);
    const env = padded(s, -Math.floor(s.window / 2));
    expect(s.sizes(env).childOver).toBeGreaterThan(0);
    const out = execBytes(
      init.dir,
      s.bin,
      [s.bin, '--', s.script].map((a) => Buffer.from(a)),
      env,
    );
    expect(out.stderr.toString()).toBe(`tsinit: error: cannot run '${s.script}': Argument list too long (E2BIG)\n`);
    expect(out.status).toBe(126);
    record(
      'E2BIG',
      `script path ${s.script.length} bytes, window ${s.window} bytes: tsinit's exec ${s.sizes(env).tsinitOver} bytes under the ${argBudget()}-byte budget, the child's ${s.sizes(env).childOver} over: exit 126`,
    );
  });

  it('over it for tsinit itself: the exec that would start tsinit fails in the caller (E2BIG); tsinit never runs', () => {
    const s = setup();
    const env = padded(s, 1);
    const out = execBytes(
      init.dir,
      s.bin,
      [s.bin, '--', s.script].map((a) => Buffer.from(a)),
      env,
    );
    expect(out.stderr.toString()).toMatch(/Argument list too long/);
    expect(out.status).toBe(200 + 7);
    const fits = execBytes(
      init.dir,
      s.bin,
      [s.bin, '--', s.script].map((a) => Buffer.from(a)),
      padded(s, 0),
    );
    expect(fits.status).toBe(126); // at exactly the limit tsinit starts (and its child, bigger, cannot)
  });
});

describe('the namespace checks themselves', () => {
  it('the no-/proc and read-only setups really take /proc and write access away', () => {
    const noProc = spawnSync('unshare', [
      '--mount',
      '--pid',
      '--fork',
      'sh',
      '-c',
      'umount -l /proc && ls -A /proc | wc -l',
    ]);
    expect(noProc.stdout.toString().trim()).toBe('0');
    const ro = spawnSync('unshare', ['--mount', 'sh', '-c', 'mount -o remount,bind,ro / && touch /.tsinit-probe']);
    expect(ro.status).not.toBe(0);
    expect(ro.stderr.toString()).toMatch(/Read-only file system/);
  });

  it("runPid1's namespace is tsinit's own: it is PID 1 there, and that /proc shows its processes and no others (not the runner)", async () => {
    // The glob is expanded by sh itself: no process is started to list them.
    const r = runPid1(['--', 'sh', '-c', 'echo PIDS /proc/[0-9]*; echo "PID1 $(readlink /proc/1/exe)"; read x || :'], {
      init: init.bin,
    });
    const listed = (await r.waitFor(/^PIDS (.*)$/m))[1]!.split(' ').map((p) => Number(p.slice('/proc/'.length)));
    expect((await r.waitFor(/^PID1 (.*)$/m))[1]).toBe(init.bin);
    const pid = await r.initPid();
    // NSpid: the pid in each namespace from the runner's down; the last one is the inner one.
    const nspids = (p: number): number[] => statusLine(p, 'NSpid').split('\t').map(Number);
    expect(nspids(pid)).toHaveLength(nspids(process.pid).length + 1);
    expect(nspids(pid).at(-1)).toBe(1);
    expect(readlinkSync(`/proc/${pid}/ns/pid`)).not.toBe(readlinkSync('/proc/self/ns/pid'));
    // What the host sees of the namespace (tsinit and everything below it) is exactly what /proc lists inside.
    const seen = [pid, ...descendantsOf(pid).map((d) => d.pid)].map((p) => nspids(p).at(-1));
    expect(listed.sort((a, b) => a - b)).toEqual(seen.sort((a, b) => a! - b!));
    expect(listed).toHaveLength(2); // tsinit (1) and sh, whose number depends on how many threads the host started first
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
  });
});
