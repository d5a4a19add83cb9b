// Floods against dist/tsinit as PID 1: 10 000 mixed signals, 100 000 orphans in bursts of
// 5000, and fork bombs held by a pids cgroup and by RLIMIT_NPROC. Each asserts that tsinit
// lives on, forwards, reaps every zombie and exits with the child's exact status, and
// records its figures (time, RSS, zombies). The heaviest tests of the suite live here, in
// one file, so that they never run beside each other.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatSignal } from '../../src/core/signals.ts';
import { HOST, killAll, Pid1Run, runPid1, signalNumber } from '../helpers/pid1.ts';
import { descendantsOf, isRunning, signalMask, signalReport, statusKb, zombiesUnder } from '../helpers/proc.ts';
import {
  buildFixture,
  fixtureFor65534,
  hfixture,
  prng,
  record,
  restingRssKb,
  sleep,
  until,
  usePrivateInit,
} from './harness.ts';

const init = usePrivateInit();
afterEach(killAll);

const SIGCHLD = signalNumber('SIGCHLD');
const SIGCONT = signalNumber('SIGCONT');
const SIGSTOP = signalNumber('SIGSTOP');
/** sigtally's marker: kept out of the flood, so its MARK line proves the flood is behind us. */
const SIGPWR = signalNumber('SIGPWR');
const SIGUSR2 = signalNumber('SIGUSR2');

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** What the flood is made of: every forwarded signal but the marker, plus SIGCHLD (in this order: the PRNG picks by index). */
const FLOOD_KINDS = [
  ...range(1, 31).filter((n) => !['SIGKILL', 'SIGCHLD', 'SIGSTOP', 'SIGPWR'].includes(formatSignal(n))),
  SIGCHLD,
  ...range(signalNumber('SIGRTMIN'), signalNumber('SIGRTMAX')),
];
const FORWARDED_KINDS = FLOOD_KINDS.filter((s) => s !== SIGCHLD);

/** sigtally's counts so far, from its last MARK line (or its COUNTS line), by signal number. */
function lastTally(out: string, tag: 'MARK' | 'COUNTS' = 'MARK'): Record<string, number> {
  const all = [...out.matchAll(new RegExp(`^${tag} (\\{.*\\})$`, 'gm'))];
  return all.length === 0 ? {} : (JSON.parse(all[all.length - 1]![1]!) as Record<string, number>);
}

/**
 * Waits until the child's own tally (sigtally) shows sig more often than `before` times,
 * asking for a tally (SIGPWR, merged while pending) on each poll: the child's record, not
 * tsinit's log, says the signal arrived.
 */
async function untilTallied(r: Pid1Run, pid: number, sig: number, before: number): Promise<void> {
  await until(
    () =>
      `${formatSignal(sig)} reaches the child (tally ${lastTally(r.stdout)[String(sig)] ?? 0}, before ${before})\n${signalReport([pid], sig)}`,
    () => {
      if ((lastTally(r.stdout)[String(sig)] ?? 0) > before) return true;
      process.kill(pid, SIGPWR);
      return false;
    },
    10_000,
  );
}

/**
 * How much an init may grow through the flood or the 100 000 orphans, per host, from what each
 * recorded here (`[hardening]` lines; 2 runs static, 3 runs Node, on the 2 shared cores).
 * Static: anonymous memory and VmRSS +0 kB in every run (the heap is allocated once and
 * reused); bounds 512 kB and 1 MB, which a leak of 52 bytes per flooded signal or 6 per orphan
 * would pass. Node: anonymous +748 to +764 kB (flood) and +864 to +900 kB (orphans), VmRSS
 * +3.1 to +3.5 MB (flood; V8's code and heap pages touched again) and +1.2 to +1.7 MB
 * (orphans), +4 to +88 kB from 20 000 to 100 000 orphans; bounds 3 MB and 6 MB: V8's heap is a
 * sawtooth with the optimizing tiers off (over 300 000 orphans it was seen 2.1 MB up at 50 000
 * before a full GC brought it down), and 3 MB is above that tooth, 3x the largest figure here.
 */
const GROWTH_KB = HOST === 'static' ? { anon: 512, rss: 1024 } : { anon: 3 * 1024, rss: 6 * 1024 };

describe('a flood of 10 000 signals', () => {
  beforeAll(() => {
    execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', join(init.dir, 'sigtally'), hfixture('sigtally.c')]);
  });

  it('standard, realtime, job-control, fault and SIGCHLD, with STOP/CONT of tsinit itself: it lives, every realtime signal the kernel took reaches the child, every kind is forwarded afterwards, exact status', async () => {
    const r = runPid1(['--', join(init.dir, 'sigtally'), '37'], { init: init.bin });
    await r.waitFor(/^READY \d+$/m);
    const pid = await r.initPid();
    const rssBefore = await restingRssKb(pid);
    const anonBefore = statusKb(pid, 'RssAnon');

    const rand = prng(10_000);
    const flood: number[] = [];
    while (flood.length < 10_000) {
      // Ten times in the flood tsinit itself is stopped and continued (STOP cannot be caught).
      if (flood.length % 1000 === 500) flood.push(SIGSTOP, SIGCONT);
      else flood.push(FLOOD_KINDS[Math.floor(rand() * FLOOD_KINDS.length)]!);
    }
    expect(flood.length).toBe(10_000);
    const t0 = performance.now();
    /** What the kernel took for tsinit, by signal: a realtime one refused with EAGAIN (RLIMIT_SIGPENDING full) is not counted. */
    const taken = new Map<number, number>();
    let refused = 0;
    for (const sig of flood) {
      try {
        process.kill(pid, sig);
        taken.set(sig, (taken.get(sig) ?? 0) + 1);
      } catch {
        refused++;
      }
    }
    const sentMs = performance.now() - t0;
    // Standard signals merge while pending (both hosts); the Node host's libuv also queues
    // caught signals in a 64 KB pipe (4096 deliveries) and drops what arrives while it is full.
    // So the marker is sent again until it gets through: tsinit must be forwarding again once
    // it has caught up, whatever was lost in between.
    let markers = 0;
    await until(
      'the marker SIGPWR is forwarded after the flood',
      () => {
        if (/^MARK \{/m.test(r.stdout)) return true;
        if (markers++ % 10 === 0) process.kill(pid, SIGPWR); // every 200 ms
        return false;
      },
      30_000,
    );
    const settledMs = performance.now() - t0;
    // Realtime signals queue in the kernel and are dequeued after every standard one, the
    // marker included: wait until neither tsinit nor the child holds one.
    const child = descendantsOf(pid)[0]!.pid;
    await until(
      'no signal pending in tsinit or the child',
      () => [pid, child].every((p) => signalMask(p, 'SigPnd') === 0n && signalMask(p, 'ShdPnd') === 0n),
      60_000,
    );
    // Every kind is forwarded afterwards: the child's own tally goes up by one for each.
    for (const sig of FORWARDED_KINDS) {
      process.kill(pid, SIGPWR);
      const before = lastTally(r.stdout)[String(sig)] ?? 0;
      process.kill(pid, sig);
      taken.set(sig, (taken.get(sig) ?? 0) + 1);
      await untilTallied(r, pid, sig, before);
    }

    expect(isRunning(pid), r.output).toBe(true);
    expect(zombiesUnder(pid)).toEqual([]);
    const rssAfter = statusKb(pid, 'VmRSS');
    const anonAfter = statusKb(pid, 'RssAnon');
    await until(
      'no signal pending in tsinit or the child',
      () => [pid, child].every((p) => signalMask(p, 'SigPnd') === 0n && signalMask(p, 'ShdPnd') === 0n),
      60_000,
    );
    r.closeStdin();
    const counts = JSON.parse((await r.waitFor(/^COUNTS (.*)$/m))[1]!) as Record<string, number>;
    expect((await r.exit()).code).toBe(37);
    const realtime = FORWARDED_KINDS.filter((s) => s >= signalNumber('SIGRTMIN'));
    const got = Object.fromEntries(realtime.map((s) => [s, counts[String(s)] ?? 0]));
    const sent = Object.fromEntries(realtime.map((s) => [s, taken.get(s) ?? 0]));
    if (HOST === 'static') {
      // The static build takes realtime signals one by one with sigtimedwait and forwards each:
      // what the kernel queued for tsinit reaches the child, exactly.
      expect(got).toEqual(sent);
    } else {
      // The Node build: libuv's pipe drops the excess of a flood this fast (README, Known
      // limits); the few-thousand burst below is exact on both builds. None is ever doubled.
      for (const s of realtime) expect(got[s], `signal ${s}`).toBeLessThanOrEqual(sent[s]!);
    }
    for (const sig of FORWARDED_KINDS)
      expect(counts[String(sig)] ?? 0, `signal ${sig} never reached the child`).toBeGreaterThanOrEqual(1);
    expect(counts[String(SIGCHLD)]).toBeUndefined(); // SIGCHLD is tsinit's own cue, never forwarded
    expect(r.stderr).toBe('');
    const rtSent = realtime.reduce((a, s) => a + sent[s]!, 0);
    const rtGot = realtime.reduce((a, s) => a + got[s]!, 0);
    record(
      'signal flood',
      `10000 sent in ${sentMs.toFixed(0)} ms (${refused} refused by the kernel); realtime: ${rtSent} taken by the kernel, ${rtGot} counted by the child; the marker got through after ${settledMs.toFixed(0)} ms (${Math.ceil(markers / 10)} sent), then each kind once more, all tallied by the child; RSS ${rssBefore} -> ${rssAfter} kB (anonymous ${anonBefore} -> ${anonAfter} kB); zombies 0; exit 37`,
    );
    // The heap is what could leak; the rest of VmRSS is the executable's own code pages.
    expect(anonAfter - anonBefore).toBeLessThan(GROWTH_KB.anon);
    expect(rssAfter - rssBefore).toBeLessThan(GROWTH_KB.rss);
  }, 120_000);

  it("3000 realtime signals in one burst (below the Node build's 4096-delivery pipe): the child counts each one, on both builds", async () => {
    const r = runPid1(['--', join(init.dir, 'sigtally'), '0'], { init: init.bin });
    await r.waitFor(/^READY \d+$/m);
    const pid = await r.initPid();
    const kinds = range(signalNumber('SIGRTMIN'), signalNumber('SIGRTMAX'));
    const rand = prng(3000);
    const taken = new Map<number, number>();
    let sent = 0;
    for (let i = 0; i < 3000; i++) {
      const sig = kinds[Math.floor(rand() * kinds.length)]!;
      try {
        process.kill(pid, sig);
        taken.set(sig, (taken.get(sig) ?? 0) + 1);
        sent++;
      } catch {
        /* EAGAIN: the kernel refused it; not counted */
      }
    }
    const child = descendantsOf(pid)[0]!.pid;
    await until(
      'no signal pending in tsinit or the child',
      () => [pid, child].every((p) => signalMask(p, 'SigPnd') === 0n && signalMask(p, 'ShdPnd') === 0n),
      60_000,
    );
    // The last one may be between tsinit's dequeue and its forward: the tally must reach the total.
    await until(
      () => `the child tallied ${Object.values(lastTally(r.stdout)).reduce((a, b) => a + b, 0)} of ${sent}`,
      () => {
        process.kill(pid, SIGPWR);
        return Object.values(lastTally(r.stdout)).reduce((a, b) => a + b, 0) >= sent;
      },
      30_000,
    );
    r.closeStdin();
    await r.exit();
    const counts = lastTally(r.stdout, 'COUNTS');
    expect(sent).toBeGreaterThan(2900);
    expect(counts).toEqual(Object.fromEntries([...taken].map(([s, n]) => [String(s), n])));
    record(
      '3000 realtime signals',
      `${sent} taken by the kernel, ${Object.values(counts).reduce((a, b) => a + b, 0)} counted by the child`,
    );
  }, 90_000);
});

describe('100 000 orphans', () => {
  // orphan-burst makes each orphan with clone(CLONE_VM): ~0.1 ms where a fork takes 1-5 ms on
  // this VM (100 000 forked by dash took 490 s). 100 000 reaps: a leak of 64 bytes each would
  // cross either host's bound on anonymous memory (GROWTH_KB).
  beforeAll(() => {
    buildFixture('orphan-burst.c', init.dir);
  });
  it('in 20 bursts of 5000 zombies landing together: every one reaped, RSS flat after the first bursts', async () => {
    const r = runPid1(['--', hfixture('orphans.sh'), '20', '5000', '23', init.dir], { init: init.bin });
    await r.waitFor(/^READY \d+$/m);
    const pid = await r.initPid();
    const rssBefore = await restingRssKb(pid);
    const anonBefore = statusKb(pid, 'RssAnon');
    const t0 = performance.now();
    r.proc.stdin!.write('go\n');
    // Liveness bounds only: the 20 bursts took 8-26 s here on either host, quiet or beside other jobs.
    await r.waitFor(/^BURST 4 \d+$/m, 120_000);
    const rss20k = statusKb(pid, 'VmRSS');
    await r.waitFor(/^DONE$/m, 600_000);
    // Every orphan is dead (SIGKILL): one not reaped would still be a zombie below tsinit.
    await until('every orphan reaped', () => zombiesUnder(pid).length === 0 && descendantsOf(pid).length === 2, 60_000);
    const ms = performance.now() - t0;
    const rssAfter = statusKb(pid, 'VmRSS');
    const anonAfter = statusKb(pid, 'RssAnon');
    const hwm = statusKb(pid, 'VmHWM');
    expect(isRunning(pid)).toBe(true);
    // Each burst was whole: 5000 live orphans, children of PID 1, before the SIGKILL.
    const counts = [...r.stdout.matchAll(/^BURST \d+ (\d+)$/gm)].map((m) => Number(m[1]));
    expect(counts).toEqual(Array(20).fill(5000));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100_000);
    r.closeStdin();
    expect((await r.exit()).code).toBe(23);
    expect(r.stderr).toBe('');
    // A leak would climb past the host's bounds (GROWTH_KB: the figures measured, the margin).
    const figures = `RSS ${rssBefore} -> ${rss20k} (20 000) -> ${rssAfter} kB (100 000), anonymous ${anonBefore} -> ${anonAfter} kB`;
    expect(anonAfter - anonBefore, figures).toBeLessThan(GROWTH_KB.anon);
    expect(rssAfter - rss20k, figures).toBeLessThan(GROWTH_KB.anon);
    expect(rssAfter - rssBefore, figures).toBeLessThan(GROWTH_KB.rss);
    record(
      '100 000 orphans',
      `${(ms / 1000).toFixed(1)} s for 20 bursts of 5000; zombies 0; RSS ${rssBefore} -> ${rss20k} (20 000) -> ${rssAfter} kB (100 000), anonymous ${anonBefore} -> ${anonAfter} kB, peak ${hwm} kB; exit 23`,
    );
  }, 900_000);
});

/** A pids cgroup of our own (v1 layout here, v2 elsewhere); nothing skipped if there is none. */
function makePidsCgroup(max: number): { dir: string; eventsMax(): number; procs(): number[]; remove(): Promise<void> } {
  const v1 = '/sys/fs/cgroup/pids';
  const v2 = '/sys/fs/cgroup';
  let base: string;
  if (existsSync(join(v1, 'cgroup.procs'))) base = v1;
  else if (
    existsSync(join(v2, 'cgroup.controllers')) &&
    readFileSync(join(v2, 'cgroup.controllers'), 'latin1').includes('pids')
  )
    base = v2;
  else throw new Error('no pids cgroup controller on this machine (neither /sys/fs/cgroup/pids nor cgroup2 with pids)');
  const dir = join(base, `tsinit-hardening-${process.pid}-${Date.now()}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'pids.max'), String(max));
  const procs = (): number[] =>
    readFileSync(join(dir, 'cgroup.procs'), 'latin1').split('\n').filter(Boolean).map(Number);
  return {
    dir,
    procs,
    eventsMax: () => Number(/max (\d+)/.exec(readFileSync(join(dir, 'pids.events'), 'latin1'))?.[1] ?? 0),
    async remove() {
      // Everything in it is ours (the unshare we started and its namespace): kill by pid.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const left = procs();
        for (const p of left)
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            /* gone */
          }
        if (left.length === 0) {
          try {
            rmdirSync(dir);
            return;
          } catch {
            /* the last ones are still leaving */
          }
        }
        if (Date.now() > deadline) throw new Error(`cgroup ${dir} still busy: ${left.join(' ')}`);
        await sleep(50);
      }
    },
  };
}

/** Sends SIGUSR2 to tsinit n times, each time waiting for bomb.py's "got 12": forwarding under load. */
async function forwardUnderLoad(r: Pid1Run, pid: number, n: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 1; i <= n; i++) {
    const t = performance.now();
    process.kill(pid, SIGUSR2);
    // The main child is tsinit's child in its own group (the bomb left that group).
    const where = (): string =>
      `forwarded SIGUSR2 #${i} reaches the child during the bomb\n` +
      `${signalReport(
        [
          pid,
          ...descendantsOf(pid)
            .filter((p) => p.ppid === pid && p.pgrp === p.pid)
            .map((p) => p.pid),
        ],
        SIGUSR2,
      )}\n${r.output}`;
    await until(where, () => (r.stdout.match(new RegExp(`^got ${SIGUSR2}$`, 'gm')) ?? []).length >= i, 20_000);
    latencies.push(Math.round(performance.now() - t));
  }
  return latencies;
}

describe('a fork bomb in the child, bounded', () => {
  it('by a pids cgroup (pids.max 120): tsinit forwards during it and reaps everything once it ends', async () => {
    const cg = makePidsCgroup(120);
    try {
      const r = new Pid1Run(
        'sh',
        [
          '-c',
          'echo $$ > "$0/cgroup.procs" && exec unshare --pid --fork --mount-proc "$@"',
          cg.dir,
          init.bin,
          '--',
          hfixture('bomb.py'),
          '8',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      await r.waitFor(/^READY$/m);
      const pid = await r.initPid();
      const t0 = performance.now();
      await until('the bomb reaches the limit', () => cg.eventsMax() > 0, 30_000);
      const latencies = await forwardUnderLoad(r, pid, 5);
      const bomb = await r.waitFor(/^BOMB forks=(\d+) eagain=(\d+)$/m, 30_000);
      const ended = performance.now();
      await until(
        'every bomb process reaped',
        () => zombiesUnder(pid).length === 0 && descendantsOf(pid).length === 1,
        15_000,
      );
      const reapedMs = performance.now() - ended;
      expect(isRunning(pid)).toBe(true);
      const refusals = cg.eventsMax();
      expect(refusals).toBeGreaterThan(0);
      // It forked past the limit: at most 120 of the cgroup's processes exist at once, so every
      // fork beyond 120 used a pid the reaper had freed. (Not a multiple of it: how many forks fit
      // in the 8 s depends on the machine, 203 to 333 were seen.)
      expect(Number(bomb[1])).toBeGreaterThan(120);
      r.closeStdin();
      expect((await r.exit()).code).toBe(0);
      record(
        'fork bomb (pids cgroup, max 120)',
        `${((ended - t0) / 1000).toFixed(1)} s of bomb, ${bomb[1]} forks, ${refusals} refused by pids.max; SIGUSR2 forwarded in ${latencies.join('/')} ms during it; all reaped ${reapedMs.toFixed(0)} ms after it ended; zombies 0; exit 0`,
      );
    } finally {
      killAll();
      await cg.remove();
    }
  }, 180_000);

  it('by RLIMIT_NPROC (ulimit -u 60) as an unprivileged uid: the same', async () => {
    // RLIMIT_NPROC does not bind root, so the bomb drops to an unprivileged uid first. Not
    // 65534: RLIMIT_NPROC counts every process of the uid, and the user-namespace test in
    // environments.test.ts runs as 65534 at the same time.
    const r = runPid1(
      [
        '--',
        'setpriv',
        '--reuid=65532',
        '--regid=65532',
        '--clear-groups',
        'prlimit',
        '--nproc=60',
        fixtureFor65534(init, hfixture('bomb.py')),
        '8',
      ],
      { init: init.bin },
    );
    await r.waitFor(/^READY$/m);
    const pid = await r.initPid();
    const t0 = performance.now();
    const latencies = await forwardUnderLoad(r, pid, 5);
    const bomb = await r.waitFor(/^BOMB forks=(\d+) eagain=(\d+)$/m, 30_000);
    const ended = performance.now();
    await until(
      'every bomb process reaped',
      () => zombiesUnder(pid).length === 0 && descendantsOf(pid).length === 1,
      15_000,
    );
    const reapedMs = performance.now() - ended;
    expect(Number(bomb[2]), `the limit never refused a fork\n${r.output}`).toBeGreaterThan(0);
    expect(Number(bomb[1]), r.output).toBeGreaterThan(60); // past the limit: pids the reaper freed (see above)
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
    record(
      'fork bomb (RLIMIT_NPROC 60, uid 65532)',
      `${((ended - t0) / 1000).toFixed(1)} s of bomb, ${bomb[1]} forks, ${bomb[2]} EAGAIN; SIGUSR2 forwarded in ${latencies.join('/')} ms during it; all reaped ${reapedMs.toFixed(0)} ms after it ended; zombies 0; exit 0`,
    );
  }, 180_000);
});
