// Shared by the hardening suite: a private copy of the built tsinit (another agent's rebuild
// must neither swap the binary under a running test nor fail with ETXTBSY because we run it),
// host-side /proc readers (children, states, RSS, zombies) and polling with a deadline.
// Reads the host's /proc only; every process it names was started by the test itself.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { ROOT, TSINIT } from '../helpers/pid1.ts';
import { until as pollUntil } from '../helpers/proc.ts';

export const HARDENING_FIXTURES = resolve(ROOT, 'test/fixtures/hardening');

export function hfixture(name: string): string {
  return join(HARDENING_FIXTURES, name);
}

export interface PrivateInit {
  /** The private copy of tsinit (world-readable and executable: uid 65534 runs it too). */
  readonly bin: string;
  /** A private scratch directory, mode 0755, removed after the file's tests. */
  readonly dir: string;
}

/**
 * Copies the built tsinit into a private directory before the file's tests and removes it
 * after. A rebuild overwrites dist/tsinit in place, so a copy taken mid-write is caught by
 * running `--version` on it and taken again.
 */
/**
 * A copy of a fixture in the private directory, for tests that run as uid 65534: the
 * checkout itself may sit below a directory only root can enter (a CI clone in mktemp -d).
 */
export function fixtureFor65534(init: PrivateInit, path: string): string {
  const copy = join(init.dir, basename(path));
  copyFileSync(path, copy);
  chmodSync(copy, 0o755);
  return copy;
}

export function usePrivateInit(): PrivateInit {
  const state = { bin: '', dir: '' };
  beforeAll(async () => {
    state.dir = mkdtempSync(join(tmpdir(), 'tsinit-hardening-'));
    chmodSync(state.dir, 0o755);
    state.bin = join(state.dir, 'tsinit');
    for (let attempt = 1; ; attempt++) {
      try {
        copyFileSync(TSINIT, state.bin);
        chmodSync(state.bin, 0o755);
        if (/^tsinit version /.test(execFileSync(state.bin, ['--version'], { timeout: 10_000 }).toString())) return;
      } catch (e) {
        if (attempt >= 10) throw new Error(`cannot take a working copy of ${TSINIT}: ${String(e)}`);
      }
      await sleep(1000);
    }
  });
  afterAll(() => {
    if (state.dir !== '') rmSync(state.dir, { recursive: true, force: true });
  });
  return {
    get bin() { return state.bin; },
    get dir() { return state.dir; },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls cond every 20 ms until it holds; these suites load the machine: 15 s by default. */
export function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  return pollUntil(what, cond, timeoutMs);
}

export interface ProcStat { pid: number; state: string; ppid: number; pgrp: number }

/** /proc/<pid>/stat's state, parent and group, or null once the pid is gone (reaped). */
export function procStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: f[0]!, ppid: Number(f[1]), pgrp: Number(f[2]) };
  } catch {
    return null;
  }
}

/** True while pid exists and has not exited (a zombie has exited). */
export function isRunning(pid: number): boolean {
  const s = procStat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

/** Children of pid (zombies included): the union of its threads' children lists. */
export function childrenOf(pid: number): number[] {
  const out = new Set<number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const tid of tids) {
    try {
      for (const f of readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ')) if (f !== '') out.add(Number(f));
    } catch { /* thread gone */ }
  }
  return [...out];
}

/** Every descendant of pid with its state, breadth first. */
export function descendantsOf(pid: number): ProcStat[] {
  const out: ProcStat[] = [];
  const queue = childrenOf(pid);
  const seen = new Set<number>();
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const s = procStat(p);
    if (s === null) continue;
    out.push(s);
    queue.push(...childrenOf(p));
  }
  return out;
}

/** Zombies among the descendants of pid (for an init: children it has not reaped yet). */
export function zombiesUnder(pid: number): number[] {
  return descendantsOf(pid).filter((p) => p.state === 'Z').map((p) => p.pid);
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM, RssAnon…). */
export function statusKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

/** A raw line of /proc/<pid>/status (Uid, Gid, CapEff, SigBlk…), value only. */
export function statusLine(pid: number, field: string): string {
  const m = new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return m[1]!;
}

/** Descriptors of pid with their targets (socket:[…], pipe:[…], /dev/null…). */
export function fdsOf(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.set(Number(fd), readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch { /* closed meanwhile */ }
  }
  return out;
}

/** Seeded PRNG (mulberry32): floods and shuffles are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records one measured figure; the suite prints them all at the end for the report table. */
export function record(name: string, figure: string): void {
  process.stdout.write(`[hardening] ${name}: ${figure}\n`);
}

/**
 * VmRSS of pid once it is at rest: two samples a second apart within 128 kB. tsinit hands
 * its start-up pages back about half a second after the spawn; measuring before that would
 * compare a busy start-up with an idle init.
 */
export async function restingRssKb(pid: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = statusKb(pid, 'VmRSS');
  for (;;) {
    await sleep(1000);
    const now = statusKb(pid, 'VmRSS');
    if (Math.abs(now - last) <= 128) return now;
    if (Date.now() > deadline) throw new Error(`RSS of ${pid} never settled (last ${last} kB, now ${now} kB)`);
    last = now;
  }
}
