// The System the supervisor runs on in the static host: the bridge for signals and waitpid,
// /proc through open/read and opendir/readdir, timers from the loop. Reads only.

import { listDescendants, type ProcReader } from '../core/proc.ts';
import type { System } from '../core/supervisor.ts';
import * as libc from './libc.ts';
import type { Loop } from './loop.ts';

const procReader: ProcReader = { readFile: libc.readFile, listDir: libc.listDir };

export function createSystem(loop: Loop): System {
  return {
    kill: libc.kill,
    waitAny: libc.waitAny,
    descendants: () => listDescendants(procReader),
    isPid1: libc.getpid() === 1,
    setTimer: (ms, fn) => loop.setTimer(ms, fn),
    clearTimer: (t) => loop.clearTimer(t as number),
    now: () => Date.now(),
    exit: (code) => libc.exit(code),
  };
}
