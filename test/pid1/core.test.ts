// What every init owes its child, against dist/tsinit: spawn it clean, pass its exit status
// on, forward signals, reap orphans. As PID 1 of a fresh pid namespace and, where the
// behaviour is the same, run directly (subreaper mode).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { formatSignal } from '../../src/core/signals.ts';
import { expectErrorLine, expectForwarded, expectNotForwarded, grandchildPid, settle } from '../helpers/expect.ts';
import {
  cleanEnv,
  EMULATED,
  fixture,
  HOST,
  killAll,
  NOT_THROUGH_QEMU,
  PLATFORM,
  runInit,
  runPid1,
  runToEnd,
  signalNumber,
  TSINIT,
} from '../helpers/pid1.ts';
import { childrenOf, fdsOf, inMask, readStat, stateOf, until } from '../helpers/proc.ts';

afterEach(killAll);

/**
 * As PID 1 and, but under qemu-user, as a subreaper: qemu-user 7.2 answers the subreaper prctl
 * with EINVAL without calling the kernel, so there tsinit warns and cannot reap orphans
 * (test/arm64/smoke.test.ts holds that warning).
 */
const MODES = [
  { name: 'as PID 1', pid1: true },
  ...(EMULATED ? [] : ([{ name: 'not PID 1 (subreaper)', pid1: false }] as const)),
] as const;

describe.each(MODES)('exit codes $name', ({ pid1 }) => {
  it.each([0, 1, 3, 42, 126, 127, 128, 255])('passes exit %i through', async (code) => {
    const r = await runToEnd(['--', 'sh', '-c', `exit ${code}`], { pid1 });
    expect(r.code).toBe(code);
    expect(r.stderr).toBe('');
  });

  it.each([
    ['KILL', 137],
    ['SEGV', 139],
    ['TERM', 143],
    ['ABRT', 134],
    ['USR1', 138],
  ])('killed by SIG%s → %i', async (sig, code) => {
    const r = await runToEnd(['--', 'sh', '-c', `kill -${sig} $$`], { pid1 });
    expect(r.code).toBe(code);
  });
});

describe('failures before the child runs: one line, documented code', () => {
  it.each([
    [['nonexistent-command-xyz'], 127, "command not found: 'nonexistent-command-xyz'"],
    [['/nonexistent/dir/cmd'], 127, "cannot run '/nonexistent/dir/cmd': No such file or directory (ENOENT)"],
    [[fixture('not-executable.sh')], 126, 'Permission denied (EACCES)'],
    [['/tmp'], 126, "cannot run '/tmp': Permission denied (EACCES)"],
    [[fixture('no-shebang')], 126, 'Exec format error (ENOEXEC)'],
    [['--bogus', 'true'], 2, "unknown option '--bogus'"],
    [[], 2, 'no command given'],
    [['--drain', '10x', 'true'], 2, "invalid value for --drain: '10x'"],
  ])('%j → %i', async (args, code, message) => {
    expectErrorLine(await runToEnd(args), code, message);
  });

  it('--help and --version exit 0 and write stdout only', async () => {
    const help = await runToEnd(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tsinit [options] [--] command [args...]');
    expect(help.stderr).toBe('');
    const version = await runToEnd(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(
      new RegExp(
        `^tsinit version \\d+\\.\\d+\\.\\d+ - ${HOST === 'node' ? 'node v26\\.\\d+\\.\\d+' : 'duktape 2\\.7\\.0 musl static'} ${PLATFORM}\n$`,
      ),
    );
  });
});

describe('option parsing stops at the command', () => {
  it.each([
    [['sh', '-c', 'echo "$@"', 'sh', '-v', '--help', '--drain', 'x']],
    [['--', 'sh', '-c', 'echo "$@"', 'sh', '-v', '--help', '--drain', 'x']],
  ])('%j', async (args) => {
    const r = await runToEnd(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('-v --help --drain x\n');
  });
});

describe.each(MODES)('the child starts clean $name', ({ pid1 }) => {
  it('leads its own process group, tsinit is not in it', async () => {
    const r = runInit(['--', fixture('report.sh')], { pid1 });
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
    const m = /PID (\d+) PPID (\d+) PGRP (\d+) SID (\d+)/.exec(r.stdout);
    expect(m, r.output).not.toBeNull();
    const [, pid, ppid, pgrp] = m!.map(Number);
    expect(pgrp).toBe(pid);
    if (pid1) expect(ppid).toBe(1);
    else expect(ppid).toBe(r.proc.pid);
  });

  it('starts with every signal at its default action and an empty mask', async () => {
    // grep is the child itself here: its /proc/self/status is what tsinit handed over at exec.
    const r = await runToEnd(['--', 'grep', '-E', '^Sig(Ign|Blk):', '/proc/self/status'], { pid1 });
    expect(r.stdout).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  it('starts with SIGPIPE, SIGXFSZ and glibc 32/33 at default even when tsinit was started with them ignored', () => {
    // trap '' in bash ignores them for what bash execs: tsinit inherits them ignored.
    const inner = `${pid1 ? 'unshare --pid --fork --mount-proc ' : ''}"$TSINIT" -- grep -E '^Sig(Ign|Blk):' /proc/self/status`;
    const out = execFileSync('bash', ['-c', `trap '' PIPE XFSZ HUP INT USR2; ${inner}`], {
      env: cleanEnv({ TSINIT }),
    }).toString();
    expect(out).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  it('keeps the working directory', async () => {
    const r = await runToEnd(['--', '/bin/pwd', '-P'], { pid1, cwd: '/usr/share' });
    expect(r.stdout).toBe('/usr/share\n');
  });

  it('passes argv byte for byte, invalid UTF-8 and empty strings included', () => {
    const script = `exec ${pid1 ? 'unshare --pid --fork --mount-proc ' : ''}"$TSINIT" -- /bin/sh -c 'cat /proc/$$/cmdline' x $'\\xff\\xfe' '' $'a\\x80b' 'ü' ' '`;
    const out = execFileSync('bash', ['-c', script], { env: cleanEnv({ TSINIT }) });
    const expected = Buffer.concat([
      Buffer.from('/bin/sh\0-c\0cat /proc/$$/cmdline\0x\0'),
      Buffer.from([0xff, 0xfe, 0]),
      Buffer.from('\0a'),
      Buffer.from([0x80]),
      Buffer.from('b\0ü\0 \0'),
    ]);
    expect(out.equals(expected), out.toString('latin1')).toBe(true);
  });

  // Not under qemu: test/arm64/qemu-tsinit is a shell script, which adds PWD and orders the
  // environment its own way before tsinit sees it.
  if (!EMULATED)
    it('passes the environment byte for byte, NODE_OPTIONS included and without effect on tsinit', () => {
      const script = `exec env -i $'A=\\xff\\xfe' B= 'NODE_OPTIONS=--require /nonexistent --inspect=9229' PATH=/usr/bin:/bin ${pid1 ? 'unshare --pid --fork --mount-proc ' : ''}"$TSINIT" -- cat /proc/self/environ`;
      const r = spawnSync('bash', ['-c', script], { env: cleanEnv({ TSINIT }) });
      const expected = Buffer.concat([
        Buffer.from('A='),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('\0B=\0NODE_OPTIONS=--require /nonexistent --inspect=9229\0PATH=/usr/bin:/bin\0'),
      ]);
      expect(r.stdout.equals(expected), r.stdout.toString('latin1')).toBe(true);
      expect(r.stderr.toString()).toBe('');
      expect(r.status).toBe(0);
    });

  it('leaks no descriptor of its own, passes on those it inherited above 2', () => {
    // Inherited: a file (5), a pipe's write end (7), one far up (40). The same shell without
    // tsinit gives the expected set (ls's own directory descriptor, 3, is in both).
    const setup = 'exec 5</dev/null 7> >(cat >/dev/null) 40</etc/hostname;';
    const list = (prefix: string) => {
      const out = execFileSync('bash', ['-c', `${setup} exec ${prefix} ls -l /proc/self/fd`], {
        env: cleanEnv({ TSINIT }),
      }).toString();
      return [...out.matchAll(/ (\d+) -> /g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    };
    const expected = list('');
    expect(expected).toEqual(expect.arrayContaining([0, 1, 2, 3, 5, 7, 40]));
    expect(list(`${pid1 ? 'unshare --pid --fork --mount-proc ' : ''}"$TSINIT" --`)).toEqual(expected);
  });
});

describe.each(MODES)('stdio reaches the child untouched $name', ({ pid1 }) => {
  it('binary data in, the same out, EOF ends it', async () => {
    const data = randomBytes(1 << 20);
    const r = await runToEnd(['--', 'cat'], { pid1, input: data });
    expect(r.code).toBe(0);
    expect(Buffer.from(r.stdout, 'latin1').equals(data)).toBe(true);
  });

  it('a closed reader gives the writer SIGPIPE (141)', () => {
    const script = `${pid1 ? 'unshare --pid --fork --mount-proc ' : ''}"$TSINIT" -- yes | head -c 4; echo " \${PIPESTATUS[0]}"`;
    const out = execFileSync('bash', ['-c', script], { env: cleanEnv({ TSINIT }) }).toString();
    expect(out).toBe('y\ny\n 141\n');
  });
});

/** What tsinit forwards: 1..64 but KILL and STOP (never caught), CHLD (its own cue) and glibc's 32 and 33. */
const FORWARDED = Array.from({ length: 64 }, (_, i) => formatSignal(i + 1)).filter(
  (name) => !['SIGKILL', 'SIGSTOP', 'SIGCHLD', 'SIG32', 'SIG33', ...NOT_THROUGH_QEMU].includes(name),
);

/**
 * How long Node's inspector would need to open its socket after a SIGUSR1 (it does so on a
 * thread of its own, not in the event loop a marker could follow): nothing to wait for.
 */
const INSPECTOR_GRACE_MS = 300;

describe.each(MODES)('forwarding $name', ({ pid1 }) => {
  it('every catchable signal, 1..31 and realtime 34..64, reaches the child and its group', async () => {
    const r = runInit(['--', fixture('signals.py'), '--grandchild'], { pid1 });
    await r.waitFor(/READY/);
    await r.waitFor(/GRANDCHILD/);
    for (const sig of FORWARDED) {
      await r.signal(sig);
      await expectForwarded(r, sig, ['child', 'grandchild']);
    }
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
  });

  it('a burst of different signals all arrive', async () => {
    const r = runInit(['--', fixture('signals.py')], { pid1 });
    await r.waitFor(/READY/);
    const burst = [
      'SIGHUP',
      'SIGUSR1',
      'SIGUSR2',
      'SIGALRM',
      'SIGTERM',
      'SIGURG',
      'SIGWINCH',
      'SIGPWR',
      'SIGRTMIN',
      'SIGRTMIN+6',
      'SIGRTMIN+16',
      'SIGRTMAX',
    ];
    const init = await r.initPid();
    for (const sig of burst) process.kill(init, signalNumber(sig));
    for (const sig of burst) await expectForwarded(r, sig);
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
  });

  it('-c forwards to the child alone', async () => {
    const r = runInit(['-c', '--', fixture('signals.py'), '--grandchild'], { pid1 });
    await r.waitFor(/READY/);
    await r.waitFor(/GRANDCHILD/);
    await r.signal('SIGUSR2');
    await r.signal('SIGHUP');
    await expectForwarded(r, 'SIGHUP');
    await expectForwarded(r, 'SIGUSR2');
    // A forward to the group would have reached the grandchild before this marker does.
    await settle(r, { pid: await grandchildPid(r), who: 'grandchild' });
    expectNotForwarded(r, 'SIGHUP', 'grandchild');
    expectNotForwarded(r, 'SIGUSR2', 'grandchild');
    r.closeStdin();
    await r.exit();
    // Nor later. (The drain may TERM the grandchild after the child exits: only HUP and USR2 matter here.)
    expectNotForwarded(r, 'SIGHUP', 'grandchild');
    expectNotForwarded(r, 'SIGUSR2', 'grandchild');
  });

  it('SIGUSR1 is forwarded and never opens a socket in tsinit', async () => {
    const r = runInit(['--', fixture('signals.py')], { pid1 });
    await r.waitFor(/READY/);
    const init = await r.initPid();
    for (let i = 0; i < 20; i++) process.kill(init, 'SIGUSR1');
    await expectForwarded(r, 'SIGUSR1');
    await new Promise((res) => setTimeout(res, INSPECTOR_GRACE_MS));
    // fds 0..2 are the test's own socketpairs (child_process stdio); nothing else may be a socket.
    expect([...fdsOf(init)].filter(([fd, target]) => fd > 2 && target.startsWith('socket:'))).toEqual([]);
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
  });
});

describe.each(MODES)('reaping $name', ({ pid1 }) => {
  it('every orphan is re-parented to tsinit and reaped by it, and logged at -vv', async () => {
    const r = runInit(
      [
        '-vv',
        '--',
        'sh',
        '-c',
        'for i in $(seq 50); do sh -c "sleep 1 & echo ORPHAN \\$!"; done; echo READY; exec sleep 100',
      ],
      { pid1 },
    );
    await r.waitFor(/READY/);
    const init = await r.initPid();
    // Their parents exited at once: the 50 sleeps are tsinit's children now, beside the main child.
    const orphans = [...r.stdout.matchAll(/^ORPHAN (\d+)$/gm)].map((m) => Number(m[1]));
    expect(orphans).toHaveLength(50);
    await until('orphans re-parented to tsinit', () => childrenOf(init).length === 51);
    // Not PID 1 the pids printed are the host's: each one's parent is tsinit.
    if (!pid1) for (const o of orphans) expect(readStat(o)?.ppid ?? init, `orphan ${o}`).toBe(init);
    // Only the main child (sleep 100) may remain below tsinit: no orphan, no zombie; not PID 1,
    // only tsinit could have reaped a child of tsinit.
    await until('orphans reaped', () => {
      const kids = childrenOf(init);
      return kids.length === 1 && stateOf(kids[0]!) !== 'Z';
    });
    if (!pid1) for (const o of orphans) expect(readStat(o), `orphan ${o}`).toBeNull();
    // The log lines travel through a pipe: wait for them rather than count what arrived so far.
    await until('50 reaps logged', () => (r.stderr.match(/reaped pid/g) ?? []).length >= 50);
    await r.signal('SIGTERM');
    expect((await r.exit()).code).toBe(143);
  });
});

// Not under qemu: the signals are SIGSEGV and SIGFPE (NOT_THROUGH_QEMU), and gdb would stop qemu, not tsinit.
if (!EMULATED)
  describe('fault signals', () => {
    it('sent with kill, each one is forwarded, again and again; a real fault in tsinit ends it instead of spinning', async () => {
      const r = runPid1([
        '--',
        'bash',
        '-c',
        'for s in SEGV BUS FPE ILL; do trap "echo got $s" $s; done; echo READY; while :; do sleep 0.05; done',
      ]);
      await r.waitFor(/READY/);
      const init = await r.initPid();
      let n = 0;
      for (const sig of ['SIGSEGV', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGSEGV'] as const) {
        process.kill(init, sig);
        n++;
        await until(`${n} fault signals forwarded`, () => (r.stdout.match(/^got /gm) ?? []).length === n);
      }
      expect(r.stdout.match(/^got \w+$/gm)).toEqual([
        'got SEGV',
        'got SEGV',
        'got BUS',
        'got FPE',
        'got ILL',
        'got SEGV',
      ]);
      // A real fault: gdb points tsinit's main thread at address 0. A handler that returns
      // would make it fault forever at 100% CPU; a one-shot one lets the kernel end it.
      execFileSync('gdb', ['-p', String(init), '-batch', '-ex', 'set $pc = 0', '-ex', 'detach'], {
        stdio: 'ignore',
        timeout: 30_000,
      });
      const e = await r.exit(10_000);
      // unshare re-raises its child's fatal signal on itself.
      expect(e.signal).toBe('SIGSEGV');
    }, 60_000);
  });

// Not under qemu: qemu-user catches every host signal for its guest from its own start, so /proc
// shows SIGTERM held before the emulated tsinit has run a line, and a SIGTERM sent then meets the
// guest's default disposition (seen: exit 0 at a 5 ms delay, in one run of two).
if (!EMULATED)
  describe('a stop request during start-up', () => {
    it('SIGTERM sent right after exec is not lost as PID 1 (docker run then docker stop)', async () => {
      for (const delayMs of [0, 2, 5, 10, 15, 20, 30]) {
        const r = runPid1(['--', 'sleep', '10']);
        const init = await r.initPid();
        // From the moment tsinit holds SIGTERM: the static host blocks every signal in main()
        // before anything else; Node catches it in its PlatformInit, ~1-2 ms after exec. Before
        // that no process can hold anything, and PID 1 drops it.
        await until('SIGTERM held (caught or blocked)', () => holdsSignal(init, 'SIGTERM'), 5000);
        await new Promise((res) => setTimeout(res, delayMs));
        process.kill(init, 'SIGTERM');
        const t0 = Date.now();
        const e = await r.exit();
        expect({ delayMs, code: e.code }).toEqual({ delayMs, code: 143 });
        expect(Date.now() - t0).toBeLessThan(3000);
      }
    });
  });

describe("-w (tini's warn on reap)", () => {
  it.each([
    ['-w', ['-w'], {}],
    ['TSINIT_WARN_ON_REAP=1', [], { TSINIT_WARN_ON_REAP: '1' }],
  ])('%s: a warning line per reaped orphan, none without it', async (_name, args, vars) => {
    const work = ['--', 'sh', '-c', 'sh -c "sleep 0.1 &"; sleep 0.5'];
    const r = await runToEnd([...args, ...work], { env: cleanEnv(vars) });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^tsinit: warning: reaped pid \d+$/m);
    const plain = await runToEnd(work);
    expect(plain.stderr).toBe('');
  });
});

// Not under qemu: see MODES.
if (!EMULATED)
  describe('subreaper mode', () => {
    it('says so at -v, once', async () => {
      const r = await runToEnd(['-v', 'true'], { pid1: false });
      expect(r.stderr.match(/child subreaper/g)).toHaveLength(1);
      const p = await runToEnd(['-v', 'true'], { pid1: true });
      expect(p.stderr).not.toMatch(/subreaper/);
    });

    it("accepts tini's -g and -s", async () => {
      const r = await runToEnd(['-g', '-s', '--', 'sh', '-c', 'exit 9'], { pid1: false });
      expect(r.code).toBe(9);
    });
  });

/**
 * True when pid holds sig: catches it (SigCgt: Node's handlers), blocks it (SigBlk: the static
 * host blocks every signal in main()), or waits for it in sigtimedwait, during which the
 * kernel shows the waited signals as unblocked (/proc/<pid>/syscall: 128 on x86-64).
 */
function holdsSignal(pid: number, sig: string): boolean {
  try {
    // Before its exec the process is unshare's child, which has TERM blocked on its own account.
    if (readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === 'unshare') return false;
    if (inMask(pid, 'SigCgt', signalNumber(sig)) || inMask(pid, 'SigBlk', signalNumber(sig))) return true;
    return readFileSync(`/proc/${pid}/syscall`, 'latin1').split(' ')[0] === '128';
  } catch {
    return false;
  }
}
