// Evidence for what to change: builds variant executables into bench/.work/variants/ —
// the committed src/ with patches from bench/variants/*.diff, other baked options, the V8 code cache — with
// build.mjs's own functions, then measures each beside `node -e 0` and the current build:
// start-up (wall and CPU), idle memory and threads, signal latency warm and after quiet, and
// whether stderr stays quiet.
// `node bench/variants.mjs [name...]`; not part of `npm run bench`.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freshCopy, inNamespace, loadavg, median, memoryOf, Namespace, NODE, nowNs, printTable, ROOT, WORK } from './lib/common.mjs';
import { summarize, timeInterleaved } from './startup.mjs';

process.chdir(ROOT); // build.mjs reads package.json and writes build/ relative to the cwd
const build = await import(resolve(ROOT, 'build.mjs'));
const PATCHES = resolve(ROOT, 'bench/variants');
const OUT = resolve(WORK, 'variants');

/** Each variant: patches applied to a copy of src/, the baked options, and the V8 code cache. */
const BAKED = build.BAKED_EXEC_ARGV;
/** The init runs little JS and none of it hot: V8's optimizing tiers and 3 of its 4 workers buy nothing. */
const LEAN = ['--no-opt', '--no-maglev', '--no-sparkplug', '--v8-pool-size=1'];
export const VARIANTS = [
  { name: 'current', patches: [], execArgv: BAKED },
  { name: 'exit-now', patches: ['exit-now.diff'], execArgv: BAKED },
  { name: 'code-cache', patches: [], execArgv: BAKED, codeCache: true },
  { name: 'pool-1', patches: [], execArgv: [...BAKED, '--v8-pool-size=1'] },
  { name: 'lean-flags', patches: [], execArgv: [...BAKED, ...LEAN] },
  { name: 'idle-page-out', patches: ['idle-page-out.diff'], execArgv: BAKED },
  { name: 'idle+lean', patches: ['idle-page-out.diff'], execArgv: [...BAKED, ...LEAN] },
  { name: 'page-out-last', patches: ['page-out-last.diff'], execArgv: BAKED },
  { name: 'page-out-last+lean', patches: ['page-out-last.diff'], execArgv: [...BAKED, ...LEAN] },
  { name: 'recommended', patches: ['recommended.diff'], execArgv: [...BAKED, ...LEAN], codeCache: true },
];

/** The bundle of HEAD's src/ with the variant's patches, made in a copy (esbuild resolves from the cwd of its process). */
function bundleVariant(v, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // src/ as committed: the patches are made against HEAD, and a tree being edited would not take them.
  execFileSync('sh', ['-c', 'git -C "$0" archive HEAD src | tar -x -C "$1"', ROOT, dir]);
  copyFileSync(resolve(ROOT, 'package.json'), resolve(dir, 'package.json'));
  for (const p of v.patches) {
    const r = spawnSync('git', ['apply', '-p1', resolve(PATCHES, p)], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`variant ${v.name}: ${p} does not apply to the current src/ (re-make it):\n${r.stderr}`);
  }
  const out = resolve(dir, 'bundle.cjs');
  execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(resolve(ROOT, 'build.mjs'))}); await m.bundle(${JSON.stringify(out)});`], { cwd: dir, stdio: 'inherit' });
  return out;
}

/**
 * buildSea plus `useCodeCache: true`, which build.mjs does not pass. The cache is made by the
 * running Node for its own architecture and V8 flags: a cache V8 rejects at start-up prints
 * "Code cache data rejected" on stderr, which measureVariants checks for.
 */
function buildSeaWithCodeCache({ main, base, output, execArgv }) {
  const config = resolve(WORK, `sea-${output.replaceAll('/', '_')}.json`);
  writeFileSync(config, JSON.stringify({ main, output: `${output}.tmp`, executable: base, execArgv, execArgvExtension: 'none', disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false }));
  // The runner gets the baked options too: V8 rejects a cache made under other V8 flags.
  execFileSync(NODE, [...execArgv, '--build-sea', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  copyFileSync(`${output}.tmp`, output);
  rmSync(`${output}.tmp`);
  chmodSync(output, 0o755);
}

export function buildVariant(v) {
  const dir = resolve(OUT, v.name);
  const main = bundleVariant(v, resolve(dir, 'tree'));
  const base = build.strippedNode(NODE, 'build/node-linux-x64-stripped');
  const output = resolve(dir, 'tsinit');
  if (v.codeCache) buildSeaWithCodeCache({ main, base, output, execArgv: v.execArgv });
  else build.buildSea({ main, base, output, execArgv: v.execArgv });
  return freshCopy(output, `variant-${v.name}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One variant over fixtures/sigecho.pl: private memory and threads 2.5 s after start (idle),
 * signal latency warm (signals back to back) and after 1.2 s of quiet (what one rare signal
 * costs once the init has given its pages back), and private memory 1.5 s after the signals.
 */
async function probeIdle(exe, { warm = 100, cold = 8 } = {}) {
  const ns = new Namespace(inNamespace([exe, '--', 'perl', resolve(ROOT, 'bench/fixtures/sigecho.pl')]));
  try {
    const pid = await ns.ready(exe);
    await ns.waitLine(/^READY/, 30_000);
    await sleep(Math.max(0, ns.startedAt + 2500 - Date.now()));
    const idle = memoryOf(pid);
    let seen = ns.lines.length;
    const signal = async () => {
      const t0 = nowNs();
      process.kill(pid, 'SIGUSR2');
      const { match, index } = await ns.waitLine(/^SIG (\d+)/, 10_000, seen);
      seen = index + 1;
      return Number(BigInt(match[1]) - t0) / 1e3;
    };
    const coldUs = [];
    for (let i = 0; i < cold; i++) { await sleep(1200); coldUs.push(await signal()); }
    const warmUs = [];
    for (let i = 0; i < warm; i++) warmUs.push(await signal());
    await sleep(1500);
    return { idle, afterSignals: memoryOf(pid), warmUs: median(warmUs), coldUs: median(coldUs) };
  } finally {
    await ns.kill();
  }
}

export async function measureVariants(variants, rounds) {
  const built = variants.map((v) => ({ ...v, exe: buildVariant(v) }));
  for (const v of built) {
    const r = spawnSync('unshare', inNamespace([v.exe, '--', '/bin/true']).slice(1), { encoding: 'utf8' });
    v.stderr = r.stderr.trim();
    if (r.status !== 0) throw new Error(`variant ${v.name} exited ${r.status}: ${r.stderr}`);
  }
  const entries = [
    { name: 'node -e 0', argv: inNamespace([NODE, '-e', '0']) },
    ...built.map((v) => ({ name: v.name, argv: inNamespace([v.exe, '--', '/bin/true']) })),
  ];
  const t = timeInterleaved(entries, rounds);
  const floor = summarize(t.get('node -e 0'));
  const mb = (kb) => ((kb * 1024) / 1e6).toFixed(1);
  const rows = [['node -e 0', floor.median.toFixed(2), floor.cpu.toFixed(2), '1.000', '', '', '', '', '', '', '']];
  for (const v of built) {
    const s = summarize(t.get(v.name));
    const p = await probeIdle(v.exe);
    rows.push([v.name, s.median.toFixed(2), s.cpu.toFixed(2), (s.median / floor.median).toFixed(3), mb(p.idle.privateKb), mb(p.idle.privateDirtyKb), mb(p.afterSignals.privateKb), p.idle.threads, p.warmUs.toFixed(0), p.coldUs.toFixed(0), v.stderr === '' ? 'quiet' : v.stderr.split('\n')[0]]);
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const want = process.argv.slice(2);
  const chosen = want.length === 0 ? VARIANTS : VARIANTS.filter((v) => want.includes(v.name));
  if (!existsSync(NODE)) throw new Error(`${NODE} missing: npm ci first`);
  const rounds = Number(process.env.ROUNDS ?? 60);
  const load0 = loadavg();
  const rows = await measureVariants(chosen, rounds);
  console.log(`variants: start-up of \`INIT -- /bin/true\` under unshare, ${rounds} interleaved rounds; loadavg ${load0} -> ${loadavg()}`);
  printTable(['variant', 'start ms', 'CPU ms', 'x node -e 0', 'idle private MB', 'dirty MB', 'after signals MB', 'threads', 'signal µs', 'after quiet µs', 'stderr'], rows);
}

