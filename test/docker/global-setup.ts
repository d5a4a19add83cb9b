// Before the docker suite: dist/tsinit built, both engines up (docker/engine.sh up-init also
// brings up the shared one), tsinit-test and every case image built. A missing prerequisite
// fails the run loudly, in CI and out. After it, with WRITE_RESULTS=1, the rows the test
// files saved become docker/RESULTS.md (the checked-in table comes from such a run).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HOST, INIT_HOST, ROOT, STATE_DIR, build, dockerOk, type Row } from './docker.ts';

const TSINIT = resolve(ROOT, 'dist/tsinit');
const timings: Record<string, number> = {};

function timed<T>(what: string, f: () => T): T {
  const t = performance.now();
  try { return f(); } finally { timings[what] = (performance.now() - t) / 1000; }
}

async function timedAsync<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try { return await f(); } finally { timings[what] = (performance.now() - t) / 1000; }
}

/** tsinit-test on host: the base image plus dist/tsinit and docker/apps (docker/Dockerfile.base). */
async function buildBase(host: string): Promise<void> {
  const ctx = resolve(STATE_DIR, 'ctx');
  rmSync(ctx, { recursive: true, force: true });
  mkdirSync(ctx, { recursive: true });
  // A hard link keeps the 117 MB executable from being copied; /tmp may be another filesystem.
  try { linkSync(TSINIT, resolve(ctx, 'tsinit')); } catch { cpSync(TSINIT, resolve(ctx, 'tsinit')); }
  cpSync(resolve(ROOT, 'docker/apps'), ctx, { recursive: true });
  cpSync(resolve(ROOT, 'docker/Dockerfile.base'), resolve(ctx, 'Dockerfile'));
  await dockerOk(['build', '-q', '-t', 'tsinit-test', ctx], { host, timeoutMs: 300_000 });
}

/**
 * The images of docker/images (scratch, busybox, minbase): each from a context holding
 * dist/tsinit, Debian's static busybox and the shell-form handler app, tagged tsinit-img-<name>.
 */
async function buildImages(host: string): Promise<void> {
  const ctx = resolve(STATE_DIR, 'ctx-images');
  rmSync(ctx, { recursive: true, force: true });
  mkdirSync(ctx, { recursive: true });
  cpSync(TSINIT, resolve(ctx, 'tsinit'));
  cpSync('/bin/busybox', resolve(ctx, 'busybox'));
  cpSync(resolve(ROOT, 'docker/apps/handler.sh'), resolve(ctx, 'handler.sh'));
  const names = readdirSync(resolve(ROOT, 'docker/images')).filter((f) => f.endsWith('.Dockerfile')).map((f) => f.slice(0, -'.Dockerfile'.length));
  await Promise.all(names.map((n) => dockerOk(['build', '-q', '-t', `tsinit-img-${n}`, '-f', resolve(ROOT, `docker/images/${n}.Dockerfile`), ctx], { host, timeoutMs: 300_000 })));
}

/** Builds every Dockerfile in docker/<dir> as tsinit-<dir>-<name>, a few at a time. */
async function buildAll(dir: string, host: string, only: (name: string) => boolean = () => true): Promise<void> {
  if (!existsSync(resolve(ROOT, 'docker', dir))) return;
  const names = readdirSync(resolve(ROOT, 'docker', dir)).filter((f) => f.endsWith('.Dockerfile')).map((f) => f.slice(0, -'.Dockerfile'.length)).filter(only);
  for (let i = 0; i < names.length; i += 4) {
    await Promise.all(names.slice(i, i + 4).map((n) => build(`tsinit-${dir}-${n}`, `docker/${dir}/${n}.Dockerfile`, host)));
  }
}

export async function setup(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the docker suite needs root: docker/engine.sh installs docker.io and runs dockerd');
  if (!existsSync(TSINIT)) {
    timed('npm run build', () => execFileSync(resolve(ROOT, 'node_modules/.bin/node'), ['build.mjs'], { cwd: ROOT, stdio: 'inherit' }));
  }
  // stdio inherited: a failing apt-get or dockerd shows its own words in the run's output.
  timed('engine.sh up-init', () => execFileSync(resolve(ROOT, 'docker/engine.sh'), ['up-init'], { stdio: 'inherit', timeout: 900_000 }));
  await timedAsync('tsinit-test images', () => Promise.all([buildBase(HOST), buildBase(INIT_HOST)]));
  await timedAsync('case images', async () => {
    await buildAll('matrix', HOST);
    // `docker run --init` cases use the images without an init of their own.
    await buildAll('matrix', INIT_HOST, (n) => n.endsWith('-none'));
    await buildAll('servers', HOST);
    await buildImages(HOST);
  });
  rmSync(resolve(STATE_DIR, 'results'), { recursive: true, force: true });
  console.log(`docker suite set-up (s): ${JSON.stringify(timings)}`);
}

export function teardown(): void {
  if (process.env.WRITE_RESULTS !== '1') return;
  const dir = resolve(STATE_DIR, 'results');
  const rows: Row[] = existsSync(dir)
    ? readdirSync(dir).sort().flatMap((f) => JSON.parse(readFileSync(resolve(dir, f), 'utf8')) as Row[])
    : [];
  writeFileSync(resolve(ROOT, 'docker/RESULTS.md'), renderResults(rows));
}

function renderResults(rows: Row[]): string {
  const tables = new Map<string, Row[]>();
  for (const r of rows) tables.set(r.table, [...(tables.get(r.table) ?? []), r]);
  const out = [
    '# Docker results',
    '',
    `Generated by \`WRITE_RESULTS=1 npm run test:docker\` (test/docker/) on ${new Date().toISOString().slice(0, 10)}:`,
    `a real dockerd ${dockerVersion()} (docker/engine.sh), \`docker stop\` with Docker's default 10 s timeout,`,
    'stop time = wall time of the `docker stop` command. Machine: 2 cores, shared with other work,',
    'so the times carry some load noise. Set-up of this run (s): ' + Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ') + '.',
    '',
  ];
  for (const [title, rs] of tables) {
    const cols = Object.keys(rs[0]!.cells);
    out.push(`## ${title}`, '', `| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`);
    for (const r of rs) out.push(`| ${cols.map((c) => r.cells[c] ?? '').join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}

function dockerVersion(): string {
  try {
    return execFileSync('/usr/bin/docker', ['version', '-f', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: HOST }, encoding: 'utf8' }).trim();
  } catch {
    return '(version unknown)';
  }
}
