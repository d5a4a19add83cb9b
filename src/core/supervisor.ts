// The state machine after the child is spawned: running (holding a stop request with
// --term-delay) → (waiting-all) → draining → exiting, with killing states after --kill-after or
// the drain. It decides what each signal becomes (rewrite, drop, delay, forward), when to reap,
// drain and kill, and the exit code. It reaches the system only through the injected System, so
// tests drive it with a fake. Nothing here may throw once the child runs: PID 1 must live.
//
// What it signals, and why that is always tsinit's own: the child and its group by number only
// while the child is unreaped (its pid, and so its group's id, cannot be reused until tsinit
// reaps it); after that the group through a pidfd held since the start; and any other
// process only through signalDescendant (src/core/proc.ts), which holds it before signalling.

import type { Config } from './cli.ts';
import { formatDuration } from './duration.ts';
import type { Fields, LogEvent, Logger } from './log.ts';
import { formatSignal, SIGKILL, SIGTERM, TERMINATING_SIGNALS } from './signals.ts';
import { signalDescendant, type Descendant, type ProcessCalls } from './proc.ts';
import { decodeWaitStatus, exitCodeForKillAfter, exitCodeOf, remapExitCode, type ChildEnd } from './status.ts';

export const ESRCH = 3;
const EINVAL = 22;

export type { Descendant };

/** A timer's handle: the host's own (a timeout object, a loop's id), only ever given back to clearTimer. */
export type Timer = object | number;

/** Everything the supervisor needs from the operating system. */
export interface System extends ProcessCalls {
  /** One waitpid(-1, WNOHANG). */
  waitAny(): { pid: number; status: number } | 'none' | 'no-children';
  /** Every descendant of tsinit, parents first, or null when there is no /proc of tsinit's own pid namespace to ask. */
  descendants(): Descendant[] | null;
  /** Clock ticks since boot as /proc counts start times (/proc/uptime), or null without /proc. */
  clockTicks(): number | null;
  /** tsinit's pid (1 as PID 1). */
  readonly ownPid: number;
  /** True when tsinit is PID 1 of its pid namespace: its exit then ends every process left in it. */
  readonly isPid1: boolean;
  setTimer(ms: number, fn: () => void): Timer;
  clearTimer(timer: Timer): void;
  now(): number;
  exit(code: number): void;
}

/** A shutdown under way while the child runs: the stop signal went to it. */
interface Stopping {
  /** --kill-after's timer, from the first stop signal; null without --kill-after. */
  readonly killAfter: Timer | null;
  /** When --kill-after expires (the timer is the cue; reap() checks this too, in case a timer was lost). */
  readonly killAt: number | null;
}

/**
 * Where the supervisor stands; each state holds the data and timers valid in it, and a
 * transition builds the next one. The child runs in the first three (childRuns), is gone in the
 * next three (childGone).
 */
type State =
  /** The child runs. */
  | { readonly kind: 'running'; readonly stopping: Stopping | null }
  /** The child runs; --term-delay holds a stop request (received as `received`, to send as `sig`). */
  | {
      readonly kind: 'holding';
      readonly stopping: Stopping | null;
      readonly received: string;
      readonly sig: number;
      readonly action: Action;
      readonly timer: Timer | null;
      readonly releaseAt: number;
    }
  /** --kill-after expired: everything is being killed; the exit waits for the child's reaping or the grace. */
  | { readonly kind: 'killing-child'; readonly code: number; readonly sweep: Sweep }
  /** The child is gone; --wait-all waits for every other descendant. */
  | { readonly kind: 'waiting-all'; readonly code: number }
  /** The child is gone; what is left has until the deadline to exit. */
  | { readonly kind: 'draining'; readonly code: number; readonly deadline: Timer | null; readonly deadlineAt: number }
  /** The child is gone; what is left is being killed, the exit waits for their reaping or the grace. */
  | { readonly kind: 'killing-rest'; readonly code: number; readonly sweep: Sweep }
  | { readonly kind: 'exiting' };

/** The repeated SIGKILL pass of a killing state: its timers and when its grace ends. */
interface Sweep {
  readonly grace: Timer | null;
  readonly graceAt: number;
  next: Timer | null;
}

type Holding = Extract<State, { kind: 'holding' }>;
type Draining = Extract<State, { kind: 'draining' }>;
type Killing = Extract<State, { kind: 'killing-child' | 'killing-rest' }>;
type ChildRunning = Extract<State, { kind: 'running' | 'holding' | 'killing-child' }>;
type BeforeKill = Extract<State, { kind: 'running' | 'holding' }>;
type ChildGone = Extract<State, { kind: 'waiting-all' | 'draining' | 'killing-rest' }>;
type Action = 'forwarded' | 'rewritten';

/** What a failed walk names: nobody. */
const NOBODY: readonly Descendant[] = [];

/** The child runs (unreaped): a signal goes to it, or its group, by number. */
function childRuns(s: State): s is ChildRunning {
  return s.kind === 'running' || s.kind === 'holding' || s.kind === 'killing-child';
}

/** The child runs and --kill-after has not fired: a stop may be under way (s.stopping). */
function beforeKill(s: State): s is BeforeKill {
  return s.kind === 'running' || s.kind === 'holding';
}

/** The child is gone (reaped): what is left of its descendants is signalled one by one. */
function childGone(s: State): s is ChildGone {
  return s.kind === 'waiting-all' || s.kind === 'draining' || s.kind === 'killing-rest';
}

/** Everything is being killed, pass after pass, until the grace ends. */
function killing(s: State): s is Killing {
  return s.kind === 'killing-child' || s.kind === 'killing-rest';
}

/** When --kill-after expires, or null when it is not armed (no stop yet, or no --kill-after). */
function killAtOf(s: BeforeKill): number | null {
  return s.stopping === null ? null : s.stopping.killAt;
}

/** --kill-after is armed and its time has come (its timer may have been lost). */
function killAfterDue(s: BeforeKill, now: number): boolean {
  const at = killAtOf(s);
  return at !== null && now >= at;
}

/** After SIGKILLing what is left, how long to wait for the kernel to hand back the bodies. */
const KILL_REAP_GRACE_MS = 2000;
/**
 * How often a killing state walks again: a parent that forked during one walk leaves children
 * no walk listed yet; the passes go on until a walk comes back empty or the grace ends.
 */
const SWEEP_INTERVAL_MS = 20;

export class Supervisor {
  private state: State = { kind: 'running', stopping: null };
  /**
   * Who got the stop signal (or was left to finish a shutdown), as pid → start time at that
   * moment: the drain does not send them a second one, and a killing pass may SIGKILL them.
   * The start time keeps a later owner of the number out; reaping prunes an entry.
   */
  private readonly told: Record<number, number> = {};
  /** The stop signal went to the child's whole group (no /proc: the drain's only record). */
  private groupTold = false;
  /**
   * When the stop signal first went to the group, in the clock ticks of /proc's start times:
   * a member of the group that started before it got it. Kept as a time, not as a list made by
   * a walk, so the forward costs no walk and a member re-parented mid-walk is not missed.
   */
  private groupToldAt: number | null = null;
  /** The child's wait status, once reaped: a number, kept before anything that could fail. */
  private childStatus: number | null = null;
  /** A pidfd of the child, opened while it runs: after its reaping, the one safe handle on its group. */
  private readonly childHandle: number;
  /** The drain left processes it could not safely signal yet (no pidfd): walk again after each reaping. */
  private unreached = false;

  constructor(
    private readonly config: Config,
    private readonly sys: System,
    private readonly log: Logger,
    readonly childPid: number,
  ) {
    let fd = -1;
    try {
      fd = sys.openProcess(childPid);
    } catch {
      /* no handle: the number, as before pidfds */
    }
    this.childHandle = fd;
  }

  /** A signal reached tsinit (never SIGCHLD: that is reap()). */
  onSignal(sig: number): void {
    const s = this.state;
    if (s.kind === 'exiting') return;
    const rewritten = this.config.rewrite.get(sig);
    const to = rewritten ?? sig;
    const name = formatSignal(sig);
    if (to === 0) {
      this.note('signal', `${name} dropped (--rewrite)`, { signal: name, action: 'dropped', target: null });
      return;
    }
    const action = rewritten === undefined ? 'forwarded' : 'rewritten';
    // --term-delay holds the stop request (the stop signal received, or what a rewrite made one).
    const stopRequest = this.isStop(sig, to);
    if (s.kind === 'holding') {
      if (stopRequest) {
        this.releaseHeldSignal(s, `second ${formatSignal(this.config.stopSignal)}`);
        return;
      }
      if (TERMINATING_SIGNALS.has(sig) || TERMINATING_SIGNALS.has(to)) this.releaseHeldSignal(s, name);
    } else if (stopRequest && this.termDelayed() && s.kind === 'running') {
      this.holdSignal(s, name, to, action);
      return;
    }
    this.deliver(to, action, name, stopRequest);
  }

  /** Whether --term-delay holds a stop request (it was given, and not as 0). */
  private termDelayed(): boolean {
    return this.config.termDelayMs !== null && this.config.termDelayMs > 0;
  }

  /** --term-delay: the stop request (received as name, to send as sig) waits for the delay. */
  private holdSignal(s: Extract<State, { kind: 'running' }>, name: string, sig: number, action: Action): void {
    const ms = this.config.termDelayMs ?? 0;
    const fields = { signal: name, action: 'delayed', target: this.describeTarget(), delay_ms: ms };
    this.note('signal', `${name} held for ${formatDuration(ms)} (--term-delay)`, fields);
    const timer = this.timer(ms, () => {
      const now = this.state;
      if (now.kind === 'holding') this.releaseHeldSignal(now, 'delay over');
    });
    const releaseAt = this.sys.now() + ms;
    this.state = { kind: 'holding', stopping: s.stopping, received: name, sig, action, timer, releaseAt };
  }

  /** The stop request: the stop signal received, or sent as a rewrite's result. */
  private isStop(received: number, sent: number): boolean {
    return received === this.config.stopSignal || sent === this.config.stopSignal;
  }

  /** Sends the held signal as it would have gone without --term-delay. */
  private releaseHeldSignal(s: Holding, why: string): void {
    this.cancel(s.timer);
    this.state = { kind: 'running', stopping: s.stopping };
    const sent = formatSignal(s.sig);
    this.note('signal-detail', `releasing held ${sent}: ${why}`, { signal: sent, action: 'released', target: null });
    this.deliver(s.sig, s.action, s.received, true);
  }

  /** Where a signal goes now, as the log names it. */
  private describeTarget(): string {
    if (!childRuns(this.state)) return 'descendants';
    return this.config.singleChild ? `child ${this.childPid}` : `group ${this.childPid}`;
  }

  /** Sends sig where it belongs now; received is the name of what tsinit was sent. */
  private deliver(sig: number, action: Action, received: string, stop: boolean): void {
    // The hot path of a flood: build the line (and the target's name) only when it will be
    // written (on the static host every string made here is work for an interpreter).
    if (this.log.enabled('signal')) {
      const target = this.describeTarget();
      const rewritten = action === 'rewritten';
      const fields = { signal: received, action, target, ...(rewritten ? { to: formatSignal(sig) } : {}) };
      const as = rewritten ? ` as ${formatSignal(sig)}` : '';
      this.note('signal', `${received} ${action}${as} to ${target}`, fields);
    }
    // A switch, not childRuns()/childGone(): this runs for every signal of a flood, and in
    // Duktape the call measured about 0.3 µs of the 20 µs of CPU a forward takes (bench/signal.mjs).
    const s = this.state;
    switch (s.kind) {
      case 'running':
      case 'holding':
      case 'killing-child':
        this.signalChild(s, sig, stop);
        return;
      case 'waiting-all':
      case 'draining':
      case 'killing-rest':
        this.signalDescendants(s, sig, stop);
        return;
      case 'exiting':
        return;
    }
  }

  /** The child runs: sig goes to it, or to its group. The stop signal begins the shutdown. */
  private signalChild(s: ChildRunning, sig: number, stop: boolean): void {
    // After --kill-after's SIGKILL the shutdown is past telling anyone to stop.
    const stopping = stop && beforeKill(s);
    // Recorded before the signal goes: a process that joins the group in between is not
    // counted as told (it would be spared a TERM it never got).
    if (stopping) this.markTold();
    // By number: the child is not reaped yet, so neither its pid nor its group id can be another's.
    const pid = this.config.singleChild ? this.childPid : -this.childPid;
    const err = this.sys.kill(pid, sig);
    // ESRCH is expected: the child (or its whole group) may end between the signal and this call.
    if (err !== 0) {
      const name = formatSignal(sig);
      const fields = { signal: name, action: 'failed', target: this.describeTarget(), errno: err };
      this.note('signal-detail', `kill(${pid}, ${name}): errno ${err}`, fields);
    }
    if (stopping && beforeKill(s) && s.stopping === null) this.state = { ...s, stopping: this.armKillAfter() };
  }

  /** The main child is gone: what is left gets the signal one by one; the stop signal ends --wait-all. */
  private signalDescendants(s: ChildGone, sig: number, stop: boolean): void {
    const left = this.walk();
    if (left === null) {
      // No /proc: the child's group is all that can be named.
      if (!this.config.singleChild) this.signalGroup(sig);
    } else if (left !== 'failed') {
      for (const p of left) {
        if (signalDescendant(this.sys, this.sys.ownPid, p, sig) === 'sent' && stop) this.told[p.pid] = p.start;
      }
    }
    if (stop && s.kind === 'waiting-all') this.startDrain(s.code);
  }

  /**
   * Remembers who is being told to stop now, so the drain does not tell them again: the child,
   * and the group from this moment.
   */
  private markTold(): void {
    if (!this.config.singleChild) {
      this.groupTold = true;
      this.groupToldAt ??= this.clockTicks();
    }
    const start = this.startOf(this.childPid);
    if (start !== null) this.told[this.childPid] = start;
  }

  /** The walk's clock now (null without /proc); a failure counts as no record. */
  private clockTicks(): number | null {
    try {
      return this.sys.clockTicks();
    } catch {
      return null;
    }
  }

  /** pid's start time now (null: gone, no /proc, or out of memory). */
  private startOf(pid: number): number | null {
    try {
      return this.sys.processInfo(pid)?.start ?? null;
    } catch {
      return null;
    }
  }

  /** --kill-after's timer and time, or none without the option. */
  private armKillAfter(): Stopping {
    const ms = this.config.killAfterMs;
    if (ms === null) return { killAfter: null, killAt: null };
    const killAt = this.sys.now() + ms;
    return { killAt, killAfter: this.timer(ms, () => this.expireKillAfter()) };
  }

  /** --kill-after ran out with the child still there: everything gets SIGKILL. */
  private expireKillAfter(): void {
    const s = this.state;
    if (!beforeKill(s) || killAtOf(s) === null) return;
    // A stop request still held by --term-delay is moot: everything gets SIGKILL now.
    if (s.kind === 'holding') this.cancel(s.timer);
    const ms = this.config.killAfterMs ?? 0;
    this.state = { kind: 'killing-child', code: exitCodeForKillAfter(), sweep: this.armSweep() };
    this.signalGroup(SIGKILL);
    const stop = formatSignal(this.config.stopSignal);
    this.startKilling(`child still running ${formatDuration(ms)} after ${stop} (--kill-after)`);
  }

  /** Reaps every exited child (SIGCHLD, the backstop timer); moves the state on. */
  reap(): void {
    if (this.state.kind === 'exiting') return;
    let last: 'none' | 'no-children';
    let reaped = false;
    const reapEvent = this.config.warnOnReap ? 'zombie' : 'reap';
    for (;;) {
      const r = this.sys.waitAny();
      if (r === 'none' || r === 'no-children') {
        last = r;
        break;
      }
      reaped = true;
      delete this.told[r.pid];
      if (r.pid === this.childPid) {
        this.childStatus = r.status;
      } else if (this.log.enabled(reapEvent)) {
        // The hot path of a burst: build the line only when it will be written.
        this.note(reapEvent, `reaped pid ${r.pid}`, { pid: r.pid, status: r.status });
      }
    }
    this.moveOn(last, reaped);
  }

  /**
   * What the state owes now: the child's end (even one reaped by a call that then failed
   * halfway), a deadline whose timer was lost, the exit once nothing is left.
   */
  private moveOn(last: 'none' | 'no-children', reaped: boolean): void {
    const s = this.state;
    const now = this.sys.now();
    const end = this.childStatus === null ? undefined : decodeWaitStatus(this.childStatus);
    if (end !== undefined && childRuns(s)) {
      this.onChildExit(s, end);
    } else if (s.kind === 'holding' && now >= s.releaseAt) {
      this.releaseHeldSignal(s, 'delay over');
    } else if (beforeKill(s) && killAfterDue(s, now)) {
      this.expireKillAfter();
    } else if (s.kind === 'draining' && now >= s.deadlineAt) {
      this.endDrain(s);
    } else if (killing(s) && now >= s.sweep.graceAt) {
      this.endGrace();
    } else if (s.kind === 'draining' && reaped && this.unreached) {
      // Without pidfds only tsinit's own children can be signalled: the reaping just done may
      // have made more of them.
      this.tellUntold();
    }
    const after = this.state;
    if (last === 'no-children' && childGone(after)) this.finish(after);
  }

  private onChildExit(s: ChildRunning, end: ChildEnd): void {
    const code = exitCodeOf(end);
    if (s.kind === 'killing-child') {
      // The exit code stays --kill-after's; the sweep and its grace already run.
      this.state = { kind: 'killing-rest', code: s.code, sweep: s.sweep };
    } else if (this.config.waitAll && s.stopping === null) {
      this.state = { kind: 'waiting-all', code };
    } else {
      // The state changes first: whatever fails below, the child is not waited for again.
      const deadlineAt = this.sys.now() + this.config.drainMs;
      this.state = { kind: 'draining', code, deadline: null, deadlineAt };
    }
    // A TERM still held by --term-delay is moot: the drain tells the rest to stop.
    if (s.kind === 'holding') this.cancel(s.timer);
    if (beforeKill(s) && s.stopping !== null && s.stopping.killAfter !== null) this.cancel(s.stopping.killAfter);
    this.noteChildExit(end);
    const next = this.state;
    if (next.kind === 'killing-rest') this.startKilling('after --kill-after');
    else if (next.kind === 'waiting-all') this.noteWaitingAll();
    else this.startDrain(code);
  }

  /** The child-exit line: its code, or the signal that killed it. */
  private noteChildExit(end: ChildEnd): void {
    const pid = this.childPid;
    if (end.kind === 'exited') {
      this.note('child-exit', `child ${pid} exited with ${end.code}`, { pid, code: end.code });
    } else {
      const signal = formatSignal(end.signal);
      this.note('child-exit', `child ${pid} was killed by ${signal}`, { pid, signal });
    }
  }

  /** The line that starts --wait-all, with how many are left (null without /proc). */
  private noteWaitingAll(): void {
    const left = this.walk();
    const remaining = left === null ? null : left === 'failed' ? 0 : left.length;
    this.note('drain', 'waiting for every other descendant to exit (--wait-all)', { remaining, deadline: null });
  }

  /**
   * The drain: SIGTERM to what is left (unless already stopping), then SIGKILL at the
   * deadline; code is the exit code to come.
   */
  private startDrain(code: number): void {
    const ms = this.config.drainMs;
    const draining: Draining = { kind: 'draining', code, deadline: null, deadlineAt: this.sys.now() + ms };
    this.state = draining;
    if (ms === 0) {
      this.exitWith(code);
      return;
    }
    let counts: ReturnType<Supervisor['tellUntold']> = null;
    try {
      counts = this.tellUntold();
    } catch {
      this.unreached = true;
    }
    const deadlineAt = new Date(Date.now() + ms).toISOString();
    let detail = '';
    if (counts !== null) {
      const notOurs = counts.notOurs > 0 ? `, ${counts.notOurs} no longer tsinit's` : '';
      const unreached =
        counts.unreached > 0 ? `, ${counts.unreached} not tsinit's children, left until they are (no pidfd)` : '';
      detail = ` (${counts.told} sent SIGTERM, ${counts.stopping} already stopping${notOurs}${unreached})`;
    }
    const what = counts === null ? 'unknown number of' : String(counts.left);
    const fields = { remaining: counts?.left ?? null, deadline: deadlineAt, signalled: counts?.told ?? null };
    this.note('drain', `draining ${what} process(es) for up to ${formatDuration(ms)}${detail}`, fields);
    const deadline = this.timer(ms, () => {
      const now = this.state;
      if (now.kind === 'draining') this.endDrain(now);
    });
    this.state = { ...draining, deadline };
  }

  /**
   * SIGTERM to every process left that neither got the stop signal nor descends from one that
   * did; counts, or null without /proc (then the group is told, unless it was already).
   */
  private tellUntold(): { left: number; told: number; stopping: number; unreached: number; notOurs: number } | null {
    const left = this.walk();
    if (left === null || left === 'failed') {
      if (!this.config.singleChild && !this.groupTold) {
        this.groupTold = true;
        this.signalGroup(SIGTERM);
      }
      return null;
    }
    const stopping = this.listStopping(left, true);
    let told = 0;
    let unreached = 0;
    let notOurs = 0;
    let waited = 0;
    for (const p of left) {
      if (stopping[p.pid]) {
        this.told[p.pid] = p.start;
        waited++;
        continue;
      }
      const r = signalDescendant(this.sys, this.sys.ownPid, p, SIGTERM);
      if (r === 'sent') {
        this.told[p.pid] = p.start;
        told++;
      } else if (r === 'unsafe') unreached++;
      else if (r === 'not-ours') notOurs++;
    }
    this.unreached = unreached > 0;
    return { left: left.length, told, stopping: waited, unreached, notOurs };
  }

  /**
   * The pids in left that are part of a shutdown already under way, which the drain waits for
   * instead of signalling: each process told (the same process: its start time matches), each
   * member of the child's group that started before the stop signal went to the group, and
   * every descendant of those (by the ppid links as they stand now: what a TERM handler started
   * after the forward, in any group or session). An orphan's link ends at tsinit.
   */
  private listStopping(left: readonly Descendant[], prune: boolean): Record<number, true> {
    // Plain objects keyed by pid: on the static host a Map is a polyfill, several times slower
    // per entry, and a drain handles thousands.
    const byPid: Record<number, Descendant> = {};
    for (const p of left) byPid[p.pid] = p;
    const stopping: Record<number, true> = {};
    // Strictly before: one started in the same tick as the signal may have missed it.
    const groupAt = this.groupToldAt;
    for (const p of left) {
      const told = this.told[p.pid] === p.start;
      const inGroupBefore = groupAt !== null && p.pgid === this.childPid && p.start < groupAt;
      if (told || inGroupBefore) stopping[p.pid] = true;
    }
    for (const p of left) {
      // Up the chain until a stopping ancestor or the chain leaves the list (tsinit, or gone);
      // the step bound is a guard against a cycle a racy /proc walk could report.
      let cur = p;
      for (let steps = 0; steps <= left.length && !stopping[cur.pid]; steps++) {
        const parent = byPid[cur.ppid];
        if (parent === undefined) break;
        if (stopping[parent.pid]) {
          stopping[p.pid] = true;
          break;
        }
        cur = parent;
      }
    }
    // What is not below tsinit any more is pruned: a later owner of the number is not told.
    if (prune) this.pruneTold(byPid);
    return stopping;
  }

  /** Forgets the told that are no longer listed: a later owner of the number is not told. */
  private pruneTold(listed: Record<number, Descendant>): void {
    for (const key in this.told) {
      const pid = key as unknown as number;
      if (listed[pid] === undefined) delete this.told[pid];
    }
  }

  /** The drain's deadline: what is left gets SIGKILL, pass after pass. */
  private endDrain(s: Draining): void {
    this.cancel(s.deadline);
    this.state = { kind: 'killing-rest', code: s.code, sweep: this.armSweep() };
    this.startKilling(`still running at the end of the ${formatDuration(this.config.drainMs)} drain`);
  }

  /** The first killing pass; without /proc, PID 1 exits at once after it (its exit ends the rest of its namespace). */
  private startKilling(reason: string): void {
    const listed = this.sweepSafely('first', reason);
    const s = this.state;
    if (listed === null && this.sys.isPid1 && s.kind === 'killing-rest') this.finish(s);
  }

  /** The grace of a killing state and its first re-walk. */
  private armSweep(): Sweep {
    const graceAt = this.sys.now() + KILL_REAP_GRACE_MS;
    const grace = this.timer(KILL_REAP_GRACE_MS, () => this.endGrace());
    const next = this.timer(SWEEP_INTERVAL_MS, () => this.sweepAgain());
    return { graceAt, grace, next };
  }

  /** The next killing pass, and the one after it while anything is listed. */
  private sweepAgain(): void {
    const s = this.state;
    if (!killing(s)) return;
    const listed = this.sweepSafely('again', '');
    const done = listed === 0 && s.kind === 'killing-rest';
    s.sweep.next = done ? null : this.timer(SWEEP_INTERVAL_MS, () => this.sweepAgain());
  }

  /** The grace is over: one last pass, then the exit, whatever is left. */
  private endGrace(): void {
    const s = this.state;
    if (!killing(s)) return;
    this.sweepSafely('last', '');
    this.finish(s);
  }

  /** A killing pass that cannot throw: out of memory it counts as one that listed something, so the passes go on. */
  private sweepSafely(pass: 'first' | 'again' | 'last', reason: string): number | null {
    try {
      return this.sweep(pass, reason);
    } catch {
      return -1;
    }
  }

  /**
   * One killing pass over a fresh walk, parents before children: a process told to stop (or
   * started by one) gets SIGKILL; one that never got a SIGTERM gets it now and its SIGKILL on the next pass (at once
   * on the last). Returns how many were listed, or null without /proc: then the child's group
   * is all that can be named, and the line says so.
   */
  private sweep(pass: 'first' | 'again' | 'last', reason: string): number | null {
    const walked = this.walk();
    // A walk that failed names nobody: the child's group can still be named.
    const failed = walked === 'failed';
    if (failed && !this.config.singleChild) this.signalGroup(SIGKILL);
    if (walked === null) {
      const err = this.config.singleChild ? ESRCH : this.signalGroup(SIGKILL);
      if (pass === 'first') {
        const group = `the child's group ${this.childPid}`;
        const what = err === 0 ? `SIGKILL to ${group}` : "no process of the child's group left to SIGKILL";
        const rest = this.sys.isPid1 ? 'the rest ends with PID 1' : 'the rest cannot be named';
        this.note('kill', `${what} (no /proc: ${rest}): ${reason}`, { pids: [], reason });
      }
      return null;
    }
    const left = failed ? NOBODY : walked;
    const pids: number[] = [];
    let termed = 0;
    // Told, or started by one that was told: part of the shutdown under way, as in the drain.
    // A failed walk's empty list must not prune the record of who was told.
    const stopping = this.listStopping(left, !failed);
    for (const p of left) {
      // Recorded now: once its told ancestor is killed, its link to it is gone.
      if (stopping[p.pid]) this.told[p.pid] = p.start;
      else {
        if (signalDescendant(this.sys, this.sys.ownPid, p, SIGTERM) !== 'sent') continue;
        this.told[p.pid] = p.start;
        termed++;
        if (pass !== 'last') continue;
      }
      if (signalDescendant(this.sys, this.sys.ownPid, p, SIGKILL) === 'sent') pids.push(p.pid);
    }
    const event = pass === 'first' ? 'kill' : 'signal-detail';
    if (failed) {
      if (pass === 'first') {
        const what = `SIGKILL to the child's group ${this.childPid} only`;
        this.note('kill', `cannot list what is left (out of memory): ${what}: ${reason}`, { pids: [], reason });
      }
      return left.length;
    }
    if ((pass === 'first' || pids.length + termed > 0) && this.log.enabled(event)) {
      const why = reason === '' ? '' : `: ${reason}`;
      const first = termed > 0 ? ` (SIGTERM first to ${termed} never told to stop)` : '';
      this.note(event, `SIGKILL to ${pids.length} process(es)${why}${first}`, { pids, reason, signalled: termed });
    }
    return left.length;
  }

  /**
   * sig to the child's process group. While the child is unreaped its pid holds the group id;
   * after, only the pidfd held since the start names that group for sure
   * (PIDFD_SIGNAL_PROCESS_GROUP, Linux 6.9); an older kernel gets kill(-pgid), which could
   * only reach another group if the whole group had ended and its id been reused meanwhile.
   */
  private signalGroup(sig: number): number {
    if (this.childStatus === null) return this.sys.kill(-this.childPid, sig);
    if (this.childHandle >= 0) {
      const err = this.sys.signalProcess(this.childHandle, sig, true);
      if (err !== EINVAL) return err;
    }
    return this.sys.kill(-this.childPid, sig);
  }

  /**
   * The walk, or null without /proc. One that fails (out of memory) is 'failed': it names
   * nobody this time, and the drain walks again after the next reaping: PID 1 degrades, never stops.
   */
  private walk(): Descendant[] | null | 'failed' {
    try {
      return this.sys.descendants();
    } catch {
      this.unreached = true;
      return 'failed';
    }
  }

  /** Exits with the state's code; the state's timers are cancelled first. */
  private finish(s: ChildGone | Killing): void {
    if (s.kind === 'draining') this.cancel(s.deadline);
    if (killing(s)) {
      this.cancel(s.sweep.grace);
      if (s.sweep.next !== null) this.cancel(s.sweep.next);
    }
    this.exitWith(s.code);
  }

  /** Exits with code after --remap-exit; from here on nothing happens. */
  private exitWith(base: number): void {
    this.state = { kind: 'exiting' };
    const code = remapExitCode(base, this.config.remapExit);
    this.note('exit', `exiting with ${code}${code !== base ? ` (remapped from ${base})` : ''}`, { code });
    this.sys.exit(code);
  }

  /**
   * A timer, or null when one cannot be made (out of memory): every deadline is also kept as a
   * time that reap() checks on each wake-up (the loop's backstop is 1 s), so none is lost.
   */
  private timer(ms: number, fn: () => void): Timer | null {
    try {
      return this.sys.setTimer(ms, fn);
    } catch {
      return null;
    }
  }

  private cancel(t: Timer | null): void {
    if (t === null) return;
    try {
      this.sys.clearTimer(t);
    } catch {
      /* it fires into a state that ignores it */
    }
  }

  /** A log line that can never throw: out of memory it is dropped, and PID 1 goes on. */
  private note(event: LogEvent, message: string, fields?: Fields): void {
    try {
      this.log.log(event, message, fields);
    } catch {
      /* the line is lost, nothing else */
    }
  }
}
