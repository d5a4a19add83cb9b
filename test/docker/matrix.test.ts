// The matrix users actually write (docker/matrix/*.Dockerfile): application (sleep without a
// handler, app.py that traps TERM and needs ~1 s) × form (exec, shell, entrypoint script with
// exec "$@") × init (none, tsinit, Debian's tini, `docker run --init` with --init-path=tsinit).
// Each case: start, wait until the app runs, `docker stop` (default 10 s timeout), then assert
// the stop time, the exit code and how far the app's TERM handler got. The cases without an
// init that wait out Docker's 10 s start first and run alongside the others.
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Container,
  DOCKER_SLACK_S,
  HOST,
  INIT_HOST,
  ROOT,
  removeAll,
  saveRows,
  stopAndObserve,
  type MatrixCase,
  type Row,
  type StopOutcome,
} from './docker.ts';
import { expectMatrixOutcome, matrixCells } from './matrix.ts';

type Init = 'none' | 'tsinit' | 'tini' | '--init';
type Case = MatrixCase<Init>;

// prettier-ignore
const CASES: Case[] = [
  // No init: PID 1 is whatever the form makes it, and the kernel drops signals PID 1 has no handler for.
  { app: 'sleep', form: 'exec',       init: 'none',   pid1: /^sleep 1000/,             stop: 'timeout', exit: 137, handler: 'no handler', why: 'sleep is PID 1 without a handler: TERM is dropped, SIGKILL after 10 s' },
  { app: 'sleep', form: 'shell',      init: 'none',   pid1: /^\/bin\/sh -c sleep 1000/, stop: 'timeout', exit: 137, handler: 'no handler', why: 'dash is PID 1 and ignores TERM there; sleep never sees it' },
  { app: 'sleep', form: 'entrypoint', init: 'none',   pid1: /^sleep 1000/,             stop: 'timeout', exit: 137, handler: 'no handler', why: 'exec "$@" makes sleep PID 1: same as exec form' },
  { app: 'app',   form: 'exec',       init: 'none',   pid1: /^\/usr\/bin\/python3 \/app\.py/, stop: 'app', exit: 0, handler: 'finished', why: 'the app is PID 1 and has a handler: the one case that works without an init' },
  { app: 'app',   form: 'shell',      init: 'none',   pid1: /^\/bin\/sh -c \/app\.py/, stop: 'timeout', exit: 137, handler: 'never ran', why: 'dash is PID 1, does not pass TERM on; the app is SIGKILLed after 10 s' },
  { app: 'app',   form: 'entrypoint', init: 'none',   pid1: /^\/usr\/bin\/python3 \/app\.py/, stop: 'app', exit: 0, handler: 'finished', why: 'exec "$@" makes the app PID 1' },
  // tsinit as ENTRYPOINT: the exit code is always the main child's.
  { app: 'sleep', form: 'exec',       init: 'tsinit', pid1: /^\/tsinit -- sleep 1000/, stop: 'fast', exit: 143, handler: 'no handler', why: 'sleep dies of the forwarded TERM: 128+15' },
  { app: 'sleep', form: 'shell',      init: 'tsinit', pid1: /^\/tsinit -- \/bin\/sh -c sleep 1000/, stop: 'fast', exit: 143, handler: 'no handler', why: 'the group gets TERM: dash and sleep both die of it; the code is dash\'s' },
  { app: 'sleep', form: 'entrypoint', init: 'tsinit', pid1: /^\/tsinit -- \/entrypoint\.sh sleep 1000/, stop: 'fast', exit: 143, handler: 'no handler', why: 'the script exec\'d sleep, which dies of TERM' },
  { app: 'app',   form: 'exec',       init: 'tsinit', pid1: /^\/tsinit -- \/app\.py/, stop: 'app', exit: 0, handler: 'finished', why: 'the app handles TERM and exits 0' },
  { app: 'app',   form: 'shell',      init: 'tsinit', pid1: /^\/tsinit -- \/bin\/sh -c \/app\.py/, stop: 'app', exit: 143, handler: 'finished', why: 'dash dies of TERM at once (143); the drain waits for the group, so the clean-up child the handler starts runs its full second' },
  { app: 'app',   form: 'entrypoint', init: 'tsinit', pid1: /^\/tsinit -- \/entrypoint\.sh \/app\.py/, stop: 'app', exit: 0, handler: 'finished', why: 'the script exec\'d the app' },
  // Debian's tini, for comparison: it signals the child only and exits as soon as the child does.
  { app: 'sleep', form: 'exec',       init: 'tini',   pid1: /^\/usr\/bin\/tini-static -- sleep 1000/, stop: 'fast', exit: 143, handler: 'no handler', why: 'as tsinit' },
  { app: 'sleep', form: 'shell',      init: 'tini',   pid1: /^\/usr\/bin\/tini-static -- \/bin\/sh -c sleep 1000/, stop: 'fast', exit: 143, handler: 'no handler', why: 'dash dies of TERM, tini exits, the kernel SIGKILLs sleep' },
  { app: 'sleep', form: 'entrypoint', init: 'tini',   pid1: /^\/usr\/bin\/tini-static -- \/entrypoint\.sh sleep 1000/, stop: 'fast', exit: 143, handler: 'no handler', why: 'as tsinit' },
  { app: 'app',   form: 'exec',       init: 'tini',   pid1: /^\/usr\/bin\/tini-static -- \/app\.py/, stop: 'app', exit: 0, handler: 'finished', why: 'as tsinit' },
  { app: 'app',   form: 'shell',      init: 'tini',   pid1: /^\/usr\/bin\/tini-static -- \/bin\/sh -c \/app\.py/, stop: 'fast', exit: 143, handler: 'never ran', why: 'only dash gets TERM; when it dies tini exits and the kernel SIGKILLs the app' },
  { app: 'app',   form: 'entrypoint', init: 'tini',   pid1: /^\/usr\/bin\/tini-static -- \/entrypoint\.sh \/app\.py/, stop: 'app', exit: 0, handler: 'finished', why: 'as tsinit' },
  // `docker run --init` on a daemon started with --init-path=tsinit: the images without an init.
  { app: 'sleep', form: 'exec',       init: '--init', pid1: /^\/sbin\/docker-init -- sleep 1000/, stop: 'fast', exit: 143, handler: 'no handler', why: 'tsinit is PID 1 as /sbin/docker-init' },
  { app: 'sleep', form: 'shell',      init: '--init', pid1: /^\/sbin\/docker-init -- \/bin\/sh -c sleep 1000/, stop: 'fast', exit: 143, handler: 'no handler', why: 'as ENTRYPOINT tsinit' },
  { app: 'sleep', form: 'entrypoint', init: '--init', pid1: /^\/sbin\/docker-init -- \/entrypoint\.sh sleep 1000/, stop: 'fast', exit: 143, handler: 'no handler', why: 'as ENTRYPOINT tsinit' },
  { app: 'app',   form: 'exec',       init: '--init', pid1: /^\/sbin\/docker-init -- \/app\.py/, stop: 'app', exit: 0, handler: 'finished', why: 'as ENTRYPOINT tsinit' },
  { app: 'app',   form: 'shell',      init: '--init', pid1: /^\/sbin\/docker-init -- \/bin\/sh -c \/app\.py/, stop: 'app', exit: 143, handler: 'finished', why: 'as ENTRYPOINT tsinit: group TERM, then the drain' },
  { app: 'app',   form: 'entrypoint', init: '--init', pid1: /^\/sbin\/docker-init -- \/entrypoint\.sh \/app\.py/, stop: 'app', exit: 0, handler: 'finished', why: 'as ENTRYPOINT tsinit' },
];

const label = (c: Case) => `${c.app} | ${c.form} | ${c.init}`;

function runCase(c: Case): Promise<StopOutcome> {
  const viaInitFlag = c.init === '--init';
  const image = `tsinit-matrix-${c.app}-${c.form}-${viaInitFlag ? 'none' : c.init}`;
  return Container.run(image, viaInitFlag ? { host: INIT_HOST, runArgs: ['--init'] } : { host: HOST }).then((ct) =>
    stopAndObserve(ct, c.app),
  );
}

const rows = new Map<string, Row>();
const pending = new Map<Case, Promise<StopOutcome>>();

describe('docker stop across the matrix', () => {
  beforeAll(() => {
    // The 10 s cases start at once and run beside the fast ones, so they cost 10 s in all.
    for (const c of CASES.filter((k) => k.stop === 'timeout')) {
      const p = runCase(c);
      p.catch(() => {
        /* reported by its own test */
      });
      pending.set(c, p);
    }
  });

  afterAll(async () => {
    await removeAll();
    saveRows(
      '1-matrix',
      CASES.filter((c) => rows.has(label(c))).map((c) => rows.get(label(c))!),
    );
  });

  it('has a Dockerfile for every case without --init, and a case for every Dockerfile', () => {
    const files = readdirSync(resolve(ROOT, 'docker/matrix'))
      .filter((f) => f.endsWith('.Dockerfile'))
      .sort();
    const named = CASES.filter((c) => c.init !== '--init')
      .map((c) => `${c.app}-${c.form}-${c.init}.Dockerfile`)
      .sort();
    expect(files).toEqual(named);
  });

  // Fast cases first (in order), then the 10 s ones, which have been running meanwhile.
  const ordered = [...CASES.filter((c) => c.stop !== 'timeout'), ...CASES.filter((c) => c.stop === 'timeout')];
  it.each(ordered.map((c) => [label(c), c] as const))('%s', async (_, c) => {
    const o = await (pending.get(c) ?? runCase(c));
    const init =
      c.init === 'none'
        ? 'none'
        : c.init === 'tini'
          ? 'tini (Debian, static)'
          : c.init === '--init'
            ? '`docker run --init` (tsinit)'
            : 'tsinit';
    rows.set(label(c), { table: 'docker stop: form × init', cells: matrixCells(c, o, init) });
    // `docker stop` is a round trip through the client, dockerd, containerd and runc: 0.1-0.2 s
    // on a quiet host, up to 1.5 s on this 2-core VM when it is slow at creating processes.
    expectMatrixOutcome(c, o, label(c), DOCKER_SLACK_S);
  });
});
