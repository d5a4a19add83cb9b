// The process tree below tsinit, read from /proc through what a host can do: read a small file
// and list a directory. Pure: the host injects both. Also the one rule for signalling a process
// read from /proc: hold it (a pidfd), check it is still the one the walk saw, then signal the
// handle. A number read from /proc may belong to another process by the time it is used.

import type { ProcReader } from './host.ts';

export type { ProcReader };

/** One process below tsinit as the walk saw it. */
export interface ProcessInfo {
  pid: number;
  /** Its parent now (stat's field 4). */
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot (stat's field 22): with the pid, the process's identity. */
  start: number;
}

/** A walked process and the parent whose children file listed it. */
export interface Descendant extends ProcessInfo {
  parent: number;
}

/** Fields of /proc/<pid>/stat the walk needs (the ones after the command, which may hold spaces and parentheses). */
export function parseStat(
  text: string,
): { pid: number; ppid: number; pgid: number; threads: number; start: number } | null {
  const end = text.lastIndexOf(')');
  if (end < 0) return null;
  const pid = parseInt(text, 10);
  // Fields 3.. after the command, read by scanning for spaces: the walk parses one stat per
  // process, and splitting all 50 fields into strings costs Duktape most of the walk.
  const want = [4, 5, 20, 22];
  const got: number[] = [];
  let field = 3;
  let at = end + 2;
  for (let w = 0; w < want.length; w++) {
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- w < want.length; once per field per process in the walk
    while (field < want[w]!) {
      const space = text.indexOf(' ', at);
      if (space < 0) return null;
      at = space + 1;
      field++;
    }
    const next = text.indexOf(' ', at);
    got.push(Number(text.slice(at, next < 0 ? text.length : next)));
  }
  const [ppid, pgid, threads, start] = got as [number, number, number, number];
  return isNaN(pid) || isNaN(ppid) || isNaN(pgid) || isNaN(threads) || isNaN(start) || text.slice(at).length === 0
    ? null
    : { pid, ppid, pgid, threads, start };
}

/**
 * /proc/uptime as clock ticks (USER_HZ, 100 on Linux: the unit of stat's start time),
 * truncated like a start time is; null when unparsable.
 */
export function parseUptimeTicks(text: string): number | null {
  const m = /^(\d+)\.(\d\d)/.exec(text);
  return m === null ? null : Number(m[1]) * 100 + Number(m[2]);
}

/** What a /proc mount tells about tsinit's own pid namespace. */
export type ProcMount = 'ours' | 'absent' | 'foreign';

/**
 * Whether /proc describes tsinit's own pid namespace: /proc/self/stat names tsinit by the pid
 * getpid() gave. Under `unshare --pid --fork` without --mount-proc, or a bind of the host's
 * procfs, it names tsinit by its pid outside, and every number read there belongs to
 * another namespace: signalling those numbers here would hit other processes.
 */
export function checkProcView(proc: ProcReader, ownPid: number): ProcMount {
  const text = proc.readFile('/proc/self/stat');
  if (text === null) return 'absent';
  const info = parseStat(text);
  return info !== null && info.pid === ownPid ? 'ours' : 'foreign';
}

/** Children of one process: the union over its threads (a fork is listed under the thread that made it). */
function childrenOf(proc: ProcReader, pid: number | 'self', threads: number): number[] | null {
  // One thread (nearly every process): its one children file, without listing task/.
  const tids = threads === 1 && pid !== 'self' ? [String(pid)] : proc.listDir(`/proc/${pid}/task`);
  if (tids === null) return null;
  const out: number[] = [];
  for (let t = 0; t < tids.length; t++) {
    // A thread that ended while we looked has no file any more: nothing to add.
    const text = proc.readFile(`/proc/${pid}/task/${tids[t]}/children`);
    if (text === null) continue;
    const fields = text.split(' ');
    for (let f = 0; f < fields.length; f++) if (fields[f] !== '' && fields[f] !== '\n') out.push(Number(fields[f]));
  }
  return out;
}

/**
 * Every descendant of tsinit (ownPid), parents before children, or null when /proc is not
 * there to ask. A process whose ppid is neither the parent that listed it nor tsinit is not
 * what was listed (the number was freed and taken by another process between the two reads):
 * it and its subtree are left out. Linear: a queue read by index, one stat and one children
 * file per single-threaded process.
 */
export function listDescendants(proc: ProcReader, ownPid: number): Descendant[] | null {
  const first = childrenOf(proc, 'self', 0);
  if (first === null) return null;
  const queue: number[] = first;
  const parents: number[] = [];
  for (let i = 0; i < first.length; i++) parents.push(ownPid);
  const seen: Record<string, true> = {};
  const out: Descendant[] = [];
  for (let head = 0; head < queue.length; head++) {
    const pid = queue[head];
    const parent = parents[head];
    if (pid === undefined || parent === undefined) break; // not reached: head < queue.length, one parent each
    if (seen[pid]) continue;
    seen[pid] = true;
    const stat = proc.readFile(`/proc/${pid}/stat`);
    const info = stat === null ? null : parseStat(stat);
    if (info === null) continue; // gone already
    if (info.ppid !== parent && info.ppid !== ownPid) continue; // the number is another process's now
    out.push({ pid, ppid: info.ppid, pgid: info.pgid, start: info.start, parent });
    // A process that exited while we walked has no children left to list: they are being re-parented to us.
    const kids = childrenOf(proc, pid, info.threads);
    if (kids !== null)
      for (let k = 0; k < kids.length; k++) {
        // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- k < kids.length; once per process in the walk
        queue.push(kids[k]!);
        parents.push(pid);
      }
  }
  return out;
}

/** The calls that hold and signal one process: pidfd_open, pidfd_send_signal, close, kill, and a fresh stat. */
export interface ProcessCalls {
  /** pidfd_open(pid, 0): a descriptor, or -errno (-ENOSYS before Linux 5.3). */
  openProcess(pid: number): number;
  /** pidfd_send_signal(fd, sig, NULL, group ? PIDFD_SIGNAL_PROCESS_GROUP : 0): 0 or the errno. */
  signalProcess(fd: number, sig: number, group: boolean): number;
  closeProcess(fd: number): void;
  /** kill(2): 0 or the errno. */
  kill(pid: number, sig: number): number;
  /** The process at pid now, or null (gone, or no /proc). */
  processInfo(pid: number): ProcessInfo | null;
}

const ESRCH = 3;

/** sent; gone (it ended); not-ours (its number is another process's now); unsafe (no pidfd, and not tsinit's own child). */
export type SignalOutcome = 'sent' | 'gone' | 'not-ours' | 'unsafe';

/**
 * Signals p, the process a walk saw, only if it still is that process and still below tsinit.
 * With pidfds: open one on the pid, then check the process at that pid is p (same start time,
 * a parent that is p's listing parent or tsinit); a descriptor opened before the check names
 * p for good, so the signal sent through it cannot reach a later owner of the number. Without
 * (ENOSYS, or no descriptor to spare): only tsinit's own children are signalled by number — a
 * child's pid stays tsinit's until tsinit reaps it, which cannot happen during this call.
 */
export function signalDescendant(calls: ProcessCalls, ownPid: number, p: Descendant, sig: number): SignalOutcome {
  const fd = calls.openProcess(p.pid);
  if (fd === -ESRCH) return 'gone';
  const now = calls.processInfo(p.pid);
  const same = now !== null && now.start === p.start && (now.ppid === p.parent || now.ppid === ownPid);
  if (fd < 0) {
    if (now === null) return 'gone';
    if (!same) return 'not-ours';
    if (now.ppid !== ownPid) return 'unsafe';
    return calls.kill(p.pid, sig) === 0 ? 'sent' : 'gone';
  }
  try {
    if (now === null) return 'gone';
    if (!same) return 'not-ours';
    return calls.signalProcess(fd, sig, false) === 0 ? 'sent' : 'gone';
  } finally {
    calls.closeProcess(fd);
  }
}

/** What the supervisor reads from /proc (src/core/supervisor.ts System), each null when /proc is absent or not tsinit's. */
export interface ProcView {
  descendants(): Descendant[] | null;
  processInfo(pid: number): ProcessInfo | null;
  clockTicks(): number | null;
}

/** The /proc reads both hosts give the supervisor, over their reader; trusted: configureProc said /proc is tsinit's own. */
export function createProcView(proc: ProcReader, ownPid: number, trusted: boolean): ProcView {
  const read = (path: string): string | null => (trusted ? proc.readFile(path) : null);
  return {
    descendants: () => (trusted ? listDescendants(proc, ownPid) : null),
    processInfo: (pid) => {
      const text = read(`/proc/${pid}/stat`);
      return text === null ? null : parseStat(text);
    },
    clockTicks: () => {
      const text = read('/proc/uptime');
      return text === null ? null : parseUptimeTicks(text);
    },
  };
}
