// The descriptors tsinit inherited beyond stdio, which the child must get too (socket
// activation, a pipe from the caller). Reads /proc/self/fd only; opens and closes nothing.

import { readdirSync, readlinkSync } from 'node:fs';

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
    if (target.startsWith('pipe:') && (pipeEnds.get(target) ?? 0) > 1) continue;
    inherited.push(fd);
  }
  return inherited.sort((a, b) => a - b);
}
