// The supervisor's decisions against a fake system: which kill() calls, when, and the exit code.
import { describe, expect, it } from 'vitest';
import { parseCli, type Config } from '../../src/core/cli.ts';
import { levelOf, type Level, type LogEvent, type Logger } from '../../src/core/log.ts';
import { ESRCH, Supervisor, type System } from '../../src/core/supervisor.ts';

const CHILD = 100;
/** tsinit's own pid as the fake's ppid of its children (PID 1). */
const INIT = 1;

class FakeSystem implements System {
  kills: [number, number][] = [];
  exitCode: number | null = null;
  reapQueue: { pid: number; status: number }[] = [];
  alive: { pid: number; ppid: number; pgid: number }[] = [{ pid: CHILD, ppid: INIT, pgid: CHILD }];
  procAvailable = true;
  isPid1 = true;
  clock = 0;
  timers = new Map<number, { at: number; fn: () => void }>();
  private nextTimer = 1;
  killErrno = 0;

  kill(pid: number, sig: number): number { this.kills.push([pid, sig]); return this.killErrno; }
  waitAny() {
    const next = this.reapQueue.shift();
    if (next) {
      // As the kernel does: the children of the one that ended are re-parented to tsinit.
      this.alive = this.alive.filter((p) => p.pid !== next.pid).map((p) => (p.ppid === next.pid ? { ...p, ppid: INIT } : p));
      return next;
    }
    return this.alive.length === 0 ? 'no-children' as const : 'none' as const;
  }
  descendants() { return this.procAvailable ? this.alive.map((p) => ({ ...p })) : null; }
  setTimer(ms: number, fn: () => void) { const id = this.nextTimer++; this.timers.set(id, { at: this.clock + ms, fn }); return id; }
  clearTimer(t: unknown) { this.timers.delete(t as number); }
  now() { return this.clock; }
  exit(code: number) { this.exitCode = code; }

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
  end(pid: number, status: number): void { this.reapQueue.push({ pid, status }); }
}

/** Records every line as [level, event, message]. */
const quietLog: Logger & { lines: [Level, LogEvent, string][] } = Object.assign(
  { lines: [] as [Level, LogEvent, string][] },
  { log(this: { lines: [Level, LogEvent, string][] }, event: LogEvent, message: string) { this.lines.push([levelOf(event), event, message]); }, enabled: () => true },
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
const signalLines = (log: typeof quietLog) => log.lines.filter(([level, event]) => level === 'info' && event === 'signal').map(([, , message]) => message);

const TERMINATED = 15; // wait status: killed by SIGTERM
const exited = (code: number) => code << 8;

describe('Supervisor: forwarding', () => {
  it('forwards to the child group by default, to the child alone with -c', () => {
    const a = setup();
    a.sup.onSignal(1);
    expect(a.sys.kills).toEqual([[-CHILD, 1]]);
    const b = setup(['-c']);
    b.sup.onSignal(1);
    expect(b.sys.kills).toEqual([[CHILD, 1]]);
  });

  it('rewrites and drops', () => {
    const { sys, sup } = setup(['-r', 'TERM:QUIT', '-r', 'USR1:0']);
    sup.onSignal(15);
    sup.onSignal(10);
    sup.onSignal(12);
    expect(sys.kills).toEqual([[-CHILD, 3], [-CHILD, 12]]);
  });

  it('survives ESRCH from kill and still exits with the child status', () => {
    const { sys, sup } = setup(['--drain', '0']);
    sys.killErrno = ESRCH;
    sup.onSignal(15);
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
    expect(sys.kills).toEqual([[200, 15], [201, 15]]);
    expect(sys.exitCode).toBeNull();
    sys.advance(1999);
    expect(sys.kills.length).toBe(2);
    sys.advance(1);
    expect(sys.kills.slice(2)).toEqual([[200, 9], [201, 9]]);
    sys.end(200, 9); sys.end(201, 9);
    sup.reap();
    expect(sys.exitCode).toBe(3);
  });

  it('does not send a second TERM to processes that already got one', () => {
    const { sys, sup } = setup();
    sys.alive.push({ pid: 201, ppid: INIT, pgid: CHILD }, { pid: 300, ppid: INIT, pgid: 300 });
    sup.onSignal(15);
    expect(sys.kills).toEqual([[-CHILD, 15]]);
    sys.end(CHILD, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([[-CHILD, 15], [300, 15]]);
    sys.end(201, exited(0)); sys.end(300, exited(0));
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

  it('without /proc drains the group, and as PID 1 kills everything with kill(-1)', () => {
    const { sys, sup } = setup(['--drain', '1s']);
    sys.procAvailable = false;
    sys.alive.push({ pid: 200, ppid: INIT, pgid: CHILD });
    sys.end(CHILD, exited(0));
    sup.reap();
    expect(sys.kills).toEqual([[-CHILD, 15]]);
    sys.advance(1000);
    expect(sys.kills).toContainEqual([-1, 9]);
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
    sup.onSignal(15);
    sys.advance(2999);
    expect(sys.kills).toEqual([[-CHILD, 15]]);
    sys.advance(1);
    expect(sys.kills).toContainEqual([-CHILD, 9]);
    expect(sys.kills).toContainEqual([200, 9]);
    sys.end(CHILD, 9); sys.end(200, 9);
    sup.reap();
    expect(sys.exitCode).toBe(137);
  });

  it('is armed by a rewritten terminating signal, not by others', () => {
    const a = setup(['--kill-after', '1s', '-r', 'USR2:TERM']);
    a.sup.onSignal(12);
    a.sys.advance(1000);
    expect(a.sys.kills).toContainEqual([-CHILD, 9]);
    const b = setup(['--kill-after', '1s']);
    b.sup.onSignal(1);
    b.sys.advance(5000);
    expect(b.sys.kills).toEqual([[-CHILD, 1]]);
  });

  it('does nothing when the child exits in time', () => {
    const { sys, sup } = setup(['--kill-after', '3s']);
    sup.onSignal(15);
    sys.end(CHILD, exited(0));
    sup.reap();
    expect(sys.exitCode).toBe(0);
    sys.advance(5000);
    expect(sys.kills).toEqual([[-CHILD, 15]]);
  });
});

describe('Supervisor: --term-delay', () => {
  it('holds SIGTERM for the delay, other signals pass at once', () => {
    const { sys, sup } = setup(['--term-delay', '5s']);
    sup.onSignal(15);
    sup.onSignal(1);
    expect(sys.kills).toEqual([[-CHILD, 1]]);
    sys.advance(4999);
    expect(sys.kills).toEqual([[-CHILD, 1]]);
    sys.advance(1);
    expect(sys.kills).toEqual([[-CHILD, 1], [-CHILD, 15]]);
  });

  it('a second SIGTERM releases the held one at once, once', () => {
    const { sys, sup } = setup(['--term-delay', '5s']);
    sup.onSignal(15);
    sys.advance(100);
    sup.onSignal(15);
    expect(sys.kills).toEqual([[-CHILD, 15]]);
    sys.advance(10_000);
    expect(sys.kills).toEqual([[-CHILD, 15]]);
  });

  it('SIGINT during the delay releases the TERM and is forwarded too', () => {
    const { sys, sup } = setup(['--term-delay', '5s']);
    sup.onSignal(15);
    sup.onSignal(2);
    expect(sys.kills).toEqual([[-CHILD, 15], [-CHILD, 2]]);
  });

  it('with -r TERM:QUIT the delay still holds the stop request, then QUIT goes', () => {
    const { sys, sup } = setup(['--term-delay', '2s', '-r', 'TERM:QUIT']);
    sup.onSignal(15);
    expect(sys.kills).toEqual([]);
    sys.advance(2000);
    expect(sys.kills).toEqual([[-CHILD, 3]]);
  });

  it.each([
    [['-r', 'TERM:QUIT'], 15, 3, ['SIGTERM held for 2s (--term-delay)', 'SIGTERM rewritten as SIGQUIT to group 100']],
    [['-r', 'USR2:TERM'], 12, 15, ['SIGUSR2 held for 2s (--term-delay)', 'SIGUSR2 rewritten as SIGTERM to group 100']],
    [[], 15, 15, ['SIGTERM held for 2s (--term-delay)', 'SIGTERM forwarded to group 100']],
  ])('%j: the released signal is logged as what was sent', (rewrite, received, sent, lines) => {
    const { sys, sup, log } = setup(['--term-delay', '2s', ...rewrite]);
    sup.onSignal(received);
    sys.advance(2000);
    expect(sys.kills).toEqual([[-CHILD, sent]]);
    expect(signalLines(log)).toEqual(lines);
  });

  it('a second TERM releases the held one as what was sent, and is not sent itself', () => {
    const { sys, sup, log } = setup(['--term-delay', '2s', '-r', 'TERM:QUIT']);
    sup.onSignal(15);
    sup.onSignal(15);
    expect(sys.kills).toEqual([[-CHILD, 3]]);
    expect(signalLines(log)).toEqual(['SIGTERM held for 2s (--term-delay)', 'SIGTERM rewritten as SIGQUIT to group 100']);
    expect(log.lines).toContainEqual(['debug', 'signal-detail', 'releasing held SIGQUIT: second SIGTERM']);
  });

  it('kill-after counts from the forward, not from the request', () => {
    const { sys, sup } = setup(['--term-delay', '2s', '--kill-after', '1s']);
    sup.onSignal(15);
    sys.advance(2500);
    expect(sys.kills).toEqual([[-CHILD, 15]]);
    sys.advance(500);
    expect(sys.kills).toContainEqual([-CHILD, 9]);
  });
});

describe('Supervisor: --term-delay with --kill-after already running', () => {
  it('a TERM held after an INT is dropped when --kill-after expires: everything got SIGKILL', () => {
    const { sys, sup } = setup(['--term-delay', '5s', '--kill-after', '1s']);
    sup.onSignal(2);
    sup.onSignal(15);
    sys.advance(1000);
    expect(sys.kills).toEqual([[-CHILD, 2], [-CHILD, 9], [CHILD, 9]]);
    sys.advance(10_000);
    expect(sys.kills).toEqual([[-CHILD, 2], [-CHILD, 9], [CHILD, 9]]);
    expect(sys.exitCode).toBe(137);
  });

  it('after --kill-after\'s SIGKILL a TERM is forwarded at once and arms nothing more', () => {
    const { sys, sup } = setup(['--term-delay', '5s', '--kill-after', '1s']);
    sup.onSignal(2);
    sys.advance(1000);
    sup.onSignal(15);
    expect(sys.kills).toEqual([[-CHILD, 2], [-CHILD, 9], [CHILD, 9], [-CHILD, 15]]);
    sys.advance(1500);
    expect(sys.kills).toHaveLength(4);
    sys.end(CHILD, 9);
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
    sup.onSignal(1);
    expect(sys.kills).toEqual([[300, 1]]);
    sup.onSignal(15);
    expect(sys.kills).toEqual([[300, 1], [300, 15]]);
    sys.advance(1000);
    expect(sys.kills).toContainEqual([300, 9]);
  });

  it('a TERM before the child exits means shutdown: no waiting-all, drain instead', () => {
    const { sys, sup } = setup(['--wait-all', '--drain', '1s']);
    sys.alive.push({ pid: 300, ppid: INIT, pgid: 300 });
    sup.onSignal(15);
    sys.end(CHILD, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([[-CHILD, 15], [300, 15]]);
  });
});

describe('Supervisor: the drain after a forwarded terminating signal', () => {
  // The shell-form tree: sh (the child) runs app.sh, which waits on a sleep; 300 runs in a session of its own.
  const APP = 101;
  const treeOfShellForm = (sys: FakeSystem) => sys.alive.push(
    { pid: APP, ppid: CHILD, pgid: CHILD },
    { pid: 102, ppid: APP, pgid: CHILD },
    { pid: 300, ppid: INIT, pgid: 300 },
  );

  it('waits for the group and what the handlers start after the forward; TERMs only the untold', () => {
    const { sys, sup } = setup(['--drain', '3s']);
    treeOfShellForm(sys);
    sup.onSignal(15);
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
    expect(sys.kills).toEqual([[-CHILD, 15], [300, 15], [400, 15]]);
    sys.advance(2999);
    expect(sys.kills).toHaveLength(3);
    sys.advance(1);
    // At the deadline, SIGKILL for all, whether told or waited for.
    expect(sys.kills.slice(3)).toEqual([APP, 300, 103, 105, 104, 400].map((pid) => [pid, 9]));
  });

  it('a re-parented orphan that stayed in the signalled group is waited for; one that left it is TERMed', () => {
    const { sys, sup } = setup();
    treeOfShellForm(sys);
    sup.onSignal(15);
    // The handler double-forks two helpers and the app exits: both are re-parented to tsinit.
    sys.alive.push({ pid: 110, ppid: INIT, pgid: CHILD }, { pid: 111, ppid: INIT, pgid: 111 });
    sys.end(CHILD, TERMINATED);
    sys.end(APP, exited(0));
    sys.end(102, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([[-CHILD, 15], [300, 15], [111, 15]]);
  });

  it('with -c only the child was told: its orphans, in its group or not, get the drain\'s TERM', () => {
    // The child is gone when the drain starts, so the ppid link to it is gone too; and a child
    // that died of the signal (dash in shell form) passed nothing on.
    const { sys, sup } = setup(['-c']);
    treeOfShellForm(sys);
    sup.onSignal(15);
    expect(sys.kills).toEqual([[CHILD, 15]]);
    sys.alive.push({ pid: 103, ppid: APP, pgid: CHILD });
    sys.end(CHILD, TERMINATED);
    sup.reap();
    expect(sys.kills).toEqual([[CHILD, 15], [APP, 15], [102, 15], [300, 15], [103, 15]]);
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
    sup.onSignal(15);
    expect(sys.kills).toEqual([[300, 15], [500, 15]]);
    sys.advance(1000);
    expect(sys.kills.slice(2)).toEqual([[300, 9], [301, 9], [500, 9]]);
  });

  it('when the child exits on its own (nothing forwarded), the drain TERMs everything left, as before', () => {
    const { sys, sup } = setup(['--drain', '1s']);
    treeOfShellForm(sys);
    sys.alive.push({ pid: 103, ppid: APP, pgid: CHILD });
    sys.end(CHILD, exited(0));
    sup.reap();
    expect(sys.kills).toEqual([[APP, 15], [102, 15], [300, 15], [103, 15]]);
    sys.advance(1000);
    expect(sys.kills.slice(4)).toEqual([[APP, 9], [102, 9], [300, 9], [103, 9]]);
  });

  it('a forwarded signal that does not terminate (HUP) leaves the drain as before', () => {
    const { sys, sup } = setup();
    treeOfShellForm(sys);
    sup.onSignal(1);
    sys.end(CHILD, 1);
    sup.reap();
    expect(sys.kills).toEqual([[-CHILD, 1], [APP, 15], [102, 15], [300, 15]]);
  });
});
