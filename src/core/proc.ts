// The process tree below tsinit, read from /proc through what a host can do: read a small file
// and list a directory. Pure: the host injects both. Used by the drain (who is left) and by
// the supervisor's bookkeeping of who was told to stop.

/** What a host gives the walk: a file's text and a directory's names, null when unreadable. */
export interface ProcReader {
  readFile(path: string): string | null;
  listDir(path: string): string[] | null;
}

export interface ProcessInfo { pid: number; ppid: number; pgid: number }

/** ppid and pgid from the text of /proc/<pid>/stat (the fields after the command, which may hold spaces and parentheses). */
export function parseStat(text: string): { ppid: number; pgid: number } | null {
  const end = text.lastIndexOf(')');
  if (end < 0) return null;
  const fields = text.slice(end + 2).split(' ');
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  return isNaN(ppid) || isNaN(pgid) ? null : { ppid, pgid };
}

/** Children of one process: the union over its threads (a fork is listed under the thread that made it). */
function childrenOf(proc: ProcReader, pid: number | 'self'): number[] | null {
  const tids = proc.listDir(`/proc/${pid}/task`);
  if (tids === null) return null;
  const out: number[] = [];
  for (const tid of tids) {
    // A thread that ended while we looked has no file any more: nothing to add.
    const text = proc.readFile(`/proc/${pid}/task/${tid}/children`);
    if (text === null) continue;
    for (const field of text.split(' ')) if (field !== '' && field !== '\n') out.push(Number(field));
  }
  return out;
}

/** Every descendant of tsinit, breadth first, or null when /proc is not there to ask. */
export function listDescendants(proc: ProcReader): ProcessInfo[] | null {
  const first = childrenOf(proc, 'self');
  if (first === null) return null;
  const queue: number[] = first;
  const seen: Record<string, true> = {};
  const out: ProcessInfo[] = [];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (seen[pid]) continue;
    seen[pid] = true;
    const stat = proc.readFile(`/proc/${pid}/stat`);
    const info = stat === null ? null : parseStat(stat);
    if (info === null) continue; // gone already
    out.push({ pid, ppid: info.ppid, pgid: info.pgid });
    // A process that exited while we walked has no children left to list: they are being re-parented to us.
    const kids = childrenOf(proc, pid);
    if (kids !== null) for (const k of kids) queue.push(k);
  }
  return out;
}
