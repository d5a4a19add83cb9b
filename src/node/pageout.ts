// Giving back the memory of the Node executable's pages that start-up touched: an idle init
// should not hold ~30 MB of a whole Node. Reads /proc/self/smaps; changes no page's content.

import { readFileSync, readlinkSync } from 'node:fs';
import type { Logger } from '../core/log.ts';
import * as libc from './libc.ts';

/** Once start-up is over, the executable's pages it touched are handed back (see pageOutExecutable). */
const PAGE_OUT_AFTER_MS = 500;

/** Once start-up is over, hands back the executable's pages it touched (see pageOutExecutable). */
export function schedulePageOut(log: Logger): void {
  setTimeout(() => {
    const advised = pageOutExecutable();
    log.log('memory', `paged out the executable's idle pages (${advised ?? 'no /proc: 0'} mappings)`);
  }, PAGE_OUT_AFTER_MS).unref();
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
      current =
        header[4] === exe
          ? {
              start: BigInt(`0x${header[1]}`),
              end: BigInt(`0x${header[2]}`),
              writable: (header[3] ?? '').includes('w'),
            }
          : null;
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
