// The state machine after the child is spawned: running → (waiting-all) → draining → exiting.
// It decides what each signal becomes (rewrite, drop, delay, forward), when to reap, drain
// and kill, and the exit code. It reaches the system only through the injected System, so
// tests drive it with a fake. Nothing here may throw once the child runs: PID 1 must live.

import type { Config } from './cli.ts';
import { formatDuration } from './duration.ts';
import type { Fields, Logger } from './log.ts';
import { formatSignal, SIGKILL, SIGQUIT, SIGINT, SIGTERM, TERMINATING_SIGNALS } from './signals.ts';
import type { ProcessInfo } from './proc.ts';
import { decodeWaitStatus, exitCodeOf, remapExitCode, type ChildEnd } from './status.ts';

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

type State = 'running' | 'waiting-all' | 'draining' | 'exiting';

/** After SIGKILLing what is left, how long to wait for the kernel to hand back the bodies. */
const KILL_REAP_GRACE_MS = 2000;

export class Supervisor {
  private state: State = 'running';
  private childEnd: ChildEnd | null = null;
  /** A terminating signal was forwarded: the shutdown has begun. */
  private stopping = false;
  /** A terminating signal went to the child's whole group: every member is already stopping. */
  private groupStopping = false;
  private forcedExitCode: number | null = null;
  /** Processes already sent a terminating signal in this shutdown: the drain skips them. */
  private readonly signalled = new Set<number>();
  private heldSignal: number | null = null;
  private termDelayTimer: unknown = null;
  private killAfterTimer: unknown = null;
  private drainTimer: unknown = null;
  private graceTimer: unknown = null;

  constructor(
    private readonly config: Config,
    private readonly sys: System,
    private readonly log: Logger,
    readonly childPid: number,
  ) {}

  /** A signal reached tsinit (never SIGCHLD: that is reap()). */
  onSignal(sig: number): void {
    if (this.state === 'exiting') return;
    const rewritten = this.config.rewrite.get(sig);
    const to = rewritten ?? sig;
    const name = formatSignal(sig);
    if (to === 0) {
      this.log.log('info', 'signal', `${name} dropped (--rewrite)`, { signal: name, action: 'dropped', target: null });
      return;
    }
    const action = rewritten === undefined ? 'forwarded' : 'rewritten';
    // --term-delay holds the stop request (a SIGTERM received, or what a rewrite made a SIGTERM).
    const stopRequest = sig === SIGTERM || to === SIGTERM;
    if (this.heldSignal !== null) {
      if (stopRequest) { this.releaseHeldSignal('second SIGTERM'); return; }
      if (sig === SIGINT || sig === SIGQUIT || to === SIGINT || to === SIGQUIT) this.releaseHeldSignal(name);
    } else if (stopRequest && this.config.termDelayMs !== null && this.config.termDelayMs > 0 && this.state === 'running') {
      this.heldSignal = to;
      const ms = this.config.termDelayMs;
      this.log.log('info', 'signal', `${name} held for ${formatDuration(ms)} (--term-delay)`, { signal: name, action: 'delayed', target: this.describeTarget(), delay_ms: ms });
      this.termDelayTimer = this.sys.setTimer(ms, () => this.releaseHeldSignal('delay over'));
      return;
    }
    this.deliver(to, action, name);
  }

  private releaseHeldSignal(why: string): void {
    const sig = this.heldSignal;
    if (sig === null) return;
    this.heldSignal = null;
    if (this.termDelayTimer !== null) this.sys.clearTimer(this.termDelayTimer);
    this.termDelayTimer = null;
    this.log.log('debug', 'signal', `releasing held ${formatSignal(sig)}: ${why}`, { signal: formatSignal(sig), action: 'released', target: null });
    this.deliver(sig, 'forwarded', formatSignal(SIGTERM));
  }

  private describeTarget(): string {
    if (this.state !== 'running') return 'descendants';
    return this.config.singleChild ? `child ${this.childPid}` : `group ${this.childPid}`;
  }

  /** Sends sig where it belongs now; received is the name of what tsinit was sent. */
  private deliver(sig: number, action: 'forwarded' | 'rewritten', received: string): void {
    const terminating = TERMINATING_SIGNALS.has(sig);
    const target = this.describeTarget();
    // The hot path of a flood: build the line only when it will be written (on the static
    // host every object made here is work for an interpreter and its allocator).
    if (this.log.enabled('info')) {
      const fields = { signal: received, action, target, ...(action === 'rewritten' ? { to: formatSignal(sig) } : {}) };
      this.log.log('info', 'signal', `${received} ${action}${action === 'rewritten' ? ` as ${formatSignal(sig)}` : ''} to ${target}`, fields);
    }
    if (this.state === 'running') {
      if (terminating) this.markSignalled();
      const pid = this.config.singleChild ? this.childPid : -this.childPid;
      const err = this.sys.kill(pid, sig);
      // ESRCH is expected: the child (or its whole group) may end between the signal and this call.
      if (err !== 0) this.log.log('debug', 'signal', `kill(${pid}, ${formatSignal(sig)}): errno ${err}`, { signal: formatSignal(sig), action: 'failed', target, errno: err });
      if (terminating) {
        this.stopping = true;
        if (!this.config.singleChild) this.groupStopping = true;
        this.armKillAfter();
      }
      return;
    }
    // The main child is gone: what is left gets the signal one by one.
    for (const p of this.sys.descendants() ?? []) {
      this.sys.kill(p.pid, sig);
      if (terminating) this.signalled.add(p.pid);
    }
    if (terminating) {
      this.stopping = true;
      if (this.state === 'waiting-all') this.startDrain();
    }
  }

  /** Remembers who is being told to stop now, so the drain does not send them a second TERM. */
  private markSignalled(): void {
    this.signalled.add(this.childPid);
    if (this.config.singleChild) return;
    for (const p of this.sys.descendants() ?? []) {
      if (p.pgid === this.childPid) this.signalled.add(p.pid);
    }
  }

  private armKillAfter(): void {
    const ms = this.config.killAfterMs;
    if (ms === null || this.killAfterTimer !== null) return;
    this.killAfterTimer = this.sys.setTimer(ms, () => {
      this.killAfterTimer = null;
      if (this.childEnd !== null || this.state === 'exiting') return;
      this.forcedExitCode = 128 + SIGKILL;
      this.killEverything(`child still running ${formatDuration(ms)} after a terminating signal (--kill-after)`);
    });
  }

  /** Reaps every exited child (SIGCHLD, the backstop timer); moves the state on. */
  reap(): void {
    if (this.state === 'exiting') return;
    let childEnded: ChildEnd | null = null;
    let last: 'none' | 'no-children';
    const reapLevel = this.config.warnOnReap ? 'warning' : 'debug';
    for (;;) {
      const r = this.sys.waitAny();
      if (r === 'none' || r === 'no-children') { last = r; break; }
      if (r.pid === this.childPid) {
        const end = decodeWaitStatus(r.status);
        if (end !== undefined) childEnded = end;
      } else if (this.log.enabled(reapLevel)) {
        // The hot path of a burst: build the line only when it will be written.
        this.log.log(reapLevel, 'reap', `reaped pid ${r.pid}`, { pid: r.pid, status: r.status });
      }
    }
    if (childEnded !== null && this.childEnd === null) this.onChildExit(childEnded);
    if (last === 'no-children' && this.childEnd !== null && this.state !== 'running') this.finish();
  }

  private onChildExit(end: ChildEnd): void {
    this.childEnd = end;
    const fields: Fields = end.kind === 'exited' ? { pid: this.childPid, code: end.code } : { pid: this.childPid, signal: formatSignal(end.signal) };
    const how = end.kind === 'exited' ? `exited with ${end.code}` : `was killed by ${formatSignal(end.signal)}`;
    this.log.log('info', 'child-exit', `child ${this.childPid} ${how}`, fields);
    // A TERM still held by --term-delay is moot: the drain below tells the rest to stop.
    if (this.termDelayTimer !== null) this.sys.clearTimer(this.termDelayTimer);
    this.termDelayTimer = null;
    this.heldSignal = null;
    if (this.killAfterTimer !== null) this.sys.clearTimer(this.killAfterTimer);
    this.killAfterTimer = null;
    if (this.forcedExitCode !== null) {
      this.state = 'draining';
      this.killEverything('after --kill-after');
    } else if (this.config.waitAll && !this.stopping) {
      this.state = 'waiting-all';
      this.log.log('info', 'drain', 'waiting for every other descendant to exit (--wait-all)', { remaining: this.sys.descendants()?.length ?? null, deadline: null });
    } else {
      this.startDrain();
    }
  }

  /** SIGTERM to what is left (unless already stopping), then SIGKILL at the deadline. */
  private startDrain(): void {
    if (this.state === 'draining' || this.state === 'exiting') return;
    this.state = 'draining';
    const ms = this.config.drainMs;
    if (ms === 0) { this.finish(); return; }
    const left = this.sys.descendants();
    let told = 0;
    if (left === null) {
      // No /proc: the group is all we can name. The deadline's kill(-1) still reaches the rest as PID 1.
      if (!this.config.singleChild && !this.signalled.has(this.childPid)) this.sys.kill(-this.childPid, SIGTERM);
    } else {
      const stopping = this.listStopping(left);
      for (const p of left) {
        if (stopping.has(p.pid)) continue;
        this.sys.kill(p.pid, SIGTERM);
        this.signalled.add(p.pid);
        told++;
      }
    }
    const deadline = new Date(this.sys.now() + ms).toISOString();
    const detail = left === null ? '' : ` (${told} sent SIGTERM, ${left.length - told} already stopping)`;
    this.log.log('info', 'drain', `draining ${left === null ? 'unknown number of' : left.length} process(es) for up to ${formatDuration(ms)}${detail}`, { remaining: left?.length ?? null, deadline, signalled: left === null ? null : told });
    this.drainTimer = this.sys.setTimer(ms, () => {
      this.drainTimer = null;
      this.killEverything(`still running at the end of the ${formatDuration(ms)} drain`);
    });
  }

  /**
   * The pids in left that are part of a shutdown already under way, which the drain waits for
   * instead of signalling: each process that got a terminating signal, every member of the
   * child's group when one went to the group, and every descendant of those (by the ppid links
   * as they stand now: what a TERM handler started after the forward, in any group or session).
   * An orphan's link ends at tsinit, so an orphan outside the child's group counts as untold.
   */
  private listStopping(left: readonly Descendant[]): Set<number> {
    const parentOf = new Map<number, number>();
    for (const p of left) parentOf.set(p.pid, p.ppid);
    const stopping = new Set<number>();
    for (const p of left) {
      if (this.signalled.has(p.pid) || (this.groupStopping && p.pgid === this.childPid)) stopping.add(p.pid);
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

  /** SIGKILL to every descendant (and the child's group); exit once they are reaped. */
  private killEverything(reason: string): void {
    const left = this.sys.descendants();
    const pids = left?.map((p) => p.pid) ?? [];
    if (this.childEnd === null) this.sys.kill(-this.childPid, SIGKILL);
    for (const pid of pids) this.sys.kill(pid, SIGKILL);
    // Without /proc, PID 1 can still reach everything in its namespace but itself.
    if (left === null && this.sys.isPid1) this.sys.kill(-1, SIGKILL);
    const whom = left === null ? (this.sys.isPid1 ? 'every process (kill -1, no /proc)' : 'the child\'s group (no /proc)') : `${pids.length} process(es)`;
    this.log.log('warning', 'kill', `SIGKILL to ${whom}: ${reason}`, { pids, reason });
    if (this.graceTimer === null) this.graceTimer = this.sys.setTimer(KILL_REAP_GRACE_MS, () => this.finish());
  }

  private finish(): void {
    if (this.state === 'exiting') return;
    this.state = 'exiting';
    for (const t of [this.termDelayTimer, this.killAfterTimer, this.drainTimer, this.graceTimer]) {
      if (t !== null) this.sys.clearTimer(t);
    }
    const base = this.forcedExitCode ?? (this.childEnd === null ? 1 : exitCodeOf(this.childEnd));
    const code = remapExitCode(base, this.config.remapExit);
    this.log.log('info', 'exit', `exiting with ${code}${code !== base ? ` (remapped from ${base})` : ''}`, { code });
    this.sys.exit(code);
  }
}
