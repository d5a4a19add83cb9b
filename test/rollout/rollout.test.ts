// Zero failed requests through a rolling restart: every case of test/rollout/driver.ts run on
// the real engine behind HAProxy under the same load and the same termination sequence. With
// tsinit --term-delay above P, or the kubelet's native preStop.sleep (the driver waits, then
// SIGTERM), no request fails, in exec and shell form; without a delay the
// requests routed to a replica that already stopped listening fail, and the test asserts that
// they do (the window is real, not hidden by retries). CI runs a subset once each;
// ROLLOUT_FULL=1 runs every case ROLLOUT_RUNS (3) times and writes docker/ROLLOUT.md,
// docker/rollout.json and docker/rollout.svg (elsewhere they go to the state folder).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST, ROOT, STATE_DIR } from '../docker/docker.ts';
import {
  DEFAULT_TIMINGS,
  IMAGE_RELEASE,
  initLabel,
  runRollout,
  summarize,
  type Case,
  type Form,
  type Init,
  type RunResult,
  type Server,
} from './driver.ts';
import { writeReport, type Row } from './report.ts';

const FULL = process.env.ROLLOUT_FULL === '1';
const RUNS = Number(process.env.ROLLOUT_RUNS ?? (FULL ? 3 : 1));
// Each run is a handful of Python processes, HAProxy and the load, on 2 cores. CI runs one at a
// time: a run starved by its neighbour times requests out, which is the machine, not the window.
// The full variant runs two at a time to fit in under an hour (its runs are interleaved, below).
const CONCURRENCY = Number(process.env.ROLLOUT_CONCURRENCY ?? (FULL ? 2 : 1));
const T = DEFAULT_TIMINGS;

/**
 * What each case must show in every run.
 * - zero: no request fails, every slow request completes.
 * - window: requests fail: the replica stopped accepting while HAProxy still sent it requests
 *   (before P). Uvicorn closes its socket: 503 refused. Gunicorn's master may still hold the
 *   listening socket after its workers stopped accepting: connections queue unanswered and are
 *   reset when it closes (502 reset), so the kind is not asserted, only that requests fail.
 * - killed: the app never sees SIGTERM (dash as PID 1 ignores it): each old replica runs on
 *   until SIGKILL at G, exit 137; nothing is routed to it by then, so nothing fails.
 * - no-refusal: SIGTERM comes after P (preStop), so no refusal; but tini exits when dash dies
 *   and the kernel kills the app, so a slow request still in flight on it may be lost.
 */
type Expect = 'zero' | 'window' | 'killed' | 'no-refusal';
function expectation(c: Case): Expect {
  switch (c.init) {
    case 'tsinit-delay':
      return 'zero';
    case 'prestop':
      return c.form === 'exec' ? 'zero' : 'no-refusal';
    // The kubelet waits, then SIGTERM: the same hold as --term-delay, from outside the image.
    case 'prestop-sleep':
      return 'zero';
    case 'none':
      return c.form === 'exec' ? 'window' : 'killed';
    case 'tini':
    case 'tsinit':
      return 'window';
  }
}

const SERVERS: Server[] = ['uvicorn', 'gunicorn'];
const FORMS: Form[] = ['exec', 'shell'];
const INITS: Init[] = ['none', 'tini', 'tsinit', 'tsinit-delay', 'prestop', 'prestop-sleep'];
const ALL: Case[] = SERVERS.flatMap((server) => FORMS.flatMap((form) => INITS.map((init) => ({ server, form, init }))));
// CI: the claim (tsinit --term-delay, both servers, both forms), the kubelet's native
// preStop.sleep beside it, and tsinit's own default (the window), once each, one at a time;
// about 9 minutes on 2 cores.
const CASES = FULL
  ? ALL
  : ALL.filter((c) => c.init === 'tsinit-delay' || c.init === 'tsinit' || c.init === 'prestop-sleep');

const name = (c: Case) => `${c.server} | ${c.form} | ${initLabel(c)}`;
const results = new Map<Case, (RunResult | Error)[]>();
const runLog: string[] = [];
const t0 = performance.now();

/** Runs fn over items, at most n at a time. */
async function eachLimited<T>(items: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let x = queue.shift(); x !== undefined; x = queue.shift()) await fn(x);
    }),
  );
}

beforeAll(async () => {
  mkdirSync(resolve(STATE_DIR, 'rollout'), { recursive: true });
  // Runs interleaved (every case's first run, then every second run, …): load noise from the
  // shared machine spreads over the cases instead of landing on one.
  const jobs = Array.from({ length: RUNS }, () => CASES).flat();
  await eachLimited(jobs, CONCURRENCY, async (c) => {
    const r = await runRollout(c, T).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    results.set(c, [...(results.get(c) ?? []), r]);
    const line =
      r instanceof Error
        ? `error: ${r.message.split('\n')[0]}`
        : (({ requests, failed, kinds, slowDone, slowAll }) =>
            `${failed}/${requests} failed ${JSON.stringify(kinds)}, slow ${slowDone}/${slowAll}`)(
            summarize(r.outcomes),
          );
    runLog.push(`${name(c)}: ${line}`);
    console.log(`rollout: ${name(c)}: ${line}`);
    // After every run, so a long full run that is cut short still leaves what it measured.
    report();
  });
}, 3 * 3600_000);

afterAll(() => {
  const dir = report();
  console.log(`rollout: wrote ROLLOUT.md, rollout.json, rollout.svg in ${dir}`);
});

/** Writes the rows of every run so far; returns the folder. */
function report(): string {
  const rows: Row[] = CASES.flatMap((c) => {
    const runs = (results.get(c) ?? []).filter((r): r is RunResult => !(r instanceof Error));
    if (runs.length === 0) return [];
    const all = summarize(runs.flatMap((r) => r.outcomes));
    return [
      {
        server: c.server === 'uvicorn' ? 'Uvicorn' : 'Gunicorn (UvicornWorker)',
        form: c.form,
        init: initLabel(c),
        runs: runs.length,
        requests: all.requests,
        failed: all.failed,
        failedPerRun: runs.map((r) => summarize(r.outcomes).failed),
        kinds: all.kinds,
        p99Ms: all.p99Ms,
        slowDone: all.slowDone,
        slowAll: all.slowAll,
        oldEnded: runs.flatMap((r) =>
          r.terminations.map(
            (x) =>
              `${x.exit} @ ${x.exitedAtS.toFixed(1)}${x.appStopAtS === null ? '' : ` (stopping @ ${x.appStopAtS.toFixed(1)})`}`,
          ),
        ),
      },
    ];
  });
  const engine = (() => {
    try {
      return execFileSync('/usr/bin/docker', ['version', '-f', '{{.Server.Version}}'], {
        env: { ...process.env, DOCKER_HOST: HOST },
        encoding: 'utf8',
      }).trim();
    } catch {
      return '(version unknown)';
    }
  })();
  const write = FULL || process.env.WRITE_RESULTS === '1';
  const dir = write ? resolve(ROOT, 'docker') : resolve(STATE_DIR, 'rollout');
  writeReport(
    {
      generated: new Date().toISOString(),
      variant: FULL ? 'full' : 'ci',
      engine,
      image: IMAGE_RELEASE,
      timings: { ...T },
      durationS: (performance.now() - t0) / 1000,
      rows,
      runLog,
    },
    dir,
  );
  return dir;
}

describe(`rolling restart of 2 replicas behind HAProxy (P ${T.propagationMs / 1000} s, G ${T.graceS} s, ${RUNS} run(s) per case)`, () => {
  it.each(CASES.map((c) => [name(c), c] as const))('%s', (label, c) => {
    const runs = results.get(c) ?? [];
    expect(runs).toHaveLength(RUNS);
    const want = expectation(c);
    for (const r of runs) {
      if (r instanceof Error) throw r;
      const s = summarize(r.outcomes);
      const detail = `${label} (${want}): ${s.failed}/${s.requests} failed ${JSON.stringify(s.kinds)}, slow ${s.slowDone}/${s.slowAll}, old replicas ${JSON.stringify(r.terminations)}\n${Object.entries(
        r.logs,
      )
        .map(([n, l]) => `--- ${n}\n${l.slice(-3000)}`)
        .join('\n')}`;
      // Every run did the same thing: both old replicas deleted, taken out of rotation at P.
      expect(r.terminations, detail).toHaveLength(2);
      // Node's timers run on libuv's whole-millisecond clock and may fire up to 1 ms early by
      // performance.now(): a removal at 1.99993 s was seen. 5 ms of slack, not a window.
      for (const x of r.terminations)
        expect(x.removedAtS, detail).toBeGreaterThanOrEqual(T.propagationMs / 1000 - 0.005);
      expect(s.requests, detail).toBeGreaterThan((T.load.rate * (T.leadInMs + T.tailMs)) / 1000);
      switch (want) {
        case 'zero':
          expect(s.failed, detail).toBe(0);
          expect(s.slowDone, detail).toBe(s.slowAll);
          // The delay really held SIGTERM: the app ended only after the endpoint was gone.
          for (const x of r.terminations) expect(x.exitedAtS, detail).toBeGreaterThan(T.propagationMs / 1000);
          // The kubelet's sleep came first: SIGTERM only after it.
          if (c.init === 'prestop-sleep')
            for (const x of r.terminations) expect(x.termAtS, detail).toBeGreaterThanOrEqual(T.preStopS - 0.005);
          break;
        case 'window':
          // The premise: an app stopped accepting while HAProxy still routed to it (before P).
          // On a starved machine the SIGTERM can reach the app only after P, which is a term
          // delay by accident: such a run measures nothing, and says so instead of passing.
          // An app killed without logging (tini exiting in shell form) stopped when its container did.
          if (!r.terminations.some((x) => (x.appStopAtS ?? x.exitedAtS) < T.propagationMs / 1000)) {
            throw new Error(
              `no app began shutting down before P (${T.propagationMs} ms): SIGTERM came late (the machine is overloaded?), the window was not measured\n${detail}`,
            );
          }
          expect(s.failed, detail).toBeGreaterThan(0);
          // Not only time-outs: those would say the machine starved the run, not the window.
          expect(s.failed - (s.kinds['time-out'] ?? 0), detail).toBeGreaterThan(0);
          break;
        case 'killed':
          for (const x of r.terminations) {
            expect(x.exit, detail).toBe(137);
            expect(x.exitedAtS, detail).toBeGreaterThan(T.graceS - 1);
          }
          expect(s.failed, detail).toBe(0);
          break;
        case 'no-refusal':
          expect(s.kinds['503 refused'] ?? 0, detail).toBe(0);
          for (const x of r.terminations) expect(x.exitedAtS, detail).toBeGreaterThan(T.preStopS);
          break;
      }
    }
  });
});
