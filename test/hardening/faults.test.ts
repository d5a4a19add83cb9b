// Faults around the child, with dist/tsinit as PID 1: the child exits while signals are being
// forwarded, ignores SIGTERM (with and without --kill-after), stops and is continued; tsinit
// itself gets fault signals (SEGV, BUS) sent with kill in back-to-back bursts, or faults for
// real in one of its threads; and tsinit starts with stdin, stdout or stderr closed, on
// /dev/null or on a broken pipe.
// Each asserts the exact exit status and that tsinit neither dies nor hangs.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { expectForwarded, expectInitAnswers, reports, settle } from '../helpers/expect.ts';
import {
  fixture,
  killAll,
  Pid1Run,
  runInit,
  runPid1,
  signalNumber,
  TIMER_SLACK_MS,
  type Run,
} from '../helpers/pid1.ts';
import { descendantsOf, isRunning, readStat, stateOf } from '../helpers/proc.ts';
import { hfixture, record, sleep, until, usePrivateInit } from './harness.ts';

const init = usePrivateInit();
afterEach(killAll);

/** How long tsinit is watched beside a child that ignores TERM: nothing should end either, and no event marks that. */
const IGNORED_TERM_WATCH_MS = 1000;

/** Sends the kinds round-robin to pid, as fast as the event loop allows, until the run ends. */
async function floodUntilExit(r: Run, pid: number, kinds: readonly number[]): Promise<number> {
  // The start time tells tsinit apart from a later process that reuses its pid.
  const born = readStat(pid)?.startTime;
  let exited = false as boolean; // set by the callback below, which narrowing cannot see
  void r.exited.then(() => {
    exited = true;
  });
  let sent = 0;
  while (!exited && readStat(pid)?.startTime === born) {
    for (let i = 0; i < 25; i++) {
      try {
        process.kill(pid, kinds[sent % kinds.length]);
        sent++;
      } catch {
        return sent; // ESRCH: tsinit is gone
      }
    }
    await sleep(0);
  }
  return sent;
}

/** The lines tsinit may write at -vv while its child dies under a stream of signals. */
const EXPECTED_LINE =
  /^tsinit: ((single-child )?drain=.*|SIG\w+(\+\d+)? forwarded to child \d+|passing inherited descriptors.*|spawned pid \d+: .*|SIG\w+(\+\d+)? forwarded to (group \d+|descendants)|kill\(-?\d+, SIG\w+(\+\d+)?\): errno 3|child \d+ exited with 7|waiting for every other descendant to exit \(--wait-all\)|draining \d+ process\(es\) for up to .*|reaped pid \d+|paged out .*|exiting with 7)$/;

describe('the child exits while signals are being forwarded', () => {
  const KINDS = [
    'SIGUSR2',
    'SIGUSR1',
    'SIGHUP',
    'SIGWINCH',
    'SIGRTMIN',
    'SIGRTMIN+6',
    'SIGRTMAX',
    'SIGTERM',
    'SIGUSR2',
    'SIGINT',
    'SIGQUIT',
    'SIGALRM',
  ].map(signalNumber);

  it.each([
    ['group forwarding, -vv', ['-vv']],
    ['group forwarding, default verbosity', []],
    ['-c (the child alone), -vv', ['-vv', '-c']],
    ['--wait-all: descendants one by one, exiting meanwhile, -vv', ['-vv', '--wait-all', '--drain', '2s']],
  ])(
    '%s: exit 7 every time, no error, no warning',
    async (_name, opts) => {
      const sent: number[] = [];
      for (let round = 0; round < 8; round++) {
        // The child exits 7 on its first SIGUSR2; in its group, sleeps die of the same signals.
        const r = runPid1(
          [
            ...opts,
            '--',
            'sh',
            '-c',
            `for i in 1 2 3 4 5; do sleep 0.$i & done; exec ${hfixture('sigcount.py')} 7 --exit-on 12`,
          ],
          { init: init.bin },
        );
        await r.waitFor(/^READY \d+$/m);
        const pid = await r.initPid();
        sent.push(await floodUntilExit(r, pid, KINDS));
        const e = await r.exit();
        expect(e.code, r.output).toBe(7);
        if (opts.length === 0) expect(r.stderr).toBe('');
        for (const line of r.stderr.split('\n').filter(Boolean)) expect(line, r.output).toMatch(EXPECTED_LINE);
        if (opts.includes('-vv')) expect(r.stderr).toMatch(/exiting with 7\n$/);
      }
      record(
        `child exits mid-forwarding (${_name})`,
        `8 rounds, ${Math.min(...sent)}-${Math.max(...sent)} signals sent into each; exit 7 every time; no warning or error line`,
      );
    },
    120_000,
  );
});

describe('a child that ignores SIGTERM', () => {
  it('keeps tsinit running, and each TERM is forwarded again', async () => {
    const r = runPid1(['-v', '--', fixture('signals.py'), '5'], { init: init.bin });
    await r.waitFor(/^READY/m);
    const pid = await r.initPid();
    const child = descendantsOf(pid)[0]!.pid;
    for (let n = 1; n <= 3; n++) {
      process.kill(pid, 'SIGTERM');
      await until(`TERM #${n} reaches the child`, () => reports(r, 'SIGTERM') === n);
      // Nothing tells tsinit to give up on its own: watch it for a second.
      const watchEnd = Date.now() + IGNORED_TERM_WATCH_MS;
      while (Date.now() < watchEnd) {
        expect(isRunning(pid) && isRunning(child), r.output).toBe(true);
        await sleep(50);
      }
    }
    r.closeStdin();
    expect((await r.exit()).code).toBe(5);
    expect(r.stderr.match(/SIGTERM forwarded/g)).toHaveLength(3);
    record('child ignores TERM', '3 TERMs forwarded 1 s apart, tsinit and child alive throughout; exit 5 on its own');
  });

  it('with --kill-after 1s: SIGKILL on time, exit 137', async () => {
    const r = runPid1(['-v', '--kill-after', '1s', '--', fixture('signals.py'), '5'], { init: init.bin });
    await r.waitFor(/^READY/m);
    const pid = await r.initPid();
    const t0 = performance.now();
    process.kill(pid, 'SIGTERM');
    await expectForwarded(r, 'SIGTERM');
    process.kill(pid, 'SIGTERM'); // a second TERM is forwarded too and does not move the deadline
    await until('second TERM forwarded', () => reports(r, 'SIGTERM') === 2);
    const e = await r.exit(10_000);
    const ms = performance.now() - t0;
    expect(e.code).toBe(137);
    expect(r.stderr).toMatch(/kill-after/);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1000 + TIMER_SLACK_MS);
    record('--kill-after 1s on a TERM-ignoring child', `exit 137 ${ms.toFixed(0)} ms after the first TERM`);
  });
});

describe('fault signals sent with kill, in back-to-back bursts', () => {
  const ROUNDS = 20;
  /** One round: SEGV and BUS, three of each, sent as fast as kill(2) goes. */
  const BURST = ['SIGSEGV', 'SIGBUS', 'SIGSEGV', 'SIGBUS', 'SIGSEGV', 'SIGBUS'].map(signalNumber);

  it.each([
    ['as PID 1', true],
    ['not PID 1 (subreaper)', false],
  ])(
    "%s: tsinit lives through 20 rounds, forwards both kinds each round, exits with the child's status",
    async (_mode, pid1) => {
      const r = runInit(['--', fixture('signals.py'), '9'], { init: init.bin, pid1 });
      try {
        await r.waitFor(/^READY/m);
        const pid = await r.initPid();
        const born = readStat(pid)!.startTime;
        for (let round = 1; round <= ROUNDS; round++) {
          for (const sig of BURST) process.kill(pid, sig);
          // A pending signal absorbs its repeats: each kind arrives at least once a round.
          await until(`round ${round}: SIGSEGV and SIGBUS forwarded`, () => {
            if (readStat(pid)?.startTime !== born || !isRunning(pid)) {
              throw new Error(
                `tsinit died in round ${round} of ${ROUNDS} (exit: ${r.proc.exitCode}, ${r.proc.signalCode})\n${r.output}`,
              );
            }
            return reports(r, 'SIGSEGV') >= round && reports(r, 'SIGBUS') >= round;
          });
        }
        // The last round's repeats may still be on their way: one landing as the child exits
        // would meet Python's restored default action.
        await settle(r);
        r.closeStdin();
        expect((await r.exit()).code, r.output).toBe(9);
        record(
          `fault-signal bursts (${_mode})`,
          `${ROUNDS} rounds of ${BURST.length} kills: alive after each; the child got ${reports(r, 'SIGSEGV')} SEGV and ${reports(r, 'SIGBUS')} BUS; exit 9`,
        );
      } finally {
        r.closeStdin(); // not PID 1, a child left by a dead tsinit ends with its stdin
      }
    },
  );
});

describe("a real fault in any of tsinit's threads", () => {
  /** tsinit's threads, by tid and name: the static host has one, the Node host V8's worker and delayed-task threads too. */
  function threadsOf(pid: number): { tid: number; name: string }[] {
    return readdirSync(`/proc/${pid}/task`).map((t) => ({
      tid: Number(t),
      name: readFileSync(`/proc/${pid}/task/${t}/comm`, 'latin1').trim(),
    }));
  }

  /** Points thread tid of pid at address 0 with gdb: its next instruction faults (SIGSEGV, SEGV_MAPERR). */
  function faultThread(pid: number, tid: number): void {
    const threads = execFileSync('gdb', ['-p', String(pid), '-batch', '-ex', 'info threads'], {
      timeout: 30_000,
    }).toString();
    // `* 2    Thread 0x7f… (LWP 123) "node-V8Worker" …`; a single-threaded process shows no LWP.
    const n = new RegExp(`^[* ]*(\\d+)\\s+Thread \\S+ \\(LWP ${tid}\\)`, 'm').exec(threads)?.[1];
    const select = n === undefined ? [] : ['-ex', `thread ${n}`];
    execFileSync('gdb', ['-p', String(pid), '-batch', ...select, '-ex', 'set $pc = 0', '-ex', 'detach'], {
      stdio: 'ignore',
      timeout: 30_000,
    });
  }

  it.each([
    ['as PID 1, the child traps SIGSEGV', true, [fixture('signals.py')]],
    ['not PID 1, the child dies of the SIGSEGV forwarded', false, ['sleep', '100']],
  ])(
    '%s: tsinit ends with SIGSEGV, whichever thread faults, instead of spinning',
    async (_name, pid1, command) => {
      // The first run lists the thread names; each run faults the next one.
      const names: string[] = [];
      for (let i = 0; names.length === 0 || i < names.length; i++) {
        const r = runInit(['--', ...command], { init: init.bin, pid1 });
        // Not PID 1, the child outlives tsinit and holds the output pipes: watch tsinit's own end.
        const ended = new Promise<NodeJS.Signals | null>((res) => r.proc.once('exit', (_code, signal) => res(signal)));
        let child: { pid: number; startTime: string } | undefined;
        try {
          const pid = await r.initPid();
          // Node's threads all exist once it runs JavaScript: wait until the child is spawned.
          await until('the child runs', () => (child = descendantsOf(pid)[0]) !== undefined);
          if (names.length === 0) names.push(...new Set(threadsOf(pid).map((t) => t.name)));
          const thread = threadsOf(pid).find((t) => t.name === names[i])!;
          faultThread(pid, thread.tid);
          // A handler that returns into the fault would spin for good: the end is the proof.
          const signal = await Promise.race([ended, sleep(15_000).then(() => 'still running 15 s after the fault')]);
          expect(signal, `thread ${thread.name}: ${r.output.slice(0, 2000)}`).toBe('SIGSEGV');
        } finally {
          r.closeStdin();
          if (child !== undefined && readStat(child.pid)?.startTime === child.startTime)
            process.kill(child.pid, 'SIGKILL');
        }
      }
      record(
        `real fault (${_name})`,
        `each thread (${names.join(', ')}) pointed at address 0: tsinit killed by SIGSEGV`,
      );
    },
    120_000,
  );
});

describe('a child that stops is not a child that exited', () => {
  it('stops itself with SIGSTOP; a SIGCONT sent to tsinit continues it', async () => {
    const r = runPid1(['-v', '--', 'sh', '-c', 'echo READY; kill -STOP $$; echo CONTINUED; read x; exit 5'], {
      init: init.bin,
    });
    await r.waitFor(/^READY$/m);
    const pid = await r.initPid();
    const child = descendantsOf(pid)[0]!.pid;
    await until('the child is stopped', () => stateOf(child) === 'T');
    // The stop sent tsinit a SIGCHLD; once it has handled a later signal, it has handled that.
    await expectInitAnswers(r, pid);
    expect(isRunning(pid)).toBe(true);
    expect(r.stderr).not.toMatch(/exited|killed|draining/);
    process.kill(pid, 'SIGCONT');
    await r.waitFor(/^CONTINUED$/m);
    r.closeStdin();
    expect((await r.exit()).code).toBe(5);
    expect(r.stderr.match(/child \d+ exited with 5/g)).toHaveLength(1);
  });

  it('is stopped by a forwarded SIGTSTP and stopped and continued from outside', async () => {
    const r = runPid1(['-v', '--', 'sh', '-c', 'echo READY; while read -r x; do echo "LINE $x"; done; exit 6'], {
      init: init.bin,
    });
    await r.waitFor(/^READY$/m);
    const pid = await r.initPid();
    const child = descendantsOf(pid)[0]!.pid;
    process.kill(pid, 'SIGTSTP');
    await until('the child is stopped by TSTP', () => stateOf(child) === 'T');
    await expectInitAnswers(r, pid); // the stop's SIGCHLD handled, tsinit still there
    expect(isRunning(pid)).toBe(true);
    process.kill(pid, 'SIGCONT');
    await until('the child runs again', () => stateOf(child) === 'S');
    process.kill(child, 'SIGSTOP');
    await until('the child is stopped by STOP', () => stateOf(child) === 'T');
    await expectInitAnswers(r, pid);
    expect(isRunning(pid)).toBe(true);
    process.kill(child, 'SIGCONT');
    r.proc.stdin!.write('a\n');
    await r.waitFor(/^LINE a$/m);
    r.closeStdin();
    expect((await r.exit()).code).toBe(6);
    expect(r.stderr).not.toMatch(/warning|error/);
  });
});

type Mode = 'keep' | 'closed' | 'devnull' | 'brokenpipe';

describe('tsinit started with broken stdio', () => {
  // The child reports on fd 3 (an inherited descriptor tsinit passes on), so what happens to
  // 0, 1 and 2 does not hide what it saw. -vv makes tsinit write to its stderr all along.
  const CASES: [Mode, Mode, Mode][] = [
    ['closed', 'keep', 'keep'],
    ['keep', 'closed', 'keep'],
    ['keep', 'keep', 'closed'],
    ['devnull', 'keep', 'keep'],
    ['keep', 'devnull', 'keep'],
    ['keep', 'keep', 'devnull'],
    ['brokenpipe', 'keep', 'keep'],
    ['keep', 'brokenpipe', 'keep'],
    ['keep', 'keep', 'brokenpipe'],
    ['closed', 'closed', 'closed'],
    ['brokenpipe', 'brokenpipe', 'brokenpipe'],
    ['devnull', 'brokenpipe', 'closed'],
  ];

  it.each(CASES)('stdin %s, stdout %s, stderr %s: spawns, forwards, exits 42', async (i, o, e) => {
    // The child's own stderr goes to /dev/null: dash reports the sleep killed by SIGUSR2 there,
    // and on a broken pipe that would kill the child (141), which is not what is tested here.
    const script =
      'exec 2>/dev/null; trap "echo USR2 >&3; exit 42" USR2; echo STARTED >&3; while :; do sleep 0.05; done';
    const r = new Pid1Run(
      hfixture('stdio-wrap.py'),
      [i, o, e, '--', 'unshare', '--pid', '--fork', '--mount-proc', init.bin, '-vv', '--', 'sh', '-c', script],
      { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] },
    );
    let fd3 = '';
    r.proc.stdio[3]!.on('data', (d: Buffer) => {
      fd3 += d.toString();
    });
    await until('the child starts', () => fd3.includes('STARTED'), 10_000);
    const pid = await r.initPid();
    process.kill(pid, 'SIGUSR2');
    await until('the child gets SIGUSR2', () => fd3.includes('USR2'), 10_000);
    const x = await r.exit();
    expect(x.code, r.output).toBe(42);
    if (e === 'keep') expect(r.stderr).toMatch(/SIGUSR2 forwarded[\s\S]*exiting with 42/);
    else expect(r.stderr).toBe('');
  });
});
