// Start-up overhead: wall time from spawn to exit of `INIT -- /bin/true` as PID 1 of a fresh
// pid namespace, beside bare /bin/true and `node -e 0` (the floor of a Node-based init), both
// also under unshare so the namespace's own cost is visible. Rounds alternate the order.
import { spawnSync } from 'node:child_process';
import { childrenCpuUs, inNamespace, loadavg, median, nowNs, printTable, quantile, rotate } from './lib/common.mjs';

/**
 * Wall time of one run in ms, and the CPU time (user + system) of everything it ran, from
 * getrusage(RUSAGE_CHILDREN): on a loaded machine wall time waits for a core, CPU time does
 * not, so it tells the work apart from the waiting. A run that fails fails the bench.
 */
export function timeOnce(argv) {
  const c0 = childrenCpuUs();
  const t0 = nowNs();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
  const ms = Number(nowNs() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal} ${r.error ?? ''}`);
  return { ms, cpuMs: (childrenCpuUs() - c0) / 1e3 };
}

/**
 * Times every entry `rounds` times; round r starts at entry r (rotated order), so slow and
 * fast spells of a loaded machine fall on every entry alike. Returns ms samples per name.
 */
export function timeInterleaved(entries, rounds, { warmup = 2 } = {}) {
  for (let i = 0; i < warmup; i++) for (const e of entries) timeOnce(e.argv);
  const samples = new Map(entries.map((e) => [e.name, { ms: [], cpuMs: [] }]));
  for (let r = 0; r < rounds; r++) {
    for (const e of rotate(entries, r)) {
      const t = timeOnce(e.argv);
      samples.get(e.name).ms.push(t.ms);
      samples.get(e.name).cpuMs.push(t.cpuMs);
    }
  }
  return samples;
}

export function summarize({ ms, cpuMs }) {
  return {
    median: median(ms),
    p10: quantile(ms, 0.1),
    p90: quantile(ms, 0.9),
    min: Math.min(...ms),
    cpu: median(cpuMs),
    n: ms.length,
  };
}

/** The start-up entries of the full bench: floors first, then every init. */
export function startupEntries(inits, node) {
  return [
    { name: '/bin/true', argv: ['/bin/true'] },
    { name: 'node -e 0', argv: [node, '-e', '0'] },
    { name: 'unshare /bin/true', argv: inNamespace(['/bin/true']) },
    { name: 'unshare node -e 0', argv: inNamespace([node, '-e', '0']) },
    ...inits.map((i) => ({ name: `unshare ${i.name}`, init: i.name, argv: inNamespace(i.argv(['/bin/true'])) })),
  ];
}

export function measureStartup(inits, node, rounds) {
  const entries = startupEntries(inits, node);
  const samples = timeInterleaved(entries, rounds);
  return entries.map((e) => ({ name: e.name, init: e.init ?? null, ...summarize(samples.get(e.name)) }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { ensurePrerequisites, ensureBuilt, measuredInits, NODE } = await import('./lib/common.mjs');
  ensurePrerequisites();
  ensureBuilt();
  const inits = measuredInits();
  const rounds = Number(process.env.ROUNDS ?? 40);
  console.log(`start-up, ${rounds} rounds, loadavg ${loadavg()}`);
  const rows = measureStartup(inits, NODE, rounds);
  printTable(
    ['command', 'median ms', 'p10', 'p90', 'min', 'CPU ms'],
    rows.map((r) => [
      r.name,
      r.median.toFixed(2),
      r.p10.toFixed(2),
      r.p90.toFixed(2),
      r.min.toFixed(2),
      r.cpu.toFixed(2),
    ]),
  );
}
