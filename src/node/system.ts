// The System the supervisor runs on in the Node host: libc for signals, pidfds and waitpid,
// /proc through node:fs, Node's timers. Reads only; writes nothing anywhere (a read-only root is fine).

import { readdirSync, readFileSync } from 'node:fs';
import type { ProcReader, System } from '../core/host.ts';
import { createProcView } from '../core/proc.ts';
import * as libc from './libc.ts';

/** /proc through node:fs, for the core's walk of the process tree. */
export const procReader: ProcReader = {
  readFile(path) {
    try {
      return readFileSync(path, 'latin1');
    } catch {
      return null;
    }
  },
  listDir(path) {
    try {
      return readdirSync(path);
    } catch {
      return null;
    }
  },
};

/** procTrusted: /proc is of tsinit's own pid namespace (src/core/setup.ts configureProc). */
export function createSystem(exit: (code: number) => void, procTrusted: boolean): System {
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
    setTimer: (ms, fn) => setTimeout(fn, ms),
    clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
    now: () => performance.now(),
    exit,
  };
}
