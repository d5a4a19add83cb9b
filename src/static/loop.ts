// tini's loop, not an event loop: every signal stays blocked and one call takes them with
// sigtimedwait, the timeout being the nearest timer (or a 1 s backstop). No code runs in
// signal context, nothing is lost between a handler and the loop, realtime signals queue in
// the kernel, and a real fault (SEGV while blocked) takes its default action and ends tsinit
// (before the spawn host.c catches faults instead, to end with one line).

import { SIGCHLD } from '../core/signals.ts';
import * as libc from './libc.ts';

/** How long the loop sleeps at most: the reaper runs on every wake-up, this is the backstop. */
const BACKSTOP_MS = 1000;
/** The least wait after a turn that threw; doubled for each further one in a row, up to BACKSTOP_MS. */
const FAILED_TURN_MS = 10;
/** The most signals one wake-up takes before it reaps and runs the timers. */
const SIGNAL_BATCH = 64;

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export interface LoopHandlers {
  /** A signal other than SIGCHLD reached tsinit. */
  onSignal(sig: number): void;
  /** Every wake-up: reap what has exited. */
  reap(): void;
  /** A callback threw: the loop goes on (after the child is spawned nothing may end tsinit). */
  onError(e: unknown): void;
}

export class Loop {
  private timers: Timer[] = [];
  private nextId = 1;

  /** Calls fn once, ms from now. */
  setTimer(ms: number, fn: () => void): number {
    const id = this.nextId++;
    this.timers.push({ id, at: libc.monotonicMs() + ms, fn });
    return id;
  }

  clearTimer(id: number): void {
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  /**
   * Runs until a handler ends the process. Nothing thrown in a turn ends it: the timers'
   * bookkeeping lies outside the handlers' try blocks, and out of memory can strike anywhere.
   */
  run(h: LoopHandlers): never {
    // After a turn that threw, the next one waits at least FAILED_TURN_MS, doubled for each
    // further one in a row (up to the backstop), unless a signal comes first: out of memory
    // that lasts costs a turn a second, not a spin. When memory comes back the next turn reaps
    // as usual. Plain arithmetic inside the try: a call outside it could throw out of run().
    let backoff = 0;
    for (;;) {
      try {
        const minWait = backoff;
        backoff = backoff === 0 ? FAILED_TURN_MS : backoff * 2 < BACKSTOP_MS ? backoff * 2 : BACKSTOP_MS;
        this.turn(h, minWait);
        backoff = 0;
      } catch (e) {
        h.onError(e);
      } finally {
        // Drops whatever the catch itself threw (onError, or entering the catch: binding e
        // takes memory too): a `continue` in a finally discards the exception, and binds nothing.
        // eslint-disable-next-line no-unsafe-finally -- discarding what the catch threw is the point (above)
        continue;
      }
    }
  }

  /** One wake-up: wait for a signal or the nearest timer (at least minWait ms), dispatch it, reap, run due timers. */
  turn(h: LoopHandlers, minWait = 0): void {
    let wait = BACKSTOP_MS;
    const now = libc.monotonicMs();
    // Indexed loops: a lowered for-of makes an iterator with a closure, garbage on every turn.
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- i < length; a check per timer per turn buys nothing
    for (let i = 0; i < this.timers.length; i++) wait = Math.min(wait, Math.max(0, this.timers[i]!.at - now));
    wait = Math.max(wait, minWait);
    let sig = libc.waitSignal(Math.ceil(wait));
    // A flood: every signal already pending is taken before the one reap (up to a batch, so
    // that a flood that never ends still leaves room for reaping and the timers).
    // No closure per wake-up: in Duktape every function object and its prototype form a
    // cycle that reference counting cannot free, garbage left for the next full collection.
    for (let taken = 1; sig !== 0; taken++) {
      if (sig !== SIGCHLD) {
        try {
          h.onSignal(sig);
        } catch (e) {
          h.onError(e);
        }
      }
      sig = taken < SIGNAL_BATCH ? libc.waitSignal(0) : 0;
    }
    try {
      h.reap();
    } catch (e) {
      h.onError(e);
    }
    this.runDueTimers(h);
  }

  /** Runs every timer that is due, earliest first; one cleared by an earlier one does not run. */
  private runDueTimers(h: LoopHandlers): void {
    for (;;) {
      const now = libc.monotonicMs();
      let next: Timer | null = null;
      for (let i = 0; i < this.timers.length; i++) {
        // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- i < length, on every turn
        const t = this.timers[i]!;
        if (t.at <= now && (next === null || t.at < next.at)) next = t;
      }
      if (next === null) return;
      this.clearTimer(next.id);
      try {
        next.fn();
      } catch (e) {
        h.onError(e);
      }
    }
  }
}
