// The real System for the supervisor: libc for signals and waitpid, /proc for the process
// tree, Node timers. Reads only; writes nothing anywhere (a read-only root is fine).

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as libc from './libc.ts';
import { createProcView, type ProcReader } from '../core/proc.ts';
import type { System } from '../core/supervisor.ts';

/** /proc through node:fs, for the core's walk of the process tree. */
export const procReader: ProcReader = {
  readFile(path) {
    try { return readFileSync(path, 'latin1'); } catch { return null; }
  },
  listDir(path) {
    try { return readdirSync(path); } catch { return null; }
  },
};

/**
 * Descriptors above 2 that tsinit inherited (socket activation, a pipe from the caller), to
 * pass on to the child. Node marks the low inherited descriptors close-on-exec at start-up,
 * so the flag cannot tell them apart from Node's own; what Node itself has open by now is
 * anon_inode (epoll, io_uring, eventfd) or a pipe whose two ends are both ours (libuv's
 * self-pipes). Everything else was inherited. Without /proc: none (documented).
 */
export function listInheritedFds(): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return [];
  }
  const targets = new Map<number, string>();
  for (const name of names) {
    const fd = Number(name);
    if (fd <= 2) continue;
    try {
      targets.set(fd, readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // the descriptor readdir itself used, closed again by now
    }
  }
  const pipeEnds = new Map<string, number>();
  for (const t of targets.values()) if (t.startsWith('pipe:')) pipeEnds.set(t, (pipeEnds.get(t) ?? 0) + 1);
  const inherited: number[] = [];
  for (const [fd, target] of targets) {
    if (target.startsWith('anon_inode:')) continue;
    if (target.startsWith('pipe:') && pipeEnds.get(target)! > 1) continue;
    inherited.push(fd);
  }
  return inherited.sort((a, b) => a - b);
}

/**
 * Hands back the pages of tsinit's own executable that start-up touched and an idle init
 * no longer needs (~30 MB: the executable is a whole Node). Read-only mappings that hold no
 * copied-on-write page are dropped (refilled from the page cache if ever touched again);
 * the others are only offered for reclaim, which never changes content.
 * Returns how many mappings were released, or null without /proc.
 */
export function pageOutExecutable(): number | null {
  let smaps: string;
  let exe: string;
  try {
    smaps = readFileSync('/proc/self/smaps', 'latin1');
    exe = readlinkSync('/proc/self/exe');
  } catch {
    return null;
  }
  let count = 0;
  let current: { start: bigint; end: bigint; writable: boolean } | null = null;
  for (const line of smaps.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s+(.*)$/.exec(line);
    if (header) {
      current = header[4] === exe ? { start: BigInt(`0x${header[1]}`), end: BigInt(`0x${header[2]}`), writable: header[3]!.includes('w') } : null;
      continue;
    }
    // smaps lists a mapping's Anonymous: line (its copied-on-write pages) after its header.
    if (current === null || !line.startsWith('Anonymous:')) continue;
    const copied = Number(line.split(/\s+/)[1]) > 0;
    const how = !current.writable && !copied ? 'drop' : 'reclaim';
    if (libc.releasePages(current.start, current.end, how) === 0) count++;
    current = null;
  }
  return count;
}

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
