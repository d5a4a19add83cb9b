// The idle init and its signal path. All four inits run at once, each PID 1 of its own
// namespace over a child that sleeps (fixtures/sigecho.pl): memory and threads of the idle
// init, then SIGUSR2 sent round-robin to each init, and the time from kill() here to the
// child's handler there (both CLOCK_MONOTONIC: process.hrtime and Time::HiRes).
import { resolve } from 'node:path';
import { FIXTURES, inNamespace, median, memoryOf, Namespace, nowNs, quantile, rotate } from './lib/common.mjs';

/** Starts every init over sigecho.pl and waits for each child's READY line. */
export async function startIdle(inits) {
  const running = [];
  try {
    for (const init of inits) {
      const ns = new Namespace(inNamespace(init.argv(['perl', resolve(FIXTURES, 'sigecho.pl')])));
      running.push({ init, ns });
      await ns.ready(init.path);
      await ns.waitLine(/^READY/, 30_000);
    }
  } catch (e) {
    await stopAll(running);
    throw e;
  }
  return running;
}

export async function stopAll(running) {
  for (const r of running) await r.ns.kill();
}

/**
 * Memory of each idle init: from 2 s after its start (tsinit hands back its start-up pages
 * on a 500 ms timer; an init's life is long, the first moments are not its idle state),
 * sampled until two samples 100 ms apart agree.
 */
export async function measureIdleMemory(running, settleMs = 2000) {
  const out = [];
  for (const { init, ns } of running) {
    const wait = ns.startedAt + settleMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    let prev = memoryOf(ns.pid);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const cur = memoryOf(ns.pid);
      if (cur.privateKb === prev.privateKb && cur.rssKb === prev.rssKb) break;
      prev = cur;
    }
    out.push({ name: init.name, ...memoryOf(ns.pid) });
  }
  return out;
}

/** `count` SIGUSR2 to each init, round-robin with the order rotated; latencies in µs. */
export async function measureSignalLatency(running, count, warmup = 5) {
  const lat = new Map(running.map((r) => [r.init.name, []]));
  const first = new Map();
  const seen = new Map(running.map((r) => [r.init.name, r.ns.lines.length]));
  for (let i = 0; i < count + warmup; i++) {
    for (const { init, ns } of rotate(running, i)) {
      const t0 = nowNs();
      process.kill(ns.pid, 'SIGUSR2');
      const { match, index } = await ns.waitLine(/^SIG (\d+)/, 10_000, seen.get(init.name));
      seen.set(init.name, index + 1);
      const us = Number(BigInt(match[1]) - t0) / 1e3;
      if (i === 0) first.set(init.name, us);
      if (i >= warmup) lat.get(init.name).push(us);
    }
  }
  return running.map(({ init }) => {
    const v = lat.get(init.name);
    return { name: init.name, firstUs: first.get(init.name), medianUs: median(v), p99Us: quantile(v, 0.99), n: v.length };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { ensurePrerequisites, ensureBuilt, freshCopy, listInits, loadavg, printTable, ROOT } = await import('./lib/common.mjs');
  ensurePrerequisites();
  ensureBuilt();
  const inits = listInits(freshCopy(`${ROOT}/dist/tsinit`, 'tsinit'));
  const running = await startIdle(inits);
  try {
    const mem = await measureIdleMemory(running);
    console.log(`idle memory, loadavg ${loadavg()}`);
    printTable(['init', 'RSS KiB', 'private KiB', 'threads'], mem.map((m) => [m.name, m.rssKb, m.privateKb, m.threads]));
    const count = Number(process.env.SIGNALS ?? 300);
    const sig = await measureSignalLatency(running, count);
    console.log(`\nsignal latency, ${count} signals each, loadavg ${loadavg()}`);
    printTable(['init', 'median µs', 'p99 µs', 'first µs'], sig.map((s) => [s.name, s.medianUs.toFixed(0), s.p99Us.toFixed(0), s.firstUs.toFixed(0)]));
  } finally {
    await stopAll(running);
  }
}
