// The state machine after the child is spawned: running (holding a TERM with --term-delay) →
// (waiting-all) → draining → exiting, with killing states after --kill-after or the drain.
// It decides what each signal becomes (rewrite, drop, delay, forward), when to reap, drain
// and kill, and the exit code. It reaches the system only through the injected System, so
// tests drive it with a fake. Nothing here may throw once the child runs: PID 1 must live.

import type { Config } from './cli.ts';
import { formatDuration } from './duration.ts';
import type { Fields, Logger } from './log.ts';
import { formatSignal, SIGKILL, SIGQUIT, SIGINT, SIGTERM, TERMINATING_SIGNALS } from './signals.ts';
import type { ProcessInfo } from './proc.ts';
import { decodeWaitStatus, exitCodeForKillAfter, exitCodeOf, remapExitCode, type ChildEnd } from './status.ts';

export const ESRCH = 3;

/** One process below tsinit as the host sees it now (src/core/proc.ts reads it from /proc). */
export type Descendant = ProcessInfo;

/** Everything the supervisor needs from the operating system. */
export interface System {
  /** kill(2): 0 or the errno. */
  kill(pid: number, sig: number): number;
  /** One waitpid(-1, WNOHANG). */
  waitAny(): { pid: number; status: number } | 'none' | 'no-children';
  /** Every descendant of tsinit with its parent (tsinit's own pid for its children) and process group, or null when /proc cannot tell. */
  descendants(): Descendant[] | null;
  /** True when tsinit is PID 1 of its pid namespace (kill(-1) then means "all but me"). */
  readonly isPid1: boolean;
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(timer: unknown): void;
  now(): number;
  exit(code: number): void;
}

/** A shutdown under way while the child runs: a terminating signal went to it. */
interface Stopping {
  /** --kill-after's timer, from the first terminating signal; null without --kill-after. */
  readonly killAfter: unknown;
}

/**
 * Where the supervisor stands; each state holds the data and timers valid in it, and a
 * transition builds the next one. The child runs in the first three, is gone in the next three.
 */
type State =
  /** The child runs. */
  | { readonly kind: 'running'; readonly stopping: Stopping | null }
  /** The child runs; --term-delay holds a stop request (received as `received`, to send as `sig`). */
  | { readonly kind: 'holding'; readonly stopping: Stopping | null; readonly received: string; readonly sig: number; readonly action: Action; readonly timer: unknown }
  /** --kill-after expired: everything got SIGKILL; the exit waits for the child's reaping or the grace. */
  | { readonly kind: 'killing-child'; readonly code: number; readonly grace: unknown }
  /** The child is gone; --wait-all waits for every other descendant. */
  | { readonly kind: 'waiting-all'; readonly code: number }
  /** The child is gone; what is left has until the deadline to exit. */
  | { readonly kind: 'draining'; readonly code: number; readonly deadline: unknown }
  /** The child is gone; what was left got SIGKILL, the exit waits for their reaping or the grace. */
  | { readonly kind: 'killing-rest'; readonly code: number; readonly grace: unknown }
  | { readonly kind: 'exiting' };

type Holding = Extract<State, { kind: 'holding' }>;
type KillingChild = Extract<State, { kind: 'killing-child' }>;
type ChildRunning = Extract<State, { kind: 'running' | 'holding' | 'killing-child' }>;
type ChildGone = Extract<State, { kind: 'waiting-all' | 'draining' | 'killing-rest' }>;
type Action = 'forwarded' | 'rewritten';

/** After SIGKILLing what is left, how long to wait for the kernel to hand back the bodies. */
const KILL_REAP_GRACE_MS = 2000;

export class Supervisor {
  private state: State = { kind: 'running', stopping: null };
  /** Processes already sent a terminating signal in this shutdown: the drain skips them. */
  private readonly signalled = new Set<number>();

  constructor(
    private readonly config: Config,
    private readonly sys: System,
    private readonly log: Logger,
    readonly childPid: number,
  ) {}

  /** A signal reached tsinit (never SIGCHLD: that is reap()). */
  onSignal(sig: number): void {
    const s = this.state;
    if (s.kind === 'exiting') return;
    const rewritten = this.config.rewrite.get(sig);
    const to = rewritten ?? sig;
    const name = formatSignal(sig);
    if (to === 0) {
      this.log.log('signal', `${name} dropped (--rewrite)`, { signal: name, action: 'dropped', target: null });
      return;
    }
    const action = rewritten === undefined ? 'forwarded' : 'rewritten';
    // --term-delay holds the stop request (a SIGTERM received, or what a rewrite made a SIGTERM).
    const stopRequest = sig === SIGTERM || to === SIGTERM;
    if (s.kind === 'holding') {
      if (stopRequest) { this.releaseHeldSignal(s, 'second SIGTERM'); return; }
      if (sig === SIGINT || sig === SIGQUIT || to === SIGINT || to === SIGQUIT) this.releaseHeldSignal(s, name);
    } else if (stopRequest && this.config.termDelayMs !== null && this.config.termDelayMs > 0 && s.kind === 'running') {
      const ms = this.config.termDelayMs;
      this.log.log('signal', `${name} held for ${formatDuration(ms)} (--term-delay)`, { signal: name, action: 'delayed', target: this.describeTarget(), delay_ms: ms });
      const timer = this.sys.setTimer(ms, () => {
        const now = this.state;
        if (now.kind === 'holding') this.releaseHeldSignal(now, 'delay over');
      });
      this.state = { kind: 'holding', stopping: s.stopping, received: name, sig: to, action, timer };
      return;
    }
    this.deliver(to, action, name);
  }

  /** Sends the held signal as it would have gone without --term-delay. */
  private releaseHeldSignal(s: Holding, why: string): void {
    this.sys.clearTimer(s.timer);
    this.state = { kind: 'running', stopping: s.stopping };
    this.log.log('signal-detail', `releasing held ${formatSignal(s.sig)}: ${why}`, { signal: formatSignal(s.sig), action: 'released', target: null });
    this.deliver(s.sig, s.action, s.received);
  }

  private describeTarget(): string {
    const kind = this.state.kind;
    if (kind !== 'running' && kind !== 'holding' && kind !== 'killing-child') return 'descendants';
    return this.config.singleChild ? `child ${this.childPid}` : `group ${this.childPid}`;
  }

  /** Sends sig where it belongs now; received is the name of what tsinit was sent. */
  private deliver(sig: number, action: Action, received: string): void {
    const target = this.describeTarget();
    // The hot path of a flood: build the line only when it will be written (on the static
    // host every object made here is work for an interpreter and its allocator).
    if (this.log.enabled('signal')) {
      const fields = { signal: received, action, target, ...(action === 'rewritten' ? { to: formatSignal(sig) } : {}) };
      this.log.log('signal', `${received} ${action}${action === 'rewritten' ? ` as ${formatSignal(sig)}` : ''} to ${target}`, fields);
    }
    const s = this.state;
    switch (s.kind) {
      case 'running': case 'holding': case 'killing-child': this.signalChild(s, sig, target); return;
      case 'waiting-all': case 'draining': case 'killing-rest': this.signalDescendants(s, sig); return;
      case 'exiting': return;
    }
  }

  /** The child runs: sig goes to it, or to its group. A terminating one begins the shutdown. */
  private signalChild(s: ChildRunning, sig: number, target: string): void {
    // After --kill-after's SIGKILL the shutdown is past telling anyone to stop.
    const stopping = TERMINATING_SIGNALS.has(sig) && s.kind !== 'killing-child';
    if (stopping) this.markSignalled();
    const pid = this.config.singleChild ? this.childPid : -this.childPid;
    const err = this.sys.kill(pid, sig);
    // ESRCH is expected: the child (or its whole group) may end between the signal and this call.
    if (err !== 0) this.log.log('signal-detail', `kill(${pid}, ${formatSignal(sig)}): errno ${err}`, { signal: formatSignal(sig), action: 'failed', target, errno: err });
    if (stopping && s.stopping === null) this.state = { ...s, stopping: { killAfter: this.armKillAfter() } };
  }

  /** The main child is gone: what is left gets the signal one by one; a terminating one ends --wait-all. */
  private signalDescendants(s: ChildGone, sig: number): void {
    const terminating = TERMINATING_SIGNALS.has(sig);
    for (const p of this.sys.descendants() ?? []) {
      this.sys.kill(p.pid, sig);
      if (terminating) this.signalled.add(p.pid);
    }
    if (terminating && s.kind === 'waiting-all') this.startDrain(s.code, false);
  }

  /** Remembers who is being told to stop now, so the drain does not send them a second TERM. */
  private markSignalled(): void {
    this.signalled.add(this.childPid);
    if (this.config.singleChild) return;
    for (const p of this.sys.descendants() ?? []) {
      if (p.pgid === this.childPid) this.signalled.add(p.pid);
    }
  }

  /** --kill-after's timer, or null without the option. */
  private armKillAfter(): unknown {
    const ms = this.config.killAfterMs;
    if (ms === null) return null;
    return this.sys.setTimer(ms, () => {
      const s = this.state;
      if (s.kind !== 'running' && s.kind !== 'holding') return;
      // A TERM still held by --term-delay is moot: everything gets SIGKILL now.
      if (s.kind === 'holding') this.sys.clearTimer(s.timer);
      this.killEverything(`child still running ${formatDuration(ms)} after a terminating signal (--kill-after)`, true);
      this.state = { kind: 'killing-child', code: exitCodeForKillAfter(), grace: this.armGrace() };
    });
  }

  /** Reaps every exited child (SIGCHLD, the backstop timer); moves the state on. */
  reap(): void {
    if (this.state.kind === 'exiting') return;
    let childEnded: ChildEnd | null = null;
    let last: 'none' | 'no-children';
    const reapEvent = this.config.warnOnReap ? 'zombie' : 'reap';
    for (;;) {
      const r = this.sys.waitAny();
      if (r === 'none' || r === 'no-children') { last = r; break; }
      if (r.pid === this.childPid) {
        const end = decodeWaitStatus(r.status);
        if (end !== undefined) childEnded = end;
      } else if (this.log.enabled(reapEvent)) {
        // The hot path of a burst: build the line only when it will be written.
        this.log.log(reapEvent, `reaped pid ${r.pid}`, { pid: r.pid, status: r.status });
      }
    }
    const s = this.state;
    if (childEnded !== null && (s.kind === 'running' || s.kind === 'holding' || s.kind === 'killing-child')) this.onChildExit(s, childEnded);
    const after = this.state;
    if (last === 'no-children' && (after.kind === 'waiting-all' || after.kind === 'draining' || after.kind === 'killing-rest')) this.finish(after);
  }

  private onChildExit(s: ChildRunning, end: ChildEnd): void {
    const fields: Fields = end.kind === 'exited' ? { pid: this.childPid, code: end.code } : { pid: this.childPid, signal: formatSignal(end.signal) };
    const how = end.kind === 'exited' ? `exited with ${end.code}` : `was killed by ${formatSignal(end.signal)}`;
    this.log.log('child-exit', `child ${this.childPid} ${how}`, fields);
    if (s.kind === 'killing-child') {
      // The exit code stays --kill-after's; the grace already runs.
      this.state = { kind: 'killing-rest', code: s.code, grace: s.grace };
      this.killEverything('after --kill-after', false);
      return;
    }
    // A TERM still held by --term-delay is moot: the drain below tells the rest to stop.
    if (s.kind === 'holding') this.sys.clearTimer(s.timer);
    if (s.stopping !== null && s.stopping.killAfter !== null) this.sys.clearTimer(s.stopping.killAfter);
    const code = exitCodeOf(end);
    if (this.config.waitAll && s.stopping === null) {
      this.state = { kind: 'waiting-all', code };
      this.log.log('drain', 'waiting for every other descendant to exit (--wait-all)', { remaining: this.sys.descendants()?.length ?? null, deadline: null });
    } else {
      this.startDrain(code, s.stopping !== null && !this.config.singleChild);
    }
  }

  /**
   * SIGTERM to what is left (unless already stopping), then SIGKILL at the deadline; code is
   * the exit code to come. groupStopping: a terminating signal went to the child's whole group.
   */
  private startDrain(code: number, groupStopping: boolean): void {
    const ms = this.config.drainMs;
    if (ms === 0) { this.exitWith(code); return; }
    const left = this.sys.descendants();
    let told = 0;
    if (left === null) {
      // No /proc: the group is all we can name. The deadline's kill(-1) still reaches the rest as PID 1.
      if (!this.config.singleChild && !groupStopping) this.sys.kill(-this.childPid, SIGTERM);
    } else {
      const stopping = this.listStopping(left, groupStopping);
      for (const p of left) {
        if (stopping.has(p.pid)) continue;
        this.sys.kill(p.pid, SIGTERM);
        this.signalled.add(p.pid);
        told++;
      }
    }
    const deadlineAt = new Date(this.sys.now() + ms).toISOString();
    const detail = left === null ? '' : ` (${told} sent SIGTERM, ${left.length - told} already stopping)`;
    this.log.log('drain', `draining ${left === null ? 'unknown number of' : left.length} process(es) for up to ${formatDuration(ms)}${detail}`, { remaining: left?.length ?? null, deadline: deadlineAt, signalled: left === null ? null : told });
    const deadline = this.sys.setTimer(ms, () => {
      const now = this.state;
      if (now.kind !== 'draining') return;
      this.killEverything(`still running at the end of the ${formatDuration(ms)} drain`, false);
      this.state = { kind: 'killing-rest', code: now.code, grace: this.armGrace() };
    });
    this.state = { kind: 'draining', code, deadline };
  }

  /**
   * The pids in left that are part of a shutdown already under way, which the drain waits for
   * instead of signalling: each process that got a terminating signal, every member of the
   * child's group when one went to the group, and every descendant of those (by the ppid links
   * as they stand now: what a TERM handler started after the forward, in any group or session).
   * An orphan's link ends at tsinit, so an orphan outside the child's group counts as untold.
   */
  private listStopping(left: readonly Descendant[], groupStopping: boolean): Set<number> {
    const parentOf = new Map<number, number>();
    for (const p of left) parentOf.set(p.pid, p.ppid);
    const stopping = new Set<number>();
    for (const p of left) {
      if (this.signalled.has(p.pid) || (groupStopping && p.pgid === this.childPid)) stopping.add(p.pid);
    }
    for (const p of left) {
      // Up the chain until a stopping ancestor or the chain leaves the list (tsinit, or gone);
      // the step bound is a guard against a cycle a racy /proc walk could report.
      let pid = p.pid;
      for (let steps = 0; steps <= left.length && !stopping.has(pid); steps++) {
        const parent = parentOf.get(pid);
        if (parent === undefined) break;
        if (stopping.has(parent) || this.signalled.has(parent)) { stopping.add(p.pid); break; }
        pid = parent;
      }
    }
    return stopping;
  }

  /** SIGKILL to every descendant, and to the child's group while the child runs. */
  private killEverything(reason: string, childRuns: boolean): void {
    const left = this.sys.descendants();
    const pids = left?.map((p) => p.pid) ?? [];
    if (childRuns) this.sys.kill(-this.childPid, SIGKILL);
    for (const pid of pids) this.sys.kill(pid, SIGKILL);
    // Without /proc, PID 1 can still reach everything in its namespace but itself.
    if (left === null && this.sys.isPid1) this.sys.kill(-1, SIGKILL);
    const whom = left === null ? (this.sys.isPid1 ? 'every process (kill -1, no /proc)' : 'the child\'s group (no /proc)') : `${pids.length} process(es)`;
    this.log.log('kill', `SIGKILL to ${whom}: ${reason}`, { pids, reason });
  }

  /** The timer that ends the wait for the bodies of what got SIGKILL. */
  private armGrace(): unknown {
    return this.sys.setTimer(KILL_REAP_GRACE_MS, () => {
      const s = this.state;
      if (s.kind === 'killing-child' || s.kind === 'killing-rest') this.finish(s);
    });
  }

  /** Exits with the state's code; the state's timers are cancelled first. */
  private finish(s: ChildGone | KillingChild): void {
    if (s.kind === 'draining') this.sys.clearTimer(s.deadline);
    if (s.kind === 'killing-rest' || s.kind === 'killing-child') this.sys.clearTimer(s.grace);
    this.exitWith(s.code);
  }

  /** Exits with code after --remap-exit; from here on nothing happens. */
  private exitWith(base: number): void {
    this.state = { kind: 'exiting' };
    const code = remapExitCode(base, this.config.remapExit);
    this.log.log('exit', `exiting with ${code}${code !== base ? ` (remapped from ${base})` : ''}`, { code });
    this.sys.exit(code);
  }
}
