import { describe, expect, it } from 'vitest';
import { listDescendants, parseStat, type ProcReader } from '../../src/core/proc.ts';

describe('parseStat', () => {
  it.each([
    ['12 (sleep) S 1 12 12 0 -1', { ppid: 1, pgid: 12 }],
    ['40 (a) b) (c) R 7 33 33 0', { ppid: 7, pgid: 33 }],
    ['41 (x y z) Z 7 41 1 0', { ppid: 7, pgid: 41 }],
  ])('%s', (text, expected) => {
    expect(parseStat(text)).toEqual(expected);
  });

  it.each(['', 'garbage', '5 (x) S'])('unparsable %j is null', (text) => {
    expect(parseStat(text)).toBeNull();
  });
});

/** A /proc of pid → [ppid, pgid, threads → children]. */
function fakeProc(tree: Record<string, { ppid: number; pgid: number; tasks: Record<string, number[]> }>): ProcReader {
  return {
    listDir(path) {
      const m = /^\/proc\/(\w+)\/task$/.exec(path);
      const p = m ? tree[m[1]!] : undefined;
      return p ? Object.keys(p.tasks) : null;
    },
    readFile(path) {
      let m = /^\/proc\/(\w+)\/task\/(\d+)\/children$/.exec(path);
      if (m) {
        const kids = tree[m[1]!]?.tasks[m[2]!];
        return kids === undefined ? null : kids.map((k) => `${k} `).join('');
      }
      m = /^\/proc\/(\d+)\/stat$/.exec(path);
      const p = m ? tree[m[1]!] : undefined;
      return p ? `${m![1]} (cmd) S ${p.ppid} ${p.pgid} 1 0` : null;
    },
  };
}

describe('listDescendants', () => {
  it('walks every thread\'s children, breadth first, with parent and group', () => {
    const proc = fakeProc({
      self: { ppid: 0, pgid: 1, tasks: { 1: [10] } },
      10: { ppid: 1, pgid: 10, tasks: { 10: [11], 15: [12] } },
      11: { ppid: 10, pgid: 10, tasks: { 11: [] } },
      12: { ppid: 10, pgid: 20, tasks: { 12: [13] } },
      13: { ppid: 12, pgid: 20, tasks: { 13: [] } },
    });
    expect(listDescendants(proc)).toEqual([
      { pid: 10, ppid: 1, pgid: 10 },
      { pid: 11, ppid: 10, pgid: 10 },
      { pid: 12, ppid: 10, pgid: 20 },
      { pid: 13, ppid: 12, pgid: 20 },
    ]);
  });

  it('skips a process that is gone between the listing and its stat', () => {
    const proc = fakeProc({ self: { ppid: 0, pgid: 1, tasks: { 1: [10, 11] } }, 11: { ppid: 1, pgid: 11, tasks: { 11: [] } } });
    expect(listDescendants(proc)).toEqual([{ pid: 11, ppid: 1, pgid: 11 }]);
  });

  it('is null without /proc', () => {
    expect(listDescendants({ listDir: () => null, readFile: () => null })).toBeNull();
  });
});
