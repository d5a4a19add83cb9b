// What the hardening suite needs beyond test/helpers: a private copy of the built tsinit (a
// rebuild while the suite runs, which takes minutes, must neither swap the binary under a
// running test nor fail with ETXTBSY because a test runs it), its fixtures, a seeded PRNG,
// the figures it records, and polling with the longer deadline its floods call for.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { FIXTURES, ROOT, TSINIT } from '../helpers/pid1.ts';
import { SLOW_WAIT_MS, statusKb, untilWithin } from '../helpers/proc.ts';

export const HARDENING_FIXTURES = resolve(ROOT, 'test/fixtures/hardening');

export function hfixture(name: string): string {
  return join(HARDENING_FIXTURES, name);
}

/** A C fixture of test/fixtures/hardening built static with musl (warnings are errors) into dir, named without .c; its path. */
export function buildFixture(name: string, dir: string): string {
  const out = join(dir, basename(name, '.c'));
  execFileSync('musl-gcc', ['-static', '-O2', '-Wall', '-Werror', '-o', out, hfixture(name)]);
  return out;
}

export interface PrivateInit {
  /** The private copy of tsinit (world-readable and executable: uid 65534 runs it too). */
  readonly bin: string;
  /** A private scratch directory, mode 0755, removed after the file's tests. */
  readonly dir: string;
}

/**
 * A copy of a fixture in the private directory, for tests that run as uid 65534: the
 * checkout itself may sit below a directory only root can enter (a CI clone in mktemp -d).
 * The module the Python fixtures import (test/fixtures/eof.py) is copied beside it.
 */
export function fixtureFor65534(init: PrivateInit, path: string): string {
  for (const file of [path, join(FIXTURES, 'eof.py')]) {
    copyFileSync(file, join(init.dir, basename(file)));
    chmodSync(join(init.dir, basename(file)), 0o755);
  }
  return join(init.dir, basename(path));
}

/**
 * Copies the built tsinit into a private directory before the file's tests and removes it
 * after. A rebuild overwrites dist/tsinit in place, so a copy taken mid-write is caught by
 * running `--version` on it and taken again.
 */
export function usePrivateInit(): PrivateInit {
  const state = { bin: '', dir: '' };
  beforeAll(async () => {
    state.dir = mkdtempSync(join(tmpdir(), 'tsinit-hardening-'));
    chmodSync(state.dir, 0o755);
    state.bin = join(state.dir, 'tsinit');
    for (let attempt = 1; ; attempt++) {
      try {
        copyFileSync(TSINIT, state.bin);
        chmodSync(state.bin, 0o755);
        if (execFileSync(state.bin, ['--version'], { timeout: 10_000 }).toString().startsWith('tsinit version '))
          return;
      } catch (e) {
        if (attempt >= 10) throw new Error(`cannot take a working copy of ${TSINIT}: ${String(e)}`, { cause: e });
      }
      await sleep(1000);
    }
  });
  afterAll(() => {
    if (state.dir !== '') rmSync(state.dir, { recursive: true, force: true });
  });
  return {
    get bin() {
      return state.bin;
    },
    get dir() {
      return state.dir;
    },
  };
}

/** A plain delay, for pacing a flood or a watch window; never to wait for an event. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** until() with the deadline of a suite whose own floods and bombs load the machine. */
export const until = untilWithin(SLOW_WAIT_MS);

/** Seeded PRNG (mulberry32): floods and shuffles are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records one measured figure; the suite prints them all at the end for the report table. */
export function record(name: string, figure: string): void {
  process.stdout.write(`[hardening] ${name}: ${figure}\n`);
}

/**
 * VmRSS of pid once it is at rest: two samples a second apart within 128 kB. tsinit hands
 * its start-up pages back about half a second after the spawn; measuring before that would
 * compare a busy start-up with an idle init.
 */
export async function restingRssKb(pid: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = statusKb(pid, 'VmRSS');
  for (;;) {
    await sleep(1000);
    const now = statusKb(pid, 'VmRSS');
    if (Math.abs(now - last) <= 128) return now;
    if (Date.now() > deadline) throw new Error(`RSS of ${pid} never settled (last ${last} kB, now ${now} kB)`);
    last = now;
  }
}
