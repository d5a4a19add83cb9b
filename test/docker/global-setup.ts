// Before the docker suite: dist/tsinit built, both engines up (docker/engine.sh up-init also
// brings up the shared one), tsinit-test and every case image built. A missing prerequisite
// fails the run loudly, in CI and out. After it, with WRITE_RESULTS=1, the rows the test
// files saved become docker/RESULTS.md (the checked-in table comes from such a run).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isUpToDate } from '../helpers/build.ts';
import {
  HOST,
  INIT_HOST,
  ROOT,
  STATE_DIR,
  buildAll,
  collectRows,
  dockerEngine,
  dockerOk,
  makeBaseContext,
  renderTables,
} from './docker.ts';

const TSINIT = resolve(ROOT, 'dist/tsinit');
const timings: Record<string, number> = {};

function timed<T>(what: string, f: () => T): T {
  const t = performance.now();
  try {
    return f();
  } finally {
    timings[what] = (performance.now() - t) / 1000;
  }
}

async function timedAsync<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await f();
  } finally {
    timings[what] = (performance.now() - t) / 1000;
  }
}

/** The Debian releases of docker/engine.sh's server images (tsinit-debian-SUITE). */
const SUITES = ['bookworm', 'trixie', 'forky'] as const;

/** tsinit-test on host: the trixie image plus dist/tsinit and docker/apps (docker/Dockerfile.base);
 * with suites, also tsinit-test-SUITE from each release's image, for the server cases. */
async function buildBase(host: string, suites: readonly string[] = []): Promise<void> {
  const ctx = resolve(STATE_DIR, `ctx-${host === HOST ? 'shared' : 'init'}`);
  makeBaseContext(ctx);
  await dockerOk(['build', '-q', '-t', 'tsinit-test', ctx], { host, timeoutMs: 300_000 });
  for (const suite of suites) {
    await dockerOk(['build', '-q', '--build-arg', `BASE=tsinit-debian-${suite}`, '-t', `tsinit-test-${suite}`, ctx], {
      host,
      timeoutMs: 300_000,
    });
  }
}

/** docker/servers/NAME.Dockerfile on each release, as tsinit-servers-NAME-SUITE. */
async function buildServers(host: string): Promise<void> {
  const names = readdirSync(resolve(ROOT, 'docker/servers'))
    .filter((f) => f.endsWith('.Dockerfile'))
    .map((f) => f.slice(0, -'.Dockerfile'.length));
  for (const suite of SUITES) {
    await Promise.all(
      names.map((n) =>
        dockerOk(
          [
            'build',
            '-q',
            '--build-arg',
            `BASE=tsinit-test-${suite}`,
            '-t',
            `tsinit-servers-${n}-${suite}`,
            '-f',
            resolve(ROOT, `docker/servers/${n}.Dockerfile`),
            resolve(ROOT, 'docker/servers'),
          ],
          { host, timeoutMs: 300_000 },
        ),
      ),
    );
  }
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
  const names = readdirSync(resolve(ROOT, 'docker/images'))
    .filter((f) => f.endsWith('.Dockerfile'))
    .map((f) => f.slice(0, -'.Dockerfile'.length));
  await Promise.all(
    names.map((n) =>
      dockerOk(['build', '-q', '-t', `tsinit-img-${n}`, '-f', resolve(ROOT, `docker/images/${n}.Dockerfile`), ctx], {
        host,
        timeoutMs: 300_000,
      }),
    ),
  );
}

export async function setup(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('the docker suite needs root: docker/engine.sh installs docker.io and runs dockerd');
  // Rebuilt when src/ is newer, as test/release does: the images must carry what the sources say.
  if (!isUpToDate(TSINIT)) {
    timed('npm run build', () =>
      execFileSync(resolve(ROOT, 'node_modules/.bin/node'), ['build.mjs'], { cwd: ROOT, stdio: 'inherit' }),
    );
  }
  // stdio inherited: a failing apt-get or dockerd shows its own words in the run's output.
  timed('engine.sh up-init', () =>
    execFileSync(resolve(ROOT, 'docker/engine.sh'), ['up-init'], { stdio: 'inherit', timeout: 900_000 }),
  );
  await timedAsync('tsinit-test images', () => Promise.all([buildBase(HOST, SUITES), buildBase(INIT_HOST)]));
  await timedAsync('case images', async () => {
    await buildAll(dockerEngine(HOST), 'matrix');
    // `docker run --init` cases use the images without an init of their own.
    await buildAll(dockerEngine(INIT_HOST), 'matrix', (n) => n.endsWith('-none'));
    await buildServers(HOST);
    await buildImages(HOST);
  });
  rmSync(resolve(STATE_DIR, 'results'), { recursive: true, force: true });
  console.log(`docker suite set-up (s): ${JSON.stringify(timings)}`);
}

export function teardown(): void {
  if (process.env.WRITE_RESULTS !== '1') return;
  writeFileSync(
    resolve(ROOT, 'docker/RESULTS.md'),
    renderTables(
      [
        '# Docker results',
        '',
        `Generated by \`WRITE_RESULTS=1 npm run test:docker\` (test/docker/) on ${new Date().toISOString().slice(0, 10)}:`,
        `a real dockerd ${dockerVersion()} (docker/engine.sh), \`docker stop\` with Docker's default 10 s timeout,`,
        'stop time = wall time of the `docker stop` command. Machine: 2 cores, shared with other work,',
        'so the times carry some load noise. Set-up of this run (s): ' +
          Object.entries(timings)
            .map(([k, v]) => `${k} ${v.toFixed(1)}`)
            .join(', ') +
          '.',
        '',
      ],
      collectRows(resolve(STATE_DIR, 'results')),
    ),
  );
}

function dockerVersion(): string {
  try {
    return execFileSync('/usr/bin/docker', ['version', '-f', '{{.Server.Version}}'], {
      env: { ...process.env, DOCKER_HOST: HOST },
      encoding: 'utf8',
    }).trim();
  } catch {
    return '(version unknown)';
  }
}
