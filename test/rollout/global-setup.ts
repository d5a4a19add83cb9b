// Before the rollout suite: dist/tsinit built, the shared engine up (docker/engine.sh up),
// Debian's HAProxy installed, and the image tsinit-rollout built from docker/Dockerfile.base on
// the forky image (today's Gunicorn and Uvicorn) with a context of this suite's own (the tsinit executable and docker/apps), so a docker-suite
// run of another checkout rebuilding tsinit-test at the same time cannot change what runs here.
// A missing prerequisite fails the run.
import { execFileSync } from 'node:child_process';
import { cpSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { HOST, ROOT, STATE_DIR, dockerOk } from '../docker/docker.ts';
import { isUpToDate } from '../helpers/build.ts';
import { IMAGE, IMAGE_BASE } from './driver.ts';
import { ensureHaproxy } from './haproxy.ts';

/** Builds IMAGE from docker/Dockerfile.base with TSINIT_BIN (default dist/tsinit) as /tsinit. */
export async function buildImage(): Promise<void> {
  const tsinit = process.env.TSINIT_BIN ?? resolve(ROOT, 'dist/tsinit');
  const ctx = resolve(STATE_DIR, `rollout-ctx-${process.pid}`);
  rmSync(ctx, { recursive: true, force: true });
  mkdirSync(ctx, { recursive: true });
  try {
    // A hard link keeps the executable from being copied; /tmp may be another filesystem.
    try {
      linkSync(tsinit, resolve(ctx, 'tsinit'));
    } catch {
      cpSync(tsinit, resolve(ctx, 'tsinit'));
    }
    cpSync(resolve(ROOT, 'docker/apps'), ctx, { recursive: true });
    cpSync(resolve(ROOT, 'docker/Dockerfile.base'), resolve(ctx, 'Dockerfile'));
    await dockerOk(['build', '-q', '--build-arg', `BASE=${IMAGE_BASE}`, '-t', IMAGE, ctx], {
      host: HOST,
      timeoutMs: 300_000,
    });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

export async function setup(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('the rollout suite needs root: it installs haproxy and docker.io and runs dockerd');
  // Rebuilt when src/ is newer, as test/release does: the image must carry what the sources say.
  if (!isUpToDate(resolve(ROOT, 'dist/tsinit'))) {
    execFileSync(resolve(ROOT, 'node_modules/.bin/node'), ['build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  }
  execFileSync(resolve(ROOT, 'docker/engine.sh'), ['up'], { stdio: 'inherit', timeout: 900_000 });
  ensureHaproxy();
  await buildImage();
}
