// What the tests read from the host's /proc (stat fields, children, status lines, signal masks,
// descriptors), and polling with a deadline: the one copy every suite that runs tsinit uses.
// Reads only; each process it names was started by the test itself. No fixed sleeps: wait
// for a condition. The stat parsing is the tests' own, not src/core/proc.ts's parseStat: the
// tests need the state and start time too, and check tsinit against a reading of their own.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** How long a wait for a condition or an output line lasts by default: a fixture's start and tsinit's reaction on 2 busy cores. */
export const WAIT_MS = 10_000;
/**
 * The deadline for suites whose own tests load the machine (hardening: floods, fork bombs)
 * or that run tsinit under emulation (arm64 under qemu-user).
 */
export const SLOW_WAIT_MS = 15_000;
/** How often until() looks again. */
const POLL_EVERY_MS = 20;

/** Polls cond until it holds; fails with what (or what it returns) after timeoutMs. */
export async function until(
  what: string | (() => string),
  cond: () => boolean,
  timeoutMs = WAIT_MS,
  everyMs = POLL_EVERY_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms: ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** until() with another default deadline (SLOW_WAIT_MS for the loaded or emulated suites). */
export function untilWithin(defaultMs: number): typeof until {
  return (what, cond, timeoutMs?, everyMs?) => until(what, cond, timeoutMs ?? defaultMs, everyMs);
}

export interface ProcStat {
  pid: number;
  /** R, S, D, T (stopped), t, Z (exited, not reaped yet), X. */
  state: string;
  ppid: number;
  pgrp: number;
  /** The terminal's foreground process group (-1 without a terminal). */
  tpgid: number;
  /** Clock ticks after boot: tells a pid apart from a later process that reuses it. */
  startTime: string;
}

/** The fields of a stat line (`pid (command) state ppid pgrp …`); the command may hold spaces and ')'. */
export function parseStatLine(text: string): ProcStat {
  // Fields after the command, from field 3 (state) on: proc(5) numbers them from 1.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid: Number(text.slice(0, text.indexOf(' '))),
    state: f[0]!,
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    tpgid: Number(f[5]),
    startTime: f[19]!,
  };
}

/** /proc/<pid>/stat, or null once the pid is gone (reaped). */
export function readStat(pid: number): ProcStat | null {
  try {
    return parseStatLine(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return null;
  }
}

/** The state letter of pid, or '?' once it is gone. */
export function stateOf(pid: number): string {
  return readStat(pid)?.state ?? '?';
}

/** True while pid exists and has not exited (a zombie has exited). */
export function isRunning(pid: number): boolean {
  const s = readStat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

/** Children of pid, zombies included: the union of its threads' lists (a fork is listed under the thread that made it). */
export function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out = new Set<number>();
  for (const tid of tids) {
    try {
      for (const f of readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' '))
        if (f.trim() !== '') out.add(Number(f));
    } catch {
      /* the thread ended while we looked */
    }
  }
  return [...out];
}

/** Every descendant of pid with its stat, breadth first (children before grandchildren). */
export function descendantsOf(pid: number): ProcStat[] {
  const out: ProcStat[] = [];
  const queue = childrenOf(pid);
  const seen = new Set<number>();
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const s = readStat(p);
    if (s === null) continue; // reaped while we walked
    out.push(s);
    queue.push(...childrenOf(p));
  }
  return out;
}

/**
 * For a failure message: each thread of each pid, its state and whether sig is pending for the
 * thread or the process, blocked, or caught. Tells "never sent" from "pending, not taken".
 */
export function signalReport(pids: number[], sig: number): string {
  const bit = 1n << BigInt(sig - 1);
  const lines: string[] = [];
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      lines.push(`${pid}: gone`);
      continue;
    }
    for (const tid of tids) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
        const field = (f: string): string => new RegExp(`^${f}:\\s*(.*)$`, 'm').exec(st)?.[1] ?? '?';
        const has = (f: string): string => ((BigInt(`0x${field(f)}`) & bit) !== 0n ? f : '');
        const flags = ['SigPnd', 'ShdPnd', 'SigBlk', 'SigCgt'].map(has).filter(Boolean).join(' ') || 'none';
        lines.push(`${pid}/${tid} ${field('Name')} ${field('State')}; signal ${sig}: ${flags}`);
      } catch {
        /* the thread ended while we looked */
      }
    }
  }
  return lines.join('\n');
}

/** Zombies among the descendants of pid (for an init: children it has not reaped yet). */
export function zombiesUnder(pid: number): number[] {
  return descendantsOf(pid)
    .filter((p) => p.state === 'Z')
    .map((p) => p.pid);
}

/** The whole command line of pid, arguments joined by spaces, or null once it is gone. */
export function cmdlineOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
  } catch {
    return null;
  }
}

/** A raw line of /proc/<pid>/status (Uid, Gid, CapEff, NSpid…), value only. */
export function statusLine(pid: number, field: string): string {
  const m = new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return m[1]!;
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM, RssAnon…). */
export function statusKb(pid: number, field: string): number {
  const m = /^(\d+) kB$/.exec(statusLine(pid, field));
  if (!m) throw new Error(`${field} of /proc/${pid}/status is not in kB`);
  return Number(m[1]);
}

/** A signal mask of /proc/<pid>/status: caught (SigCgt), blocked (SigBlk), ignored, pending. */
export type MaskField = 'SigCgt' | 'SigBlk' | 'SigIgn' | 'SigPnd' | 'ShdPnd';

/** The mask as a number: bit n-1 stands for signal n. */
export function signalMask(pid: number, field: MaskField): bigint {
  return BigInt(`0x${statusLine(pid, field)}`);
}

/** True when signal number sig is in pid's mask. */
export function inMask(pid: number, field: MaskField, sig: number): boolean {
  return (signalMask(pid, field) & (1n << BigInt(sig - 1))) !== 0n;
}

/** Descriptors of pid with their targets (socket:[…], pipe:[…], /dev/null…). */
export function fdsOf(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.set(Number(fd), readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}
