// The supervisor's decisions against a fake system: which kill() calls, when, and the exit code.
import { describe, expect, it } from 'vitest';
import { parseCli, type Config } from '../../src/core/cli.ts';
import { levelOf, type Level, type LogEvent, type Logger } from '../../src/core/log.ts';
import { SIGINT, SIGKILL, SIGQUIT, SIGTERM, SIGUSR1 } from '../../src/core/signals.ts';
import { ESRCH, Supervisor, type System, type Timer } from '../../src/core/supervisor.ts';

/** Linux's numbers for the signals src/core/signals.ts has no constant for (nothing there needs them by name). */
const SIGHUP = 1;
const SIGUSR2 = 12;

const CHILD = 100;
/** tsinit's own pid as the fake's ppid of its children (PID 1). */
const INIT = 1;

/** A process of the fake: start is its start time in ticks (0, before everything, unless a test says: one born later, a reused pid). */
interface FakeProcess {
  pid: number;
  ppid: number;
  pgid: number;
  start?: number;
}

class FakeSystem implements System {
  /** Every signal sent, as [pid, sig] (a group as [-pgid, sig]), whether by number or through a pidfd. */
  kills: [number, number][] = [];
  exitCode: number | null = null;
  reapQueue: { pid: number; status: number }[] = [];
  alive: FakeProcess[] = [{ pid: CHILD, ppid: INIT, pgid: CHILD }];
  procAvailable = true;
  /** false: pidfd_open fails with ENOSYS (a kernel before 5.3). */
  pidfds = true;
  /** What each open pidfd holds: the process as it was when opened. */
  private handles = new Map<number, FakeProcess>();
  private nextFd = 3;
  ownPid = INIT;
  isPid1 = true;
  clock = 0;
  timers = new Map<number, { at: number; fn: () => void }>();
  private nextTimer = 1;
  killErrno = 0;

  kill(pid: number, sig: number): number {
    this.kills.push([pid, sig]);
    return this.killErrno;
  }
  waitAny() {
    const next = this.reapQueue.shift();
    if (next) {
      // As the kernel does: the children of the one that ended are re-parented to tsinit.
      this.alive = this.alive
        .filter((p) => p.pid !== next.pid)
        .map((p) => (p.ppid === next.pid ? { ...p, ppid: INIT } : p));
      return next;
    }
    return this.alive.length === 0 ? ('no-children' as const) : ('none' as const);
  }
  /** Ticks of 10 ms from 100: a process with no start time given started before any signal. */
  clockTicks() {
    return this.procAvailable ? 100 + Math.floor(this.clock / 10) : null;
  }
  descendants() {
    if (!this.procAvailable) return null;
    return this.alive.map((p) => ({ pid: p.pid, ppid: p.ppid, pgid: p.pgid, start: p.start ?? 0, parent: p.ppid }));
  }
  processInfo(pid: number) {
    const p = this.alive.find((q) => q.pid === pid);
    return this.procAvailable && p ? { pid, ppid: p.ppid, pgid: p.pgid, start: p.start ?? 0 } : null;
  }
  openProcess(pid: number): number {
    if (!this.pidfds) return -38;
    const p = this.alive.find((q) => q.pid === pid);
    if (!p) return -ESRCH;
    const fd = this.nextFd++;
    this.handles.set(fd, p);
    return fd;
  }
  signalProcess(fd: number, sig: number, group: boolean): number {
    const p = this.handles.get(fd)!;
    if (group) {
      this.kills.push([-p.pid, sig]);
      return this.killErrno;
    }
    // The handle names the process it was opened on, never a later owner of the number.
    if (!this.alive.includes(p)) return ESRCH;
    this.kills.push([p.pid, sig]);
    return this.killErrno;
  }
  closeProcess(fd: number): void {
    this.handles.delete(fd);
  }
  setTimer(ms: number, fn: () => void) {
    const id = this.nextTimer++;
    this.timers.set(id, { at: this.clock + ms, fn });
    return id;
  }
  clearTimer(t: Timer) {
    this.timers.delete(t as number);
  }
  now() {
    return this.clock;
  }
  exit(code: number) {
    this.exitCode = code;
  }

  /** Moves the clock, firing due timers in order. */
  advance(ms: number): void {
    const end = this.clock + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.clock = due[1].at;
      due[1].fn();
    }
    this.clock = end;
  }

  /** A process ends with a wait status; it will be reaped on the next reap(). */
  end(pid: number, status: number): void {
    this.reapQueue.push({ pid, status });
  }
}

type Line = [Level, LogEvent, string];

/** Records every line as [level, event, message]. */
const quietLog: Logger & { lines: Line[] } = Object.assign(
  { lines: [] as Line[] },
  {
    log(this: { lines: Line[] }, event: LogEvent, message: string) {
      this.lines.push([levelOf(event), event, message]);
    },
    enabled: () => true,
  },
);

function setup(args: string[] = []): { sys: FakeSystem; sup: Supervisor; config: Config; log: typeof quietLog } {
  const r = parseCli([...args, 'cmd']);
  if (r.kind !== 'run') throw new Error('bad args');
  const sys = new FakeSystem();
  const log = { ...quietLog, lines: [] };
  const sup = new Supervisor(r.config, sys, log, CHILD);
  return { sys, sup, config: r.config, log };
}

/** The messages of the info lines about signals, in order. */
const signalLines = (log: typeof quietLog) =>
  log.lines.filter(([level, event]) => level === 'info' && event === 'signal').map(([, , message]) => message);

/** A start time after every signal of a test (the fake's clock ticks start at 100). */
const LATER = 10_000;
/** Wait statuses: killed by a signal (no core dump), or exited with a code. */
const killedBy = (sig: number) => sig;
const exited = (code: number) => code << 8;
const TERMINATED = killedBy(SIGTERM);

describe('Supervisor: forwarding', () => {
  it('forwards to the child group by default, to the child alone with -c', () => {
    const a = setup();
    a.sup.onSignal(SIGHUP);
    expect(a.sys.kills).toEqual([[-CHILD, SIGHUP]]);
    const b = setup(['-c']);
    b.sup.onSignal(SIGHUP);
    expect(b.sys.kills).toEqual([[CHILD, SIGHUP]]);
  });

  it('rewrites and drops', () => {
    const { sys, sup } = setup(['-r', 'TERM:QUIT', '-r', 'USR1:0']);
    sup.onSignal(SIGTERM);
    sup.onSignal(SIGUSR1);
    sup.onSignal(SIGUSR2);
    expect(sys.kills).toEqual([
      [-CHILD, SIGQUIT],
      [-CHILD, SIGUSR2],
    ]);
  });

  it('survives ESRCH from kill and still exits with the child status', () => {
    const { sys, sup } = setup(['--drain', '0']);
    sys.killErrno = ESRCH;
    sup.onSignal(SIGTERM);
    sys.end(CHILD, TERMINATED);
    sup.reap();
    expect(sys.exitCode).toBe(143);
  });
});

describe('Supervisor: exit and drain', () => {
  it('exits with the child code when nothing else is left', () => {
    const { sys, sup } = setup();
    sys.end(CHILD, exited(7));
    sup.reap();
    expect(sys.exitCode).toBe(7);
    expect(sys.kills).toEqual([]);
  });

  it('reaps an orphan beside the main child without exiting', () => {
    const { sys, sup } = setup();
    sys.alive.push({ pid: 200, ppid: INIT, pgid: 200 });
    sys.end(200, exited(0));
    sup.reap();
    expect(sys.exitCode).toBeNull();
  });

  it('SIGTERMs what is left, then SIGKILLs it at the drain deadline', () => {
    const { sys, sup } = setup(['--drain', '2s']);
    sys.alive.push({ pid: 200, ppid: INIT, pgid: 150 }, { pid: 201, ppid: INIT, pgid: CHILD });
    sys.end(CHILD, exited(3));
    sup.reap();
    expect(sys.kills).toEqual([
      [200, SIGTERM],
      [201, SIGTERM],
    ]);
    expect(sys.exitCode).toBeNull();
    sys.advance(1999);
    expect(sys.kills.length).toBe(2);
    sys.advance(1);
    expect(sys.kills.slice(2)).toEqual([
      [200, SIGKILL],
      [201, SIGKILL],
    ]);
    sys.end(200, killedBy(SIGKILL));
    sys.end(201, killedBy(SIGKILL));
    sup.reap();
    expect(sys.exitCode).toBe(3);
  });

  it('does not send a second TERM to processes that already got one', () => {
    const { sys, sup } = setup();
    sys.alive.push({ pid: 201, ppid: INIT, pgid: CHILD }, { pid: 300, ppid: INIT, pgid: 300 });
    sup.onSignal(SIGTERM);
    expect(sys.kills).toEqual([[-CHILD, SIGTERM]]);
    sys.end(CHILD, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [300, SIGTERM],
    ]);
    sys.end(201, exited(0));
    sys.end(300, exited(0));
    sup.reap();
    expect(sys.exitCode).toBe(143);
  });

  it('--drain 0 exits at once', () => {
    const { sys, sup } = setup(['--drain', '0']);
    sys.alive.push({ pid: 200, ppid: INIT, pgid: 200 });
    sys.end(CHILD, exited(0));
    sup.reap();
    expect(sys.exitCode).toBe(0);
    expect(sys.kills).toEqual([]);
  });

  it("without /proc drains the group (through the child's pidfd once it is reaped), and never kill(-1)", () => {
    const { sys, sup, log } = setup(['--drain', '1s']);
    sys.procAvailable = false;
    sys.alive.push({ pid: 200, ppid: INIT, pgid: CHILD });
    sys.end(CHILD, exited(0));
    sup.reap();
    expect(sys.kills).toEqual([[-CHILD, SIGTERM]]);
    sys.advance(1000);
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [-CHILD, SIGKILL],
    ]);
    // As PID 1 its exit ends the rest of the namespace: nothing is left to wait for.
    expect(sys.exitCode).toBe(0);
    const line = `SIGKILL to the child's group ${CHILD} (no /proc: the rest ends with PID 1): still running at the end of the 1s drain`;
    expect(log.lines).toContainEqual(['warning', 'kill', line]);
  });

  it('without /proc, not PID 1: the group is all it signals, and the line says what was sent', () => {
    const { sys, sup, log } = setup(['--drain', '1s']);
    sys.procAvailable = false;
    sys.isPid1 = false;
    sys.alive.push({ pid: 200, ppid: INIT, pgid: 200 });
    sys.killErrno = ESRCH; // the group is empty
    sys.end(CHILD, exited(0));
    sup.reap();
    sys.advance(1000);
    expect(sys.kills.every(([pid]) => pid === -CHILD)).toBe(true);
    const line =
      "no process of the child's group left to SIGKILL (no /proc: the rest cannot be named): still running at the end of the 1s drain";
    expect(log.lines).toContainEqual(['warning', 'kill', line]);
    expect(sys.exitCode).toBeNull();
    sys.advance(2000);
    expect(sys.exitCode).toBe(0);
  });

  it('remaps the final code', () => {
    const { sys, sup } = setup(['-e', '143']);
    sys.end(CHILD, TERMINATED);
    sup.reap();
    expect(sys.exitCode).toBe(0);
  });

  it('exits after the grace period even if a SIGKILLed process is never reaped', () => {
    const { sys, sup } = setup(['--drain', '1s']);
    sys.alive.push({ pid: 200, ppid: INIT, pgid: 200 });
    sys.end(CHILD, exited(5));
    sup.reap();
    sys.advance(1000);
    expect(sys.exitCode).toBeNull();
    sys.advance(2000);
    expect(sys.exitCode).toBe(5);
  });
});

describe('Supervisor: --kill-after', () => {
  it('SIGKILLs group and descendants when the child outlives the deadline, exit 137', () => {
    const { sys, sup } = setup(['--kill-after', '3s']);
    sys.alive.push({ pid: 200, ppid: INIT, pgid: 200 });
    sup.onSignal(SIGTERM);
    sys.advance(2999);
    expect(sys.kills).toEqual([[-CHILD, SIGTERM]]);
    sys.advance(1);
    // The group got the TERM and now SIGKILL; 200, in a group of its own, never got a TERM: it gets one first.
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [-CHILD, SIGKILL],
      [CHILD, SIGKILL],
      [200, SIGTERM],
    ]);
    sys.advance(20);
    expect(sys.kills).toContainEqual([200, SIGKILL]);
    sys.end(CHILD, killedBy(SIGKILL));
    sys.end(200, killedBy(SIGKILL));
    sup.reap();
    expect(sys.exitCode).toBe(137);
  });

  it('is armed by a rewritten terminating signal, not by others', () => {
    const a = setup(['--kill-after', '1s', '-r', 'USR2:TERM']);
    a.sup.onSignal(SIGUSR2);
    a.sys.advance(1000);
    expect(a.sys.kills).toContainEqual([-CHILD, SIGKILL]);
    const b = setup(['--kill-after', '1s']);
    b.sup.onSignal(SIGHUP);
    b.sys.advance(5000);
    expect(b.sys.kills).toEqual([[-CHILD, SIGHUP]]);
  });

  it('does nothing when the child exits in time', () => {
    const { sys, sup } = setup(['--kill-after', '3s']);
    sup.onSignal(SIGTERM);
    sys.end(CHILD, exited(0));
    sup.reap();
    expect(sys.exitCode).toBe(0);
    sys.advance(5000);
    expect(sys.kills).toEqual([[-CHILD, SIGTERM]]);
  });
});

describe('Supervisor: --term-delay', () => {
  it('holds SIGTERM for the delay, other signals pass at once', () => {
    const { sys, sup } = setup(['--term-delay', '5s']);
    sup.onSignal(SIGTERM);
    sup.onSignal(SIGHUP);
    expect(sys.kills).toEqual([[-CHILD, SIGHUP]]);
    sys.advance(4999);
    expect(sys.kills).toEqual([[-CHILD, SIGHUP]]);
    sys.advance(1);
    expect(sys.kills).toEqual([
      [-CHILD, SIGHUP],
      [-CHILD, SIGTERM],
    ]);
  });

  it('a second SIGTERM releases the held one at once, once', () => {
    const { sys, sup } = setup(['--term-delay', '5s']);
    sup.onSignal(SIGTERM);
    sys.advance(100);
    sup.onSignal(SIGTERM);
    expect(sys.kills).toEqual([[-CHILD, SIGTERM]]);
    sys.advance(10_000);
    expect(sys.kills).toEqual([[-CHILD, SIGTERM]]);
  });

  it('SIGINT during the delay releases the TERM and is forwarded too', () => {
    const { sys, sup } = setup(['--term-delay', '5s']);
    sup.onSignal(SIGTERM);
    sup.onSignal(SIGINT);
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [-CHILD, SIGINT],
    ]);
  });

  it('with -r TERM:QUIT the delay still holds the stop request, then QUIT goes', () => {
    const { sys, sup } = setup(['--term-delay', '2s', '-r', 'TERM:QUIT']);
    sup.onSignal(SIGTERM);
    expect(sys.kills).toEqual([]);
    sys.advance(2000);
    expect(sys.kills).toEqual([[-CHILD, SIGQUIT]]);
  });

  it.each([
    [
      ['-r', 'TERM:QUIT'],
      SIGTERM,
      SIGQUIT,
      ['SIGTERM held for 2s (--term-delay)', 'SIGTERM rewritten as SIGQUIT to group 100'],
    ],
    [
      ['-r', 'USR2:TERM'],
      SIGUSR2,
      SIGTERM,
      ['SIGUSR2 held for 2s (--term-delay)', 'SIGUSR2 rewritten as SIGTERM to group 100'],
    ],
    [[], SIGTERM, SIGTERM, ['SIGTERM held for 2s (--term-delay)', 'SIGTERM forwarded to group 100']],
  ])('%j: the released signal is logged as what was sent', (rewrite, received, sent, lines) => {
    const { sys, sup, log } = setup(['--term-delay', '2s', ...rewrite]);
    sup.onSignal(received);
    sys.advance(2000);
    expect(sys.kills).toEqual([[-CHILD, sent]]);
    expect(signalLines(log)).toEqual(lines);
  });

  it('a second TERM releases the held one as what was sent, and is not sent itself', () => {
    const { sys, sup, log } = setup(['--term-delay', '2s', '-r', 'TERM:QUIT']);
    sup.onSignal(SIGTERM);
    sup.onSignal(SIGTERM);
    expect(sys.kills).toEqual([[-CHILD, SIGQUIT]]);
    expect(signalLines(log)).toEqual([
      'SIGTERM held for 2s (--term-delay)',
      'SIGTERM rewritten as SIGQUIT to group 100',
    ]);
    expect(log.lines).toContainEqual(['debug', 'signal-detail', 'releasing held SIGQUIT: second SIGTERM']);
  });

  it('kill-after counts from the forward, not from the request', () => {
    const { sys, sup } = setup(['--term-delay', '2s', '--kill-after', '1s']);
    sup.onSignal(SIGTERM);
    sys.advance(2500);
    expect(sys.kills).toEqual([[-CHILD, SIGTERM]]);
    sys.advance(500);
    expect(sys.kills).toContainEqual([-CHILD, SIGKILL]);
  });
});

describe('Supervisor: which signal is a stop request (--stop-signal)', () => {
  it.each([
    [SIGINT, 'a handled Ctrl-C'],
    [SIGQUIT, 'a JVM thread dump'],
  ])("%i (%s) arms neither --kill-after nor the drain's record", (sig) => {
    const { sys, sup } = setup(['--kill-after', '1s', '--drain', '1s']);
    sys.alive.push({ pid: 101, ppid: CHILD, pgid: CHILD });
    sup.onSignal(sig);
    sys.advance(10_000);
    expect(sys.kills).toEqual([[-CHILD, sig]]);
    expect(sys.exitCode).toBeNull();
    // The child exits later: 101 never got a TERM, so the drain sends one.
    sys.end(CHILD, exited(0));
    sup.reap();
    expect(sys.kills).toEqual([
      [-CHILD, sig],
      [101, SIGTERM],
    ]);
  });

  it("--stop-signal QUIT (nginx's STOPSIGNAL): QUIT is held, arms --kill-after and is the drain's record", () => {
    const { sys, sup } = setup(['--stop-signal', 'QUIT', '--term-delay', '1s', '--kill-after', '2s']);
    sys.alive.push({ pid: 101, ppid: CHILD, pgid: CHILD });
    sup.onSignal(SIGQUIT);
    expect(sys.kills).toEqual([]);
    sys.advance(1000);
    expect(sys.kills).toEqual([[-CHILD, SIGQUIT]]);
    sys.advance(2000);
    expect(sys.kills.slice(0, 2)).toEqual([
      [-CHILD, SIGQUIT],
      [-CHILD, SIGKILL],
    ]);
    expect(sys.exitCode).toBeNull();
    sys.end(CHILD, killedBy(SIGKILL));
    sys.end(101, killedBy(SIGKILL));
    sup.reap();
    expect(sys.exitCode).toBe(137);
  });

  it('--stop-signal QUIT: a TERM is only forwarded, held by nothing', () => {
    const { sys, sup } = setup(['--stop-signal', 'QUIT', '--term-delay', '1s', '--kill-after', '1s']);
    sup.onSignal(SIGTERM);
    expect(sys.kills).toEqual([[-CHILD, SIGTERM]]);
    sys.advance(5000);
    expect(sys.kills).toEqual([[-CHILD, SIGTERM]]);
  });

  it('a held TERM released by an INT: --kill-after starts when the TERM is forwarded', () => {
    const { sys, sup } = setup(['--term-delay', '5s', '--kill-after', '1s']);
    sup.onSignal(SIGTERM);
    sys.advance(3000);
    sup.onSignal(SIGINT);
    // INT releases the held TERM (documented), and that forward arms --kill-after.
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [-CHILD, SIGINT],
    ]);
    sys.advance(1000);
    expect(sys.kills.slice(2, 4)).toEqual([
      [-CHILD, SIGKILL],
      [CHILD, SIGKILL],
    ]);
    sys.end(CHILD, killedBy(SIGKILL));
    sup.reap();
    expect(sys.exitCode).toBe(137);
  });

  it("after --kill-after's SIGKILL a TERM is forwarded at once and arms nothing more", () => {
    const { sys, sup } = setup(['--kill-after', '1s']);
    sup.onSignal(SIGTERM);
    sys.advance(1000);
    sup.onSignal(SIGTERM);
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [-CHILD, SIGKILL],
      [CHILD, SIGKILL],
      [-CHILD, SIGTERM],
    ]);
    sys.end(CHILD, killedBy(SIGKILL));
    sup.reap();
    expect(sys.exitCode).toBe(137);
  });
});

describe('Supervisor: --wait-all', () => {
  it('waits for the other descendants, then exits with the main child status', () => {
    const { sys, sup } = setup(['--wait-all']);
    sys.alive.push({ pid: 300, ppid: INIT, pgid: 300 });
    sys.end(CHILD, exited(4));
    sup.reap();
    sys.advance(60_000);
    expect(sys.exitCode).toBeNull();
    expect(sys.kills).toEqual([]);
    sys.end(300, exited(0));
    sup.reap();
    expect(sys.exitCode).toBe(4);
  });

  it('forwards to the remaining descendants; a terminating signal starts the drain', () => {
    const { sys, sup } = setup(['--wait-all', '--drain', '1s']);
    sys.alive.push({ pid: 300, ppid: INIT, pgid: 300 });
    sys.end(CHILD, exited(0));
    sup.reap();
    sup.onSignal(SIGHUP);
    expect(sys.kills).toEqual([[300, SIGHUP]]);
    sup.onSignal(SIGTERM);
    expect(sys.kills).toEqual([
      [300, SIGHUP],
      [300, SIGTERM],
    ]);
    sys.advance(1000);
    expect(sys.kills).toContainEqual([300, SIGKILL]);
  });

  it('a TERM before the child exits means shutdown: no waiting-all, drain instead', () => {
    const { sys, sup } = setup(['--wait-all', '--drain', '1s']);
    sys.alive.push({ pid: 300, ppid: INIT, pgid: 300 });
    sup.onSignal(SIGTERM);
    sys.end(CHILD, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [300, SIGTERM],
    ]);
  });
});

describe('Supervisor: the drain after a forwarded terminating signal', () => {
  // The shell-form tree: sh (the child) runs app.sh, which waits on a sleep; 300 runs in a session of its own.
  const APP = 101;
  const treeOfShellForm = (sys: FakeSystem) =>
    sys.alive.push(
      { pid: APP, ppid: CHILD, pgid: CHILD },
      { pid: 102, ppid: APP, pgid: CHILD },
      { pid: 300, ppid: INIT, pgid: 300 },
    );

  it('waits for the group and what the handlers start after the forward; TERMs only the untold', () => {
    const { sys, sup } = setup(['--drain', '3s']);
    treeOfShellForm(sys);
    sup.onSignal(SIGTERM);
    // Born after the forward, from the app's TERM handler: its `date` and `sleep 1` (in the
    // group), a clean-up it started in a session of its own and that one's child (listed
    // before its parent: the order of the list must not matter). Then an orphan in a group
    // of its own, whose ancestry ends at tsinit.
    sys.alive.push(
      { pid: 103, ppid: APP, pgid: CHILD },
      { pid: 105, ppid: 104, pgid: 104 },
      { pid: 104, ppid: APP, pgid: 104 },
      { pid: 400, ppid: INIT, pgid: 400 },
    );
    sys.end(CHILD, TERMINATED);
    sys.end(102, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [300, SIGTERM],
      [400, SIGTERM],
    ]);
    sys.advance(2999);
    expect(sys.kills).toHaveLength(3);
    sys.advance(1);
    // At the deadline, SIGKILL for all, whether told or waited for.
    expect(sys.kills.slice(3)).toEqual([APP, 300, 103, 105, 104, 400].map((pid) => [pid, SIGKILL]));
  });

  it('a process that joined the group after the TERM and lost its parent never got it: the drain sends it', () => {
    const { sys, sup } = setup();
    treeOfShellForm(sys);
    sup.onSignal(SIGTERM);
    // Two helpers born after the forward, re-parented to tsinit when the app exits: neither got the TERM.
    sys.alive.push(
      { pid: 110, ppid: INIT, pgid: CHILD, start: LATER },
      { pid: 111, ppid: INIT, pgid: 111, start: LATER },
    );
    sys.end(CHILD, TERMINATED);
    sys.end(APP, exited(0));
    sys.end(102, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [300, SIGTERM],
      [110, SIGTERM],
      [111, SIGTERM],
    ]);
  });

  it('a told pid reused by a later process is not "already stopping": the newcomer gets its TERM', () => {
    const { sys, sup } = setup();
    treeOfShellForm(sys);
    sup.onSignal(SIGTERM);
    // 102 (told) ends; its number goes to a new process of the group, with another start time.
    sys.alive = sys.alive.filter((p) => p.pid !== 102);
    sys.alive.push({ pid: 102, ppid: APP, pgid: CHILD, start: LATER });
    // APP ends too, so 102 is not spared as its descendant.
    sys.alive = sys.alive.map((p) => (p.ppid === APP ? { ...p, ppid: INIT } : p)).filter((p) => p.pid !== APP);
    sys.end(CHILD, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [300, SIGTERM],
      [102, SIGTERM],
    ]);
  });

  it("with -c only the child was told: its orphans, in its group or not, get the drain's TERM", () => {
    // The child is gone when the drain starts, so the ppid link to it is gone too; and a child
    // that died of the signal (dash in shell form) passed nothing on.
    const { sys, sup } = setup(['-c']);
    treeOfShellForm(sys);
    sup.onSignal(SIGTERM);
    expect(sys.kills).toEqual([[CHILD, SIGTERM]]);
    sys.alive.push({ pid: 103, ppid: APP, pgid: CHILD });
    sys.end(CHILD, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([
      [CHILD, SIGTERM],
      [APP, SIGTERM],
      [102, SIGTERM],
      [300, SIGTERM],
      [103, SIGTERM],
    ]);
  });

  it('with -c a descendant of a process told one by one (after the child exited) is waited for', () => {
    const { sys, sup } = setup(['-c', '--wait-all', '--drain', '1s']);
    sys.alive.push({ pid: 300, ppid: INIT, pgid: 300 });
    sys.end(CHILD, exited(0));
    sup.reap();
    // The TERM goes to 300 directly and starts the drain at once; its handler's child,
    // born just before the drain lists the tree, is not told again.
    const real = sys.descendants.bind(sys);
    let calls = 0;
    sys.descendants = () => {
      if (++calls === 2) sys.alive.push({ pid: 301, ppid: 300, pgid: 300 }, { pid: 500, ppid: INIT, pgid: 500 });
      return real();
    };
    sup.onSignal(SIGTERM);
    expect(sys.kills).toEqual([
      [300, SIGTERM],
      [500, SIGTERM],
    ]);
    sys.advance(1000);
    expect(sys.kills.slice(2)).toEqual([
      [300, SIGKILL],
      [301, SIGKILL],
      [500, SIGKILL],
    ]);
  });

  it('when the child exits on its own (nothing forwarded), the drain TERMs everything left, as before', () => {
    const { sys, sup } = setup(['--drain', '1s']);
    treeOfShellForm(sys);
    sys.alive.push({ pid: 103, ppid: APP, pgid: CHILD });
    sys.end(CHILD, exited(0));
    sup.reap();
    expect(sys.kills).toEqual([
      [APP, SIGTERM],
      [102, SIGTERM],
      [300, SIGTERM],
      [103, SIGTERM],
    ]);
    sys.advance(1000);
    expect(sys.kills.slice(4)).toEqual([
      [APP, SIGKILL],
      [102, SIGKILL],
      [300, SIGKILL],
      [103, SIGKILL],
    ]);
  });

  it('a forwarded signal that does not terminate (HUP) leaves the drain as before', () => {
    const { sys, sup } = setup();
    treeOfShellForm(sys);
    sup.onSignal(SIGHUP);
    sys.end(CHILD, killedBy(SIGHUP));
    sup.reap();
    expect(sys.kills).toEqual([
      [-CHILD, SIGHUP],
      [APP, SIGTERM],
      [102, SIGTERM],
      [300, SIGTERM],
    ]);
  });
});

describe('Supervisor: what it signals is its own', () => {
  it('a listed process whose number went to another process by the time of the signal is not signalled', () => {
    const { sys, sup } = setup(['--drain', '1s']);
    sys.alive.push({ pid: 101, ppid: CHILD, pgid: CHILD }, { pid: 102, ppid: 101, pgid: CHILD });
    // The walk sees 102; then 101 reaps it and an unrelated process (not below tsinit) takes the number.
    const real = sys.descendants.bind(sys);
    sys.descendants = () => {
      const list = real();
      sys.alive = sys.alive.filter((p) => p.pid !== 102);
      sys.alive.push({ pid: 102, ppid: 999, pgid: 999, start: 7 });
      return list;
    };
    sys.end(CHILD, exited(0));
    sup.reap();
    expect(sys.kills).toEqual([[101, SIGTERM]]);
  });

  it("without pidfds (ENOSYS) only tsinit's own children are signalled; a grandchild is, once it is re-parented", () => {
    const { sys, sup, log } = setup(['--drain', '1s']);
    sys.pidfds = false;
    sys.alive.push({ pid: 101, ppid: INIT, pgid: CHILD }, { pid: 102, ppid: 101, pgid: CHILD });
    sys.end(CHILD, exited(0));
    sup.reap();
    expect(sys.kills).toEqual([[101, SIGTERM]]);
    const counts = "1 sent SIGTERM, 0 already stopping, 1 not tsinit's children, left until they are (no pidfd)";
    expect(log.lines.map(([, , m]) => m)).toContain(`draining 2 process(es) for up to 1s (${counts})`);
    sys.end(101, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([
      [101, SIGTERM],
      [102, SIGTERM],
    ]);
  });

  it('the killing passes repeat: a process forked during one pass gets SIGTERM on the next, SIGKILL on the one after', () => {
    const { sys, sup } = setup(['--drain', '1s']);
    sys.alive.push({ pid: 101, ppid: INIT, pgid: CHILD });
    sys.end(CHILD, exited(0));
    sup.reap();
    sys.advance(1000);
    expect(sys.kills).toEqual([
      [101, SIGTERM],
      [101, SIGKILL],
    ]);
    // 101 forked just as it was killed: the child is re-parented to tsinit.
    sys.alive.push({ pid: 103, ppid: INIT, pgid: CHILD });
    sys.advance(20);
    expect(sys.kills.slice(2)).toEqual([
      [101, SIGKILL],
      [103, SIGTERM],
    ]);
    sys.advance(20);
    expect(sys.kills.slice(4)).toEqual([
      [101, SIGKILL],
      [103, SIGKILL],
    ]);
    sys.end(101, killedBy(SIGKILL));
    sys.end(103, killedBy(SIGKILL));
    sup.reap();
    expect(sys.exitCode).toBe(0);
  });

  it('a walk that throws (out of memory) does not wedge the shutdown: the child is not waited for again, the deadline holds', () => {
    const { sys, sup } = setup(['--drain', '1s']);
    sys.alive.push({ pid: 101, ppid: INIT, pgid: 101 });
    sys.descendants = () => {
      throw new RangeError('alloc failed');
    };
    sys.end(CHILD, exited(6));
    expect(() => sup.reap()).not.toThrow();
    sys.advance(3000);
    expect(sys.exitCode).toBe(6);
  });

  it.each([
    ['a lost timer (it never fires)', () => 0],
    [
      'a timer that cannot be made (out of memory: it throws)',
      () => {
        throw new RangeError('alloc failed');
      },
    ],
  ])(
    "%s does not wedge PID 1: reap() checks the drain's deadline, the killing passes and the grace itself",
    (_what, setTimer) => {
      const { sys, sup } = setup(['--drain', '1s']);
      sys.alive.push({ pid: 101, ppid: INIT, pgid: 101 });
      sys.setTimer = setTimer;
      sys.end(CHILD, exited(6));
      expect(() => sup.reap()).not.toThrow();
      sys.clock += 1000;
      sup.reap();
      expect(sys.kills).toEqual([
        [101, SIGTERM],
        [101, SIGKILL],
      ]);
      sys.clock += 2000;
      sup.reap();
      expect(sys.exitCode).toBe(6);
    },
  );

  it('a log that throws costs the line, never the shutdown', () => {
    const { sys, sup, log } = setup(['--drain', '1s']);
    log.log = () => {
      throw new RangeError('alloc failed');
    };
    sup.onSignal(SIGTERM);
    sys.end(CHILD, TERMINATED);
    expect(() => sup.reap()).not.toThrow();
    expect(sys.exitCode).toBe(143);
  });
});

describe("Supervisor: the group's record is a time", () => {
  it('a member of the group that started before the stop signal is spared by the drain; one that started after gets its TERM', () => {
    const { sys, sup } = setup();
    sys.alive.push(
      { pid: 101, ppid: INIT, pgid: CHILD, start: 50 },
      { pid: 102, ppid: INIT, pgid: CHILD, start: LATER },
    );
    sys.clock = 500; // ticks 150 when the TERM goes
    sup.onSignal(SIGTERM);
    sys.end(CHILD, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([
      [-CHILD, SIGTERM],
      [102, SIGTERM],
    ]);
  });

  it('the stop signal costs no walk of the tree', () => {
    const { sys, sup } = setup();
    let walks = 0;
    const real = sys.descendants.bind(sys);
    sys.descendants = () => {
      walks++;
      return real();
    };
    for (let i = 0; i < 100; i++) sup.onSignal(SIGTERM);
    expect(walks).toBe(0);
  });
});

describe('Supervisor: timers that cannot be made (out of memory)', () => {
  it('a TERM held by --term-delay is released on time without its timer', () => {
    const { sys, sup } = setup(['--term-delay', '2s']);
    sys.setTimer = () => {
      throw new RangeError('alloc failed');
    };
    sup.onSignal(SIGTERM);
    sys.clock += 1999;
    sup.reap();
    expect(sys.kills).toEqual([]);
    sys.clock += 1;
    sup.reap();
    expect(sys.kills).toEqual([[-CHILD, SIGTERM]]);
  });
});
