// A real fault in one of Node's threads must end tsinit, a fault signal sent with kill(2) must
// be forwarded: how the Node host tells the two apart (the static host's loop needs none of
// this: its one thread blocks every signal). Never exits: main.ts does.

import { FAULT_SIGNALS } from '../core/signals.ts';
import type { Logger } from '../core/log.ts';
import * as libc from './libc.ts';

/**
 * Fault signals (ILL, TRAP, BUS, FPE, SEGV). Sent with kill(2) they are requests to forward;
 * raised by the CPU they are a bug in tsinit, which must end it rather than spin (a handler
 * that returns re-executes the faulting instruction). The kernel tells the two apart: a real
 * fault is aimed at the faulting thread and, if that thread blocks or ignores the signal, is
 * forced to its default action (kernel/signal.c, force_sig_info_to_task); a kill()-sent one
 * is aimed at the process and taken by any thread that does not block it. So the JS thread
 * (our code, V8's compiled code, the main GC) blocks them, and a real fault there ends
 * tsinit at once. Node's other threads (V8's worker and delayed-task threads, made during
 * start-up before any of our code runs, so their masks are out of our reach; their SigBlk
 * holds only SIGUSR1) leave them unblocked: a kill()-sent one lands there, libuv's handler
 * tells the loop, and it is forwarded. That handler stays installed (no SA_RESETHAND, which
 * let a second one arrive at SIG_DFL and end tsinit), so none can, however fast they come.
 * A real fault on one of those threads would spin, and the loop hear of it thousands of
 * times a second: past FAULT_BURST_PER_S, the fault signals are ignored for FAULT_PROBE_MS,
 * so that a faulting thread dies at its next fault; kill()-sent ones in that window are
 * dropped, never fatal.
 */
const FAULT_BURST_PER_S = 1000;
const FAULT_PROBE_MS = 100;
/** libuv's handlers for the fault signals, put back after a probe. */
const faultActions = new Map<number, bigint>();
let faultWindowStart = 0;
let faultsInWindow = 0;
let probingFaults = false;
/** The logger once there is one: a probe says so. */
let probeLog: Logger | null = null;

/** Blocks the fault signals in the JS thread and keeps libuv's handlers for them (see above). */
export function guardFaultSignals(): void {
  libc.blockSignalsInThisThread(FAULT_SIGNALS);
  for (const sig of FAULT_SIGNALS) {
    const act = libc.saveAction(sig);
    if (act !== null) faultActions.set(sig, act);
  }
}

/** Counts a fault signal; past FAULT_BURST_PER_S within a second, ignores them all for FAULT_PROBE_MS. */
export function noteFaultSignal(): void {
  const now = performance.now();
  if (now - faultWindowStart >= 1000) {
    faultWindowStart = now;
    faultsInWindow = 0;
  }
  if (++faultsInWindow <= FAULT_BURST_PER_S || probingFaults) return;
  probingFaults = true;
  // Logged first: if a thread is faulting, tsinit ends as the signals are ignored.
  probeLog?.log(
    'warning',
    `fault signals arriving faster than ${FAULT_BURST_PER_S}/s: ignored for ${FAULT_PROBE_MS} ms, in case one of tsinit's threads is faulting`,
  );
  ignoreFaultSignals();
  setTimeout(() => {
    for (const [sig, act] of faultActions) libc.restoreAction(sig, act);
    probingFaults = false;
    faultWindowStart = performance.now();
    faultsInWindow = 0;
  }, FAULT_PROBE_MS).unref();
}

/** Sets the fault signals to SIG_IGN: a thread spinning in a real fault dies at its next one. */
export function ignoreFaultSignals(): void {
  for (const sig of faultActions.keys()) libc.ignoreSignal(sig);
}

/** From now on a probe is logged. */
export function logFaultProbesTo(log: Logger): void {
  probeLog = log;
}
