// `npm run bench`: the static tsinit against tini, tini-static, dumb-init, catatonit and the Node
// build tsinit-node (and `node -e 0`, the floor of a Node-based init), interleaved in one run —
// start-up, idle memory, signal latency, a signal flood, reaping, size — then bench/RESULTS.md
// and bench/chart.svg. A benchmark prints tables; it asserts nothing except that every init did
// its job (a run that fails, leaves zombies or loses its child in the flood stops the bench).
// BENCH_QUICK=1: every init and every measurement, with fewer rounds and smaller floods and
// bursts, for trying the scripts out (a few minutes).
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { ensureBuilt, ensurePrerequisites, loadavg, measuredInits, NODE, printTable, ROOT } from './lib/common.mjs';
import { evaluateTargets, formatResults, renderChart } from './lib/report.mjs';
import { measureBursts, measureChurn } from './reap.mjs';
import { measureFlood, measureIdleMemory, measureSignalLatency, startIdle, stopAll } from './signal.mjs';
import { measureSize } from './size.mjs';
import { measureStartup } from './startup.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const PLAN = QUICK
  ? { startupRounds: 10, signals: 50, flood: 2000, burst: 500, burstRounds: 2, churn: 300 }
  : { startupRounds: 40, signals: 300, flood: 10000, burst: 5000, burstRounds: 5, churn: 50000 };

const sh = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const debVersion = (pkg) => sh('dpkg-query', ['-W', '-f=${Version}', pkg]);
const step = (what) => console.error(`bench: ${what} (loadavg ${loadavg()})`);

function describeMachine() {
  let os = 'unknown OS';
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(sh('cat', ['/etc/os-release']))[1];
  } catch {
    /* keep unknown */
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus().length,
    memGb: Math.round(totalmem() / 1e9),
    kernel: sh('uname', ['-r']),
    os,
  };
}

async function main() {
  process.chdir(ROOT);
  const t0 = Date.now();
  ensurePrerequisites((m) => console.error(m));
  ensureBuilt();
  const inits = measuredInits();
  const pathOf = (name) => inits.find((i) => i.name === name).path;
  const versionOf = (name) => spawnSync(pathOf(name), ['--version'], { encoding: 'utf8' }).stdout.trim();
  let commit = 'unknown';
  try {
    commit =
      sh('git', ['rev-parse', '--short', 'HEAD']) +
      (sh('git', ['status', '--porcelain', '--', 'src', 'build.mjs', 'build']) === '' ? '' : ' + uncommitted changes');
  } catch {
    /* not a clone */
  }
  const results = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: describeMachine(),
    versions: {
      tsinit: versionOf('tsinit'),
      'tsinit-node': versionOf('tsinit-node'),
      node: sh(NODE, ['--version']),
      tini: debVersion('tini'),
      'dumb-init': debVersion('dumb-init'),
      catatonit: debVersion('catatonit'),
    },
    commit,
    quick: QUICK,
    load: { start: loadavg(), end: '' },
  };

  step(`start-up: ${PLAN.startupRounds} rounds`);
  results.startup = measureStartup(inits, NODE, PLAN.startupRounds);

  step(`idle memory, ${PLAN.signals} signals per init, then a flood of ${PLAN.flood}`);
  const idle = await startIdle(inits);
  try {
    results.memory = await measureIdleMemory(idle);
    results.signal = await measureSignalLatency(idle, PLAN.signals);
    results.memoryAfterSignals = await measureIdleMemory(idle);
    results.flood = await measureFlood(idle, PLAN.flood);
    results.memoryAfterFlood = await measureIdleMemory(idle);
  } finally {
    await stopAll(idle);
  }

  step(`burst of ${PLAN.burst} orphans, ${PLAN.burstRounds} rounds`);
  results.burst = {
    n: PLAN.burst,
    rounds: PLAN.burstRounds,
    rows: await measureBursts(inits, PLAN.burst, PLAN.burstRounds),
  };

  results.churn = { n: PLAN.churn, rows: [] };
  // The churn runs once per init; the order is the burst's, turned by one, so no init is always first.
  for (const init of [...inits.slice(1), inits[0]]) {
    step(`churn of ${PLAN.churn} orphans under ${init.name}`);
    results.churn.rows.push({ name: init.name, ...(await measureChurn(init, PLAN.churn)) });
  }

  step('size');
  results.size = [...inits.map((i) => measureSize(i.name, i.path)), measureSize('node', NODE)];
  results.load.end = loadavg();

  const md = formatResults(results);
  writeFileSync(resolve(ROOT, 'bench/RESULTS.md'), md);
  writeFileSync(resolve(ROOT, 'bench/chart.svg'), renderChart(results));
  writeFileSync(resolve(ROOT, 'bench/.work/results.json'), JSON.stringify(results, null, 2));
  console.log(md.slice(md.indexOf('## Results'), md.indexOf('![')));
  printTable(
    ['target', 'limit', 'measured', ''],
    evaluateTargets(results).map((t) => [t.what, t.limit, t.measured, t.met ? 'met' : 'MISSED']),
  );
  console.log(
    `\nbench: wrote bench/RESULTS.md and bench/chart.svg in ${((Date.now() - t0) / 1000).toFixed(0)} s${QUICK ? ' (BENCH_QUICK: not the full plan)' : ''}`,
  );
}

await main();
