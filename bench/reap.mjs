// Reaping, seen from outside through /proc: (1) a burst of orphans released at once — time
// from closing the FIFO they block on until the init has no child left but its main one;
// (2) a churn of orphans made one after another — zombies left at the end, the time until
// none is left, and the init's RSS before and after.
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import {
  childrenOf,
  FIXTURES,
  inNamespace,
  median,
  memoryOf,
  Namespace,
  nowNs,
  sleepMs,
  stateOf,
  WORK,
} from './lib/common.mjs';

/** Polls until pred() is true; returns the ns it took from t0, or throws at the deadline. */
function pollUntil(pred, t0, deadlineMs, what, pauseMs = 1) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (pred()) return Number(nowNs() - t0);
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    sleepMs(pauseMs);
  }
}

/** CPU time pid has run so far, ms (/proc/PID/schedstat: ns on a CPU, precise where stat's ticks are 10 ms). */
function cpuMsOf(pid) {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
}

/** The init's children other than its main one, and how many of them are zombies. */
function orphansOf(initPid, mainPid) {
  const kids = childrenOf(initPid).filter((p) => p !== mainPid);
  let zombies = 0;
  for (const k of kids) if (stateOf(k) === 'Z') zombies++;
  return { count: kids.length, zombies };
}

/**
 * One burst of n orphans under init; returns ms from release until no orphan is left, and the
 * CPU time the init itself ran meanwhile (its share of the work: waking up and waitpid).
 */
export async function measureBurst(init, n) {
  const fifo = resolve(WORK, `burst-${init.name}.fifo`);
  rmSync(fifo, { force: true });
  execFileSync('mkfifo', [fifo]);
  // Read-write: the open does not wait for a reader, and this is the FIFO's only write end.
  /** @type {number | null} */
  let fd = openSync(fifo, 'r+');
  const ns = new Namespace(inNamespace(init.argv(['perl', resolve(FIXTURES, 'burst.pl'), fifo, String(n)])));
  try {
    const initPid = await ns.ready(init.path);
    await ns.waitLine(/^READY/, 600_000); // forking n processes takes minutes on a loaded machine
    const mainPid = childrenOf(initPid)[0];
    // Every orphan must be the init's child before the release, or the clock would start early.
    pollUntil(() => childrenOf(initPid).length === n + 1, nowNs(), 30_000, `${n} orphans under ${init.name}`);
    const before = memoryOf(initPid);
    const cpu0 = cpuMsOf(initPid);
    const t0 = nowNs();
    closeSync(fd);
    fd = null;
    const ns_ = pollUntil(() => childrenOf(initPid).length === 1, t0, 120_000, `${init.name} to reap the burst`, 0.5);
    const initCpuMs = cpuMsOf(initPid) - cpu0;
    const left = orphansOf(initPid, mainPid);
    if (left.count !== 0 || stateOf(mainPid) === 'Z')
      throw new Error(`${init.name}: burst left ${left.count} processes`);
    return { ms: ns_ / 1e6, initCpuMs, before, after: memoryOf(initPid) };
  } finally {
    if (fd !== null) closeSync(fd);
    await ns.kill();
    rmSync(fifo, { force: true });
  }
}

/** The churn of n orphans one after another under init. */
export async function measureChurn(init, n) {
  const ns = new Namespace(inNamespace(init.argv(['perl', resolve(FIXTURES, 'churn.pl'), String(n)])));
  try {
    const initPid = await ns.ready(init.path);
    const start = await ns.waitLine(/^START/, 30_000);
    const mainPid = childrenOf(initPid)[0];
    const before = memoryOf(initPid);
    // Sample the zombies now and then while the churn runs: a steady pile-up would show here.
    let maxZombies = 0;
    const sampler = setInterval(() => {
      maxZombies = Math.max(maxZombies, orphansOf(initPid, mainPid).zombies);
    }, 50);
    const done = await ns.waitLine(/^DONE ([\d.]+)/, 3_600_000, start.index + 1);
    clearInterval(sampler);
    const t0 = nowNs();
    const atEnd = orphansOf(initPid, mainPid);
    const settleNs = pollUntil(
      () => orphansOf(initPid, mainPid).count === 0,
      t0,
      30_000,
      `${init.name} to reap the churn`,
    );
    return {
      seconds: Number(done.match[1]),
      zombiesAtEnd: atEnd.zombies,
      maxZombies: Math.max(maxZombies, atEnd.zombies),
      settleMs: settleNs / 1e6,
      before,
      after: memoryOf(initPid),
    };
  } finally {
    await ns.kill();
  }
}

/** Bursts in rounds with the inits' order rotated each round; median ms per init. */
export async function measureBursts(inits, n, rounds) {
  const out = new Map(inits.map((i) => [i.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < inits.length; k++) {
      const init = inits[(k + r) % inits.length];
      out.get(init.name).push(await measureBurst(init, n));
    }
  }
  return inits.map((i) => {
    const runs = out.get(i.name);
    return {
      name: i.name,
      medianMs: median(runs.map((x) => x.ms)),
      runsMs: runs.map((x) => x.ms),
      initCpuMs: median(runs.map((x) => x.initCpuMs)),
      afterRssKb: Math.max(...runs.map((x) => x.after.rssKb)),
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { ensurePrerequisites, ensureBuilt, loadavg, measuredInits, printTable } = await import('./lib/common.mjs');
  ensurePrerequisites();
  ensureBuilt();
  const inits = measuredInits();
  const n = Number(process.env.BURST ?? 5000);
  const rounds = Number(process.env.ROUNDS ?? 5);
  console.log(`burst of ${n} orphans, ${rounds} rounds, loadavg ${loadavg()}`);
  const bursts = await measureBursts(inits, n, rounds);
  printTable(
    ['init', 'median ms', 'init CPU ms', 'runs ms'],
    bursts.map((b) => [
      b.name,
      b.medianMs.toFixed(1),
      b.initCpuMs.toFixed(1),
      b.runsMs.map((x) => x.toFixed(0)).join(' '),
    ]),
  );
  const churnN = Number(process.env.CHURN ?? 50000);
  console.log(`\nchurn of ${churnN} orphans, loadavg ${loadavg()}`);
  const rows = [];
  for (const init of inits) {
    const c = await measureChurn(init, churnN);
    rows.push([
      init.name,
      c.seconds.toFixed(1),
      c.maxZombies,
      c.zombiesAtEnd,
      c.settleMs.toFixed(1),
      c.before.rssKb,
      c.after.rssKb,
    ]);
  }
  printTable(
    ['init', 'churn s', 'max zombies seen', 'zombies at end', 'ms to none', 'RSS before KiB', 'RSS after KiB'],
    rows,
  );
}
