import { describe, expect, it } from 'vitest';
import {
  checkProcView,
  createProcView,
  listDescendants,
  parseStat,
  parseUptimeTicks,
  signalDescendant,
  type Descendant,
  type ProcessCalls,
  type ProcessInfo,
  type ProcReader,
} from '../../src/core/proc.ts';

describe('parseStat', () => {
  // A real line (sleep under tsinit as PID 1), and two whose command holds spaces and parentheses.
  it.each([
    [
      '12 (sleep) S 1 12 12 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 5077 2330624 224 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0',
      { pid: 12, ppid: 1, pgid: 12, threads: 1, start: 5077 },
    ],
    [
      '40 (a) b) (c) R 7 33 33 0 -1 0 0 0 0 0 0 0 0 0 20 0 3 0 123456 0',
      { pid: 40, ppid: 7, pgid: 33, threads: 3, start: 123456 },
    ],
    ['41 (x y z) Z 7 41 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0', { pid: 41, ppid: 7, pgid: 41, threads: 1, start: 9 }],
  ])('%s', (text, expected) => {
    expect(parseStat(text)).toEqual(expected);
  });

  it.each(['', 'garbage', '5 (x) S', '12 (sleep) S 1 12 12 0'])('unparsable %j is null', (text) => {
    expect(parseStat(text)).toBeNull();
  });
});

/** A stat line with the fields the walk reads (ppid, pgid, threads, start time). */
const statLine = (pid: number | string, ppid: number, pgid: number, threads: number, start: number) =>
  `${pid} (cmd) S ${ppid} ${pgid} 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 ${threads} 0 ${start} 0 0`;

/** A /proc of pid → [ppid, pgid, threads → children]; stat's start time is 1000 + pid unless given. */
function fakeProc(
  tree: Record<string, { ppid: number; pgid: number; start?: number; tasks: Record<string, number[]> }>,
  reads: string[] = [],
): ProcReader {
  return {
    listDir(path) {
      reads.push(path);
      const m = /^\/proc\/(\w+)\/task$/.exec(path);
      const p = m ? tree[m[1]!] : undefined;
      return p ? Object.keys(p.tasks) : null;
    },
    readFile(path) {
      reads.push(path);
      let m = /^\/proc\/(\w+)\/task\/(\d+)\/children$/.exec(path);
      if (m) {
        const kids = tree[m[1]!]?.tasks[m[2]!];
        return kids === undefined ? null : kids.map((k) => `${k} `).join('');
      }
      m = /^\/proc\/(\d+)\/stat$/.exec(path);
      const p = m ? tree[m[1]!] : undefined;
      return p ? statLine(m![1]!, p.ppid, p.pgid, Object.keys(p.tasks).length, p.start ?? 1000 + Number(m![1])) : null;
    },
  };
}

describe('listDescendants', () => {
  it("walks every thread's children, breadth first, with parent and group", () => {
    const proc = fakeProc({
      self: { ppid: 0, pgid: 1, tasks: { 1: [10] } },
      10: { ppid: 1, pgid: 10, tasks: { 10: [11], 15: [12] } },
      11: { ppid: 10, pgid: 10, tasks: { 11: [] } },
      12: { ppid: 10, pgid: 20, tasks: { 12: [13] } },
      13: { ppid: 12, pgid: 20, tasks: { 13: [] } },
    });
    expect(listDescendants(proc, 1)).toEqual([
      { pid: 10, ppid: 1, pgid: 10, start: 1010, parent: 1 },
      { pid: 11, ppid: 10, pgid: 10, start: 1011, parent: 10 },
      { pid: 12, ppid: 10, pgid: 20, start: 1012, parent: 10 },
      { pid: 13, ppid: 12, pgid: 20, start: 1013, parent: 12 },
    ]);
  });

  it('skips a process that is gone between the listing and its stat', () => {
    const proc = fakeProc({
      self: { ppid: 0, pgid: 1, tasks: { 1: [10, 11] } },
      11: { ppid: 1, pgid: 11, tasks: { 11: [] } },
    });
    expect(listDescendants(proc, 1)).toEqual([{ pid: 11, ppid: 1, pgid: 11, start: 1011, parent: 1 }]);
  });

  it('leaves out a listed number whose stat names another parent (reused between the two reads), with its subtree', () => {
    const proc = fakeProc({
      self: { ppid: 0, pgid: 1, tasks: { 1: [10] } },
      10: { ppid: 1, pgid: 10, tasks: { 10: [11] } },
      // 11 was 10's child; the number now belongs to a process of another parent (not below tsinit).
      11: { ppid: 500, pgid: 500, tasks: { 11: [12] } },
      12: { ppid: 11, pgid: 500, tasks: { 12: [] } },
    });
    expect(listDescendants(proc, 1)!.map((p) => p.pid)).toEqual([10]);
  });

  it('keeps one re-parented to tsinit since it was listed', () => {
    const proc = fakeProc({
      self: { ppid: 0, pgid: 1, tasks: { 1: [10] } },
      10: { ppid: 1, pgid: 10, tasks: { 10: [11] } },
      11: { ppid: 1, pgid: 10, tasks: { 11: [] } },
    });
    expect(listDescendants(proc, 1)!.map((p) => p.pid)).toEqual([10, 11]);
  });

  it("reads a single-threaded process's one children file without listing its tasks", () => {
    const reads: string[] = [];
    const proc = fakeProc(
      { self: { ppid: 0, pgid: 1, tasks: { 1: [10] } }, 10: { ppid: 1, pgid: 10, tasks: { 10: [] } } },
      reads,
    );
    listDescendants(proc, 1);
    expect(reads).toEqual([
      '/proc/self/task',
      '/proc/self/task/1/children',
      '/proc/10/stat',
      '/proc/10/task/10/children',
    ]);
  });

  it('is linear: a chain and a fan of 4000 take about the same reads per process', () => {
    const fan: Parameters<typeof fakeProc>[0] = { self: { ppid: 0, pgid: 1, tasks: { 1: [] } } };
    for (let i = 0; i < 4000; i++) {
      fan.self!.tasks[1]!.push(100 + i);
      fan[100 + i] = { ppid: 1, pgid: 100, tasks: { [100 + i]: [] } };
    }
    const reads: string[] = [];
    expect(listDescendants(fakeProc(fan, reads), 1)).toHaveLength(4000);
    expect(reads.length).toBe(2 + 2 * 4000);
  });

  it('is null without /proc', () => {
    expect(listDescendants({ listDir: () => null, readFile: () => null }, 1)).toBeNull();
  });
});

describe('checkProcView', () => {
  const selfStat = (pid: number): ProcReader => ({
    listDir: () => null,
    readFile: (p) => (p === '/proc/self/stat' ? statLine(pid, 0, pid, 1, 5) : null),
  });
  it.each([
    ['a /proc of its own namespace', selfStat(1), 1, 'ours'],
    ["the host's /proc under unshare --pid without --mount-proc", selfStat(48213), 1, 'foreign'],
    ['no /proc', { listDir: () => null, readFile: () => null }, 1, 'absent'],
  ] as const)('%s', (_, proc, pid, view) => {
    expect(checkProcView(proc, pid)).toBe(view);
  });
});

describe('signalDescendant', () => {
  /** Calls over a table of processes now; records what was signalled and how. */
  function calls(now: Record<number, ProcessInfo>, opts: { pidfd?: boolean } = {}) {
    const sent: string[] = [];
    const open = new Set<number>();
    const c: ProcessCalls = {
      openProcess: (pid) => (opts.pidfd === false ? -38 : now[pid] ? (open.add(pid), pid) : -3),
      signalProcess: (fd, sig) => {
        sent.push(`pidfd ${fd} ${sig}`);
        return 0;
      },
      closeProcess: (fd) => {
        open.delete(fd);
      },
      kill: (pid, sig) => {
        sent.push(`kill ${pid} ${sig}`);
        return 0;
      },
      processInfo: (pid) => now[pid] ?? null,
    };
    return { c, sent, open };
  }
  const seen: Descendant = { pid: 20, ppid: 10, pgid: 10, start: 500, parent: 10 };

  it.each([
    ['the same process', { 20: { pid: 20, ppid: 10, pgid: 10, start: 500 } }, 'sent', ['pidfd 20 15']],
    [
      'the same process, re-parented to tsinit',
      { 20: { pid: 20, ppid: 1, pgid: 10, start: 500 } },
      'sent',
      ['pidfd 20 15'],
    ],
    ['the number reused (another start time)', { 20: { pid: 20, ppid: 10, pgid: 10, start: 777 } }, 'not-ours', []],
    [
      'the number reused by a process of another parent',
      { 20: { pid: 20, ppid: 300, pgid: 300, start: 500 } },
      'not-ours',
      [],
    ],
    ['gone', {}, 'gone', []],
  ] as const)('with pidfds: %s', (_, now, outcome, sent) => {
    const k = calls(now);
    expect(signalDescendant(k.c, 1, seen, 15)).toBe(outcome);
    expect(k.sent).toEqual(sent);
    expect(k.open.size).toBe(0); // every descriptor closed
  });

  it.each([
    [
      'a grandchild: its parent could reap it and the number be reused at any moment',
      { 20: { pid: 20, ppid: 10, pgid: 10, start: 500 } },
      'unsafe',
      [],
    ],
    [
      "a child of tsinit: its number stays tsinit's until tsinit reaps it",
      { 20: { pid: 20, ppid: 1, pgid: 10, start: 500 } },
      'sent',
      ['kill 20 15'],
    ],
    ['a child of tsinit with another start time', { 20: { pid: 20, ppid: 1, pgid: 10, start: 501 } }, 'not-ours', []],
  ] as const)('without pidfds (ENOSYS): %s', (_, now, outcome, sent) => {
    const k = calls(now, { pidfd: false });
    expect(signalDescendant(k.c, 1, seen, 15)).toBe(outcome);
    expect(k.sent).toEqual(sent);
  });
});

describe('parseUptimeTicks', () => {
  it.each([
    ['5077.42 9876.54\n', 507742],
    ['0.05 0.00\n', 5],
    ['garbage', null],
  ] as const)('%j', (text, ticks) => {
    expect(parseUptimeTicks(text)).toBe(ticks);
  });
});

describe('createProcView', () => {
  const proc = fakeProc({
    self: { ppid: 0, pgid: 1, tasks: { 1: [10] } },
    10: { ppid: 1, pgid: 10, tasks: { 10: [] } },
  });
  const withUptime: ProcReader = {
    listDir: (p) => proc.listDir(p),
    readFile: (p) => (p === '/proc/uptime' ? '12.34 5.00\n' : proc.readFile(p)),
  };

  it("reads the walk, one process and the clock from a /proc of tsinit's own", () => {
    const view = createProcView(withUptime, 1, true);
    expect(view.descendants()!.map((p) => p.pid)).toEqual([10]);
    expect(view.processInfo(10)).toMatchObject({ pid: 10, ppid: 1, start: 1010 });
    expect(view.clockTicks()).toBe(1234);
  });

  it('reads nothing from a /proc that is not (absent, or of another pid namespace)', () => {
    const reads: string[] = [];
    const view = createProcView(
      {
        listDir: (p) => {
          reads.push(p);
          return null;
        },
        readFile: (p) => {
          reads.push(p);
          return null;
        },
      },
      1,
      false,
    );
    expect([view.descendants(), view.processInfo(10), view.clockTicks()]).toEqual([null, null, null]);
    expect(reads).toEqual([]);
  });
});
