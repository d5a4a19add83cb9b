// The System the supervisor runs on in the static host: the bridge for signals, pidfds and
// waitpid, /proc through open/read and opendir/readdir, timers from the loop. Reads only.

import type { ProcReader, System } from '../core/host.ts';
import { createProcView } from '../core/proc.ts';
import * as libc from './libc.ts';
import type { Loop } from './loop.ts';

export const procReader: ProcReader = { readFile: libc.readFile, listDir: libc.listDir };

/** procTrusted: /proc is of tsinit's own pid namespace (src/core/setup.ts configureProc). */
export function createSystem(loop: Loop, procTrusted: boolean): System {
  const ownPid = libc.getpid();
  return {
    kill: libc.kill,
    openProcess: libc.openProcess,
    signalProcess: libc.signalProcess,
    closeProcess: libc.closeProcess,
    waitAny: libc.waitAny,
    ...createProcView(procReader, ownPid, procTrusted),
    ownPid,
    isPid1: ownPid === 1,
    setTimer: (ms, fn) => loop.setTimer(ms, fn),
    clearTimer: (t) => loop.clearTimer(t as number),
    now: () => libc.monotonicMs(),
    exit: (code) => libc.exit(code),
  };
}
