// The idle init and its signal path. All the inits run at once, each PID 1 of its own
// namespace over a child that sleeps (fixtures/sigecho.pl): memory and threads of the idle
// init; SIGUSR2 sent round-robin to each init, and the time from kill() here to the child's
// handler there (both CLOCK_MONOTONIC: process.hrtime and Time::HiRes); then a flood of
// signals to each init as fast as kill(2) goes, and its memory once it has passed them all on.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  childrenOf,
  FIXTURES,
  inNamespace,
  median,
  memoryOf,
  Namespace,
  nowNs,
  quantile,
  rotate,
  sleepMs,
} from './lib/common.mjs';

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
    return {
      name: init.name,
      firstUs: first.get(init.name),
      medianUs: median(v),
      p99Us: quantile(v, 0.99),
      n: v.length,
    };
  });
}

/**
 * The flood's signals, by Linux number: SIGUSR1, SIGURG, SIGWINCH (standard: a second one
 * pending merges with the first) and the realtime 34..64 (each one queued in the kernel and
 * passed on one by one). sigecho.pl counts them all and survives them.
 */
export const FLOOD_SIGNALS = [10, 23, 28, ...Array.from({ length: 31 }, (_, i) => 34 + i)];

/** Whether pid has no signal pending (thread or process-wide; blocked ones included), or is gone. */
function nothingPending(pid) {
  let status;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return true;
  }
  return !/^(SigPnd|ShdPnd):\s*0*[1-9a-f]/m.test(status);
}

/**
 * `count` signals of FLOOD_SIGNALS to each idle init in turn, as fast as kill(2) goes (a full
 * realtime queue, EAGAIN, is waited out and counted). Then, per init: the time until neither it
 * nor its child has a signal pending, how many reached the child, and a SIGUSR2 that must still
 * come back from a child alive under a live init. Memory is read afterwards (measureIdleMemory).
 */
export async function measureFlood(running, count) {
  const out = [];
  for (const { init, ns } of running) {
    const child = childrenOf(ns.pid)[0];
    const probe = async () => {
      const from = ns.lines.length;
      process.kill(ns.pid, 'SIGUSR2');
      return Number((await ns.waitLine(/^SIG \d+ (\d+)/, 30_000, from)).match[1]);
    };
    const before = await probe();
    let again = 0;
    const t0 = nowNs();
    for (let i = 0; i < count; i++) {
      const sig = FLOOD_SIGNALS[i % FLOOD_SIGNALS.length];
      for (;;) {
        try {
          process.kill(ns.pid, sig);
          break;
        } catch (e) {
          if (e.code !== 'EAGAIN')
            throw new Error(`${init.name}: kill(${sig}) during the flood: ${e.message}`, { cause: e });
          again++;
          sleepMs(1);
        }
      }
    }
    const sentNs = nowNs();
    const deadline = Date.now() + 120_000;
    // Twice in a row, 5 ms apart: a signal in flight between the init and its child is pending in neither for a moment.
    for (let quiet = 0; quiet < 2;) {
      if (Date.now() > deadline) throw new Error(`${init.name}: signals still pending 120 s after the flood`);
      quiet = nothingPending(ns.pid) && nothingPending(child) ? quiet + 1 : 0;
      await new Promise((r) => setTimeout(r, 5));
    }
    const drainedNs = nowNs();
    if (!childrenOf(ns.pid).includes(child))
      throw new Error(`${init.name}: the child did not survive the flood\n${ns.stderr.slice(-500)}`);
    const after = await probe();
    out.push({
      name: init.name,
      n: count,
      sendMs: Number(sentNs - t0) / 1e6,
      drainMs: Number(drainedNs - sentNs) / 1e6,
      reachedChild: after - before,
      eagain: again,
    });
  }
  // Settled means idle again, and an idle init wakes now and then (tsinit's backstop every 1 s):
  // let one such wake-up pass, as work an init defers to it (a garbage collection) belongs to the flood.
  await new Promise((r) => setTimeout(r, SETTLE_AFTER_FLOOD_MS));
  return out;
}

/** How long after the last init's flood its memory is read: more than one 1 s backstop wake-up. */
export const SETTLE_AFTER_FLOOD_MS = 2500;

if (import.meta.url === `file://${process.argv[1]}`) {
  const { ensurePrerequisites, ensureBuilt, loadavg, measuredInits, printTable } = await import('./lib/common.mjs');
  ensurePrerequisites();
  ensureBuilt();
  const inits = measuredInits();
  const running = await startIdle(inits);
  try {
    const mem = await measureIdleMemory(running);
    console.log(`idle memory, loadavg ${loadavg()}`);
    printTable(
      ['init', 'RSS KiB', 'private KiB', 'threads'],
      mem.map((m) => [m.name, m.rssKb, m.privateKb, m.threads]),
    );
    const count = Number(process.env.SIGNALS ?? 300);
    const sig = await measureSignalLatency(running, count);
    console.log(`\nsignal latency, ${count} signals each, loadavg ${loadavg()}`);
    printTable(
      ['init', 'median µs', 'p99 µs', 'first µs'],
      sig.map((s) => [s.name, s.medianUs.toFixed(0), s.p99Us.toFixed(0), s.firstUs.toFixed(0)]),
    );
    const n = Number(process.env.FLOOD ?? 10000);
    const flood = await measureFlood(running, n);
    const memAfter = await measureIdleMemory(running);
    console.log(`\nflood of ${n} signals each, loadavg ${loadavg()}`);
    printTable(
      ['init', 'send ms', 'drain ms', 'reached child', 'EAGAIN', 'private KiB after'],
      flood.map((f, i) => [
        f.name,
        f.sendMs.toFixed(0),
        f.drainMs.toFixed(0),
        f.reachedChild,
        f.eagain,
        memAfter[i].privateKb,
      ]),
    );
  } finally {
    await stopAll(running);
  }
}
