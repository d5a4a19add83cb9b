// `npm run bench:native`: the static tsinit against Debian's tini-static in C's own terms, the
// targets of issue 20, side by side in one run: own start-up (not PID 1, minus bare /bin/true),
// page faults, exec-to-child-exec, start-up as PID 1, idle memory as PID 1, a 10 000-signal
// flood, signal latency and size. The start-up rows run twice, on the machine as it is and under
// a load of two busy loops (one per core here); then a perf profile of tsinit's start-ups gives
// the flame summary. Everything goes to bench/NATIVE.md. A benchmark: it prints and writes, it
// fails nothing (a target missed is marked MISSED).
//   ROUNDS (300): start-up rounds; PID1_ROUNDS (40); FLOOD (10000); SIGNALS (300).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildStatic } from '../build/static.mjs';
import {
  ensureBuilt,
  ensurePrerequisites,
  FIXTURES,
  freshCopy,
  inNamespace,
  loadavg,
  median,
  ROOT,
  rotate,
  WORK,
} from './lib/common.mjs';
import { measureFlood, measureIdleMemory, measureSignalLatency, startIdle, stopAll } from './signal.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 300);
const PID1_ROUNDS = Number(process.env.PID1_ROUNDS ?? 40);
const FLOOD = Number(process.env.FLOOD ?? 10000);
const SIGNALS = Number(process.env.SIGNALS ?? 300);

/** The C fixtures, built with the system's compilers: runstat (gcc) and a static stamp (musl). */
function buildFixtures() {
  mkdirSync(WORK, { recursive: true });
  const runstat = resolve(WORK, 'runstat');
  const stamp = resolve(WORK, 'stamp');
  execFileSync('gcc', ['-O2', '-o', runstat, resolve(FIXTURES, 'runstat.c')]);
  execFileSync('musl-gcc', ['-O2', '-static', '-o', stamp, resolve(FIXTURES, 'stamp.c')]);
  return { runstat, stamp };
}

/** One run of argv under runstat: wall µs, minor faults, µs to the stamp (or -1). */
function runstat(fx, argv) {
  const [wallUs, faults, stampUs] = execFileSync(fx.runstat, argv, { encoding: 'utf8' }).trim().split(' ').map(Number);
  return { wallUs, faults, stampUs };
}

/** Every entry `rounds` times in rotated order; per entry the medians. */
function measure(fx, entries, rounds) {
  const samples = new Map(entries.map((e) => [e.name, []]));
  for (let i = 0; i < 3; i++) for (const e of entries) runstat(fx, e.argv);
  for (let r = 0; r < rounds; r++) for (const e of rotate(entries, r)) samples.get(e.name).push(runstat(fx, e.argv));
  const out = {};
  for (const [name, s] of samples)
    out[name] = {
      wallUs: median(s.map((x) => x.wallUs)),
      faults: median(s.map((x) => x.faults)),
      stampUs: median(s.map((x) => x.stampUs)),
    };
  return out;
}

/** The start-up rows for tsinit and tini-static, from one interleaved run. */
function startupRows(fx, bins) {
  const entries = [{ name: 'true', argv: ['/bin/true'] }];
  for (const [name, bin] of Object.entries(bins)) {
    entries.push({ name, argv: [bin, '--', '/bin/true'] }, { name: `${name}>stamp`, argv: [bin, '--', fx.stamp] });
  }
  const m = measure(fx, entries, ROUNDS);
  const pid1 = measure(
    fx,
    Object.entries(bins).map(([name, bin]) => ({
      name,
      argv: [...inNamespace([bin, '--', '/bin/true'])].map((a, i) => (i === 0 ? '/usr/bin/unshare' : a)),
    })),
    PID1_ROUNDS,
  );
  const row = (name) => ({
    ownMs: (m[name].wallUs - m.true.wallUs) / 1e3,
    faults: m[name].faults,
    execToExecMs: m[`${name}>stamp`].stampUs / 1e3,
    pid1Ms: pid1[name].wallUs / 1e3,
  });
  return { tsinit: row('tsinit'), tini: row('tini-static'), trueMs: m.true.wallUs / 1e3 };
}

/** Runs fn while two busy loops (nice 0) keep both cores of this machine busy. */
async function underLoad(fn) {
  const hogs = [0, 1].map(() => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
  try {
    await new Promise((r) => setTimeout(r, 500));
    return await fn();
  } finally {
    for (const h of hogs) h.kill('SIGKILL');
  }
}

/** Where a self-time sample falls: the kernel, the allocators, or which part of the engine. */
const CATEGORIES = [
  ['kernel (page faults, exec, mmap, exit)', (sym, dso) => dso.includes('kernel')],
  [
    'allocators (engine_alloc/free/realloc, musl malloc)',
    (sym) =>
      /^(engine_|size_class|large_alloc|__libc_malloc|malloc|free|__libc_free|realloc|calloc|alloc_slot|get_meta|nontrivial_free|enframe)/.test(
        sym,
      ),
  ],
  ['Duktape objects and properties', (sym) => /duk_hobject|duk__hobject|propdesc|_prop/.test(sym)],
  ['Duktape strings', (sym) => /strtable|hstring|duk_push_lstring|duk_push_string/.test(sym)],
  ['Duktape bytecode loader', (sym) => /duk__load|duk_bd_decode|duk_load/.test(sym)],
  ['Duktape interpreter and calls', (sym) => /execute_bytecode|handle_call|duk_js_|duk__js_/.test(sym)],
  ['Duktape garbage collection', (sym) => /mark_and_sweep|duk__mark|duk__sweep|refzero|refcount/.test(sym)],
];

/** perf's top symbols (self time) over `rounds` start-ups, and their sum per category. */
async function flame(rounds = 300) {
  const bin = resolve(WORK, 'tsinit-symbols');
  await buildStatic('linux-x64', { output: bin, strip: false });
  const data = resolve(WORK, 'perf.data');
  const loop = `for i in $(seq ${rounds}); do ${bin} -- /bin/true; done`;
  execFileSync('perf', ['record', '-q', '-F', '20000', '-o', data, '--', 'sh', '-c', loop], { stdio: 'ignore' });
  const rows = execFileSync(
    'perf',
    ['report', '-i', data, '--comm', 'tsinit-symbols', '--stdio', '--no-children', '--sort', 'dso,sym'],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  )
    .split('\n')
    .map((l) => /^\s+([\d.]+)%\s+(\S+)\s+\[.\]\s+(.+?)\s*$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ pct: Number(m[1]), dso: m[2], sym: m[3] }));
  const sums = new Map(CATEGORIES.map(([name]) => [name, 0]));
  let rest = 0;
  for (const r of rows) {
    const c = CATEGORIES.find(([, test]) => test(r.sym, r.dso));
    if (c) sums.set(c[0], sums.get(c[0]) + r.pct);
    else rest += r.pct;
  }
  return {
    rounds,
    categories: [...sums, ['other (musl, the bridge, the rest of Duktape)', rest]].map(
      ([name, pct]) => `${pct.toFixed(1).padStart(5)}%  ${name}`,
    ),
    top: rows
      .slice(0, 25)
      .map((r) => `${r.pct.toFixed(2).padStart(5)}%  ${r.sym}${r.dso.includes('kernel') ? ' [kernel]' : ''}`),
  };
}

const ratio = (a, b) => a / b;
const TARGETS = [
  {
    what: 'own start-up cost, `INIT -- /bin/true` not PID 1, minus bare /bin/true',
    key: 'ownMs',
    unit: 'ms',
    limit: 2.5,
  },
  { what: 'minor page faults of `INIT -- /bin/true`', key: 'faults', unit: '', abs: 250 },
  { what: 'exec of the init to exec of the child', key: 'execToExecMs', unit: 'ms', limit: 2 },
  {
    what: 'start-up as PID 1 (`unshare --pid --fork --mount-proc INIT -- /bin/true`)',
    key: 'pid1Ms',
    unit: 'ms',
    limit: 1.35,
  },
];

function startupTable(rows) {
  return TARGETS.map((t) => {
    const a = rows.tsinit[t.key];
    const b = rows.tini[t.key];
    const r = ratio(a, b);
    const met = t.abs !== undefined ? a <= t.abs : r <= t.limit;
    const fmt = (v) => (t.unit === 'ms' ? v.toFixed(2) : String(v));
    return [
      t.what,
      fmt(a),
      fmt(b),
      r.toFixed(2),
      t.abs !== undefined ? `≤ ${t.abs}` : `≤ ${t.limit}×`,
      met ? 'met' : 'MISSED',
    ];
  });
}

async function main() {
  process.chdir(ROOT);
  ensurePrerequisites((m) => console.error(m));
  execFileSync(resolve(ROOT, '.ci/install'), ['bench'], { stdio: 'inherit' });
  ensureBuilt();
  const fx = buildFixtures();
  const tsinit = freshCopy(resolve(ROOT, 'dist/tsinit'), 'tsinit');
  const tini = execFileSync('sh', ['-c', 'command -v tini-static'], { encoding: 'utf8' }).trim();
  const bins = { tsinit, 'tini-static': tini };
  const load0 = loadavg();

  console.error(`bench:native: start-up, ${ROUNDS} rounds (${PID1_ROUNDS} as PID 1), loadavg ${loadavg()}`);
  const quiet = startupRows(fx, bins);
  console.error(`bench:native: the same under two busy loops, loadavg ${loadavg()}`);
  const loaded = await underLoad(() => startupRows(fx, bins));

  console.error(`bench:native: idle memory, ${SIGNALS} signals, a flood of ${FLOOD}`);
  const inits = [
    { name: 'tsinit', path: tsinit },
    { name: 'tini-static', path: tini },
  ].map((i) => ({ ...i, argv: (cmd) => [i.path, '--', ...cmd] }));
  const idle = await startIdle(inits);
  let memory, latency, flood, memoryAfter;
  try {
    memory = await measureIdleMemory(idle);
    latency = await measureSignalLatency(idle, SIGNALS);
    flood = await measureFlood(idle, FLOOD);
    memoryAfter = await measureIdleMemory(idle);
  } finally {
    await stopAll(idle);
  }
  const by = (list, name) => list.find((x) => x.name === name);
  const sizeKb = (p) => statSync(p).size / 1024;

  console.error('bench:native: perf profile of tsinit start-ups');
  let prof = null;
  try {
    prof = await flame();
  } catch (e) {
    console.error(`bench:native: no flame summary: ${e.message.split('\n')[0]}`);
  }

  const other = [
    [
      'idle private memory as PID 1, kB',
      by(memory, 'tsinit').privateKb,
      by(memory, 'tini-static').privateKb,
      '',
      '≤ 800 kB',
      by(memory, 'tsinit').privateKb <= 800 ? 'met' : 'MISSED',
    ],
    [
      '… after the flood, kB',
      by(memoryAfter, 'tsinit').privateKb,
      by(memoryAfter, 'tini-static').privateKb,
      '',
      '',
      '',
    ],
    [
      `${FLOOD}-signal flood to PID 1: sent → nothing pending, ms`,
      by(flood, 'tsinit').drainMs.toFixed(0),
      by(flood, 'tini-static').drainMs.toFixed(0),
    ],
    [
      "signal latency, kill → child's handler, median µs",
      by(latency, 'tsinit').medianUs.toFixed(0),
      by(latency, 'tini-static').medianUs.toFixed(0),
    ],
    [
      'executable size, KB',
      sizeKb(tsinit).toFixed(1),
      sizeKb(tini).toFixed(1),
      '',
      '≤ 420 KB',
      sizeKb(tsinit) <= 420 ? 'met' : 'MISSED',
    ],
  ];
  other[2].push(
    ...[ratio(by(flood, 'tsinit').drainMs, by(flood, 'tini-static').drainMs)]
      .map((r) => [r.toFixed(2), '≤ 1.3×', r <= 1.3 ? 'met' : 'MISSED'])
      .flat(),
  );
  other[3].push(
    ...[ratio(by(latency, 'tsinit').medianUs, by(latency, 'tini-static').medianUs)]
      .map((r) => [r.toFixed(2), '≤ 1.2×', r <= 1.2 ? 'met' : 'MISSED'])
      .flat(),
  );

  const header = ['', 'tsinit', 'tini-static', 'ratio', 'target', ''];
  const md = [
    '# tsinit against tini-static: start-up, memory, signals',
    '',
    `Written by \`npm run bench:native\` (bench/native.mjs) on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${gitCommit()}. One run; medians of ${ROUNDS} alternating rounds (${PID1_ROUNDS} as PID 1). Load average at the start ${load0}, at the end ${loadavg()}. A benchmark: a target missed fails nothing.`,
    '',
    `## Start-up, the machine as it is (bare /bin/true: ${quiet.trueMs.toFixed(2)} ms)`,
    '',
    mdTable(header, startupTable(quiet)),
    '',
    `## Start-up under two busy loops (bare /bin/true: ${loaded.trueMs.toFixed(2)} ms)`,
    '',
    mdTable(header, startupTable(loaded)),
    '',
    '## Memory, signals, size (both as PID 1 of their own pid namespace, over bench/fixtures/sigecho.pl)',
    '',
    mdTable(header, other),
    '',
    "## Where tsinit's start-up goes",
    '',
    prof === null
      ? "No profile (perf failed; see the run's output)."
      : [
          `\`perf record\` of ${prof.rounds} runs of \`tsinit -- /bin/true\` (an unstripped build of the same source; the executable has no unwind tables, so no call graph: self time only). By category:`,
          '',
          '```',
          ...prof.categories,
          '```',
          '',
          'Top symbols:',
          '',
          '```',
          ...prof.top,
          '```',
        ].join('\n'),
    '',
  ].join('\n');
  writeFileSync(resolve(ROOT, 'bench/NATIVE.md'), md);
  console.log(md);
}

function gitCommit() {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

function mdTable(header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

await main();
