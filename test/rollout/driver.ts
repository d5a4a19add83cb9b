// The rollout driver: two replicas of the FastAPI app (docker/apps/app) behind HAProxy on the
// real engine (docker/engine.sh), replaced one after the other the way a Deployment with
// maxSurge 1 / maxUnavailable 0 does, each old one ended by Kubernetes' termination sequence
// with its timings as parameters, while runLoad() measures every request. It owns the
// containers and the HAProxy it starts and removes them; it never touches the engine itself.
//
//   node test/rollout/driver.ts SERVER FORM INIT [RUNS]    e.g. uvicorn exec tsinit-delay 3
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { Agent, get } from 'node:http';
import { resolve } from 'node:path';
import { Container, sleep, STATE_DIR } from '../docker/docker.ts';
import { Haproxy } from './haproxy.ts';
import { failed, startLoad, type Outcome } from './load.ts';

/** The image: docker/Dockerfile.base on forky's (Debian testing: gunicorn 26.2, uvicorn 0.53,
 * today's servers) + the tsinit of the context + the apps. */
export const IMAGE = 'tsinit-rollout';
export const IMAGE_BASE = 'tsinit-debian-forky';
/** What the report says the image is (the docker suite asserts these versions in it). */
export const IMAGE_RELEASE = 'Debian forky (testing), gunicorn 26.2, uvicorn 0.53, python 3.14';

export type Server = 'uvicorn' | 'gunicorn';
export type Form = 'exec' | 'shell';
/** tsinit-delay: tsinit --term-delay; prestop: tini plus the classic exec hook `preStop: sleep`
 * (a `sleep` binary in the image); prestop-sleep: tsinit plus the kubelet's own
 * `lifecycle.preStop.sleep` (KEP-3960: the kubelet waits, then sends SIGTERM; nothing runs in
 * the container). */
export type Init = 'none' | 'tini' | 'tsinit' | 'tsinit-delay' | 'prestop' | 'prestop-sleep';
export interface Case {
  server: Server;
  form: Form;
  init: Init;
}

export interface Timings {
  /** P: endpoint removal reaches the load balancer this long after the pod's deletion. */
  propagationMs: number;
  /** G: terminationGracePeriodSeconds, counted from the deletion (preStop included). */
  graceS: number;
  /** tsinit --term-delay (just above P). */
  termDelayS: number;
  /** The preStop hook's `sleep N` (exec hook), or the kubelet's preStop.sleep.seconds. */
  preStopS: number;
  /** Gunicorn's --graceful-timeout. */
  gunicornGracefulS: number;
  load: { rate: number; connections: number; maxDurationMs: number; slowEveryMs: number; timeoutMs: number };
  /** Load before the first old replica is deleted. */
  leadInMs: number;
  /** Load after the last old replica is deleted: past P, the term delay or preStop, and a slow
   * request then in flight; the same for every case. */
  tailMs: number;
}

export const DEFAULT_TIMINGS: Timings = {
  propagationMs: 2000,
  graceS: 30,
  termDelayS: 3,
  preStopS: 3,
  gunicornGracefulS: 20,
  load: { rate: 50, connections: 8, maxDurationMs: 180_000, slowEveryMs: 1000, timeoutMs: 15_000 },
  leadInMs: 2000,
  tailMs: 8000,
};

/** What the init column of the tables says for a case. */
export function initLabel(c: Case, t: Timings = DEFAULT_TIMINGS): string {
  switch (c.init) {
    case 'none':
      return 'none';
    case 'tini':
      return 'tini';
    case 'tsinit':
      return `tsinit${tsinitFlags(c, t)
        .filter((f) => f === '-c')
        .map((f) => ` ${f}`)
        .join('')}`;
    case 'tsinit-delay':
      return `tsinit ${tsinitFlags(c, t).join(' ')}`;
    case 'prestop':
      return `tini + preStop sleep ${t.preStopS}`;
    case 'prestop-sleep':
      return `tsinit${tsinitFlags(c, t)
        .map((f) => ` ${f}`)
        .join('')} + kubelet preStop.sleep ${t.preStopS}`;
  }
}

/** Gunicorn in exec form takes -c (signals to the master, which manages its workers: the
 * README's advice); in shell form the group default reaches the app behind dash. */
function tsinitFlags(c: Case, t: Timings): string[] {
  return [
    ...(c.server === 'gunicorn' && c.form === 'exec' ? ['-c'] : []),
    ...(c.init === 'tsinit-delay' ? ['--term-delay', `${t.termDelayS}s`] : []),
  ];
}

/** The `docker run` arguments and command of one replica listening on 127.0.0.1:port. */
export function replicaSpec(c: Case, port: number, t: Timings = DEFAULT_TIMINGS): { runArgs: string[]; cmd: string[] } {
  const line =
    c.server === 'uvicorn'
      ? `uvicorn app.main:app --host 127.0.0.1 --port ${port}`
      : `gunicorn app.main:app --workers 2 --worker-class uvicorn.workers.UvicornWorker --graceful-timeout ${t.gunicornGracefulS} --bind 127.0.0.1:${port}`;
  const app = c.form === 'exec' ? line.split(' ') : ['/bin/sh', '-c', line];
  const runArgs = ['--network', 'host'];
  switch (c.init) {
    case 'none':
      return { runArgs, cmd: app };
    case 'tini':
    case 'prestop':
      return { runArgs: [...runArgs, '--entrypoint', '/usr/bin/tini'], cmd: ['--', ...app] };
    case 'tsinit':
    case 'tsinit-delay':
    case 'prestop-sleep':
      return { runArgs: [...runArgs, '--entrypoint', '/tsinit'], cmd: [...tsinitFlags(c, t), '--', ...app] };
  }
}

/** A free loopback port (bound, then released: the replica or HAProxy takes it right after). */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });
}

/** Readiness: polls GET /pid on the replica itself until it answers 200 (like a readinessProbe).
 * Generous: Gunicorn took over 60 s to boot 2 workers on 2 cores shared with other suites. */
async function waitReady(port: number, timeoutMs = 180_000): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const req = get({ host: '127.0.0.1', port, path: '/pid', agent, timeout: 1000 }, (res) => {
        res.resume();
        res.on('end', () => r(res.statusCode === 200));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`replica on port ${port} not ready after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** How one old replica ended, times from its deletion (t=0). */
export interface Termination {
  name: string;
  /** When HAProxy took it out of rotation. */
  removedAtS: number;
  /** When it got SIGTERM (after the preStop hook, if any). */
  termAtS: number;
  /** When the app logged that it began shutting down (Uvicorn "Shutting down", Gunicorn's master
   * "Handling signal: term"), by Docker's log timestamps; null when it never did (no SIGTERM
   * reached it, or it was killed first). On a loaded machine this lags the SIGTERM by seconds. */
  appStopAtS: number | null;
  /** When the container had exited. */
  exitedAtS: number;
  exit: number;
  /** SIGKILLed at the grace period (still running at G). */
  killed: boolean;
}

export interface RunResult {
  case: Case;
  outcomes: Outcome[];
  terminations: Termination[];
  /** When each old replica was deleted, in ms after the load began. */
  deletedAtMs: number[];
  logs: Record<string, string>;
}

/**
 * Kubernetes' termination of one pod, from its deletion (t=0): the endpoint removal reaches the
 * load balancer at P, while the kubelet runs preStop (if any) and then sends SIGTERM, and
 * SIGKILL at G counted from t=0 (at least 2 s after preStop, as the kubelet grants).
 * `docker stop -t N` is the kubelet's StopContainer: the stop signal, then SIGKILL after N s.
 */
async function terminate(h: Haproxy, name: string, ct: Container, c: Case, t: Timings): Promise<Termination> {
  const t0 = performance.now();
  const wall0 = Date.now();
  const s = () => (performance.now() - t0) / 1000;
  let removedAtS = NaN;
  const removal = sleep(t.propagationMs)
    .then(() => h.setState(name, 'maint'))
    .then(() => {
      removedAtS = s();
    });
  // The exec hook runs `sleep` in the container; the kubelet's native sleep only waits.
  if (c.init === 'prestop') await ct.exec(['sleep', String(t.preStopS)]);
  if (c.init === 'prestop-sleep') await sleep(t.preStopS * 1000);
  const termAtS = s();
  const left = Math.max(2, Math.round(t.graceS - termAtS));
  const stop = await ct.engine.cli(['stop', '-t', String(left), ct.id], { timeoutMs: (left + 30) * 1000 });
  if (stop.code !== 0) throw new Error(`docker stop ${ct.name}: ${stop.stderr}`);
  const exitedAtS = s();
  await removal;
  const { ExitCode } = await ct.state();
  const logs = await ct.engine.cli(['logs', '-t', ct.id]);
  const line = (logs.stdout + logs.stderr)
    .split('\n')
    .filter((l) => /Shutting down|Handling signal: term/.test(l))
    .map((l) => Date.parse(l.slice(0, l.indexOf(' '))))
    .sort((a, b) => a - b)[0];
  const appStopAtS = line === undefined || Number.isNaN(line) ? null : (line - wall0) / 1000;
  return {
    name,
    removedAtS,
    termAtS,
    appStopAtS,
    exitedAtS,
    exit: ExitCode,
    killed: exitedAtS - termAtS >= left - 0.05 && ExitCode === 137,
  };
}

/** One rollout: 2 old replicas, load, replace both one after the other; everything removed after. */
export async function runRollout(c: Case, t: Timings = DEFAULT_TIMINGS): Promise<RunResult> {
  const id = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = resolve(STATE_DIR, 'rollout', id);
  const names = ['old1', 'old2', 'new1', 'new2'] as const;
  const ports = await Promise.all([freePort(), ...names.map(() => freePort())]);
  const lbPort = ports[0];
  const port = Object.fromEntries(names.map((n, i) => [n, ports[i + 1]!])) as Record<(typeof names)[number], number>;
  const containers: Partial<Record<(typeof names)[number], Container>> = {};
  const start = (n: (typeof names)[number]) =>
    Container.run(IMAGE, { ...replicaSpec(c, port[n], t), name: `tsinit-rollout-${id}-${n}` }).then(
      (ct) => (containers[n] = ct),
    );
  let h: Haproxy | undefined;
  const logs: Record<string, string> = {};
  try {
    h = await Haproxy.start(
      dir,
      lbPort,
      names.map((n) => ({ name: n, port: port[n], ready: n.startsWith('old') })),
    );
    await Promise.all([start('old1'), start('old2')]);
    await Promise.all([waitReady(port.old1), waitReady(port.old2)]);
    const loadT0 = performance.now();
    const load = startLoad({ port: lbPort, ...t.load });
    const terminations: Promise<Termination>[] = [];
    const deletedAtMs: number[] = [];
    for (const [fresh, old] of [
      ['new1', 'old1'],
      ['new2', 'old2'],
    ] as const) {
      // maxSurge 1: the new pod first; it joins the endpoints once ready; then the old one is
      // deleted, and the next new pod starts at once (a terminating pod is not counted).
      await start(fresh);
      await waitReady(port[fresh]);
      await h.setState(fresh, 'ready');
      if (old === 'old1') await sleep(Math.max(0, t.leadInMs - (performance.now() - loadT0)));
      deletedAtMs.push(performance.now() - loadT0);
      terminations.push(terminate(h, old, containers[old]!, c, t));
    }
    load.endIn(t.tailMs);
    const [outcomes, ends] = await Promise.all([load.done, Promise.all(terminations)]);
    // The measurement holds only if the load outlasted the window (its own limit is a backstop).
    const lastMs = Math.max(...outcomes.map((o) => o.atMs));
    if (lastMs < deletedAtMs.at(-1)! + t.tailMs - 1000)
      throw new Error(
        `the load ended at ${lastMs.toFixed(0)} ms, before the rollout's window did: raise load.maxDurationMs`,
      );
    return { case: c, outcomes, terminations: ends, deletedAtMs, logs };
  } finally {
    for (const [n, ct] of Object.entries(containers)) logs[n] = await ct.logs().catch(() => '');
    await h?.stop();
    await Promise.all(Object.values(containers).map((ct) => ct.remove()));
    if (process.env.ROLLOUT_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  }
}

/** The numbers a table row is made of. */
export interface Summary {
  requests: number;
  failed: number;
  kinds: Record<string, number>;
  p99Ms: number;
  slowDone: number;
  slowAll: number;
}

/** What a failed request is, in the words of the tables. HAProxy answers 503 when the replica
 * refused the connection (retries 0) and 502 when it closed or reset it mid-request. */
export function failureKind(o: Outcome): string {
  if (o.error !== undefined) return o.error === 'timeout' ? 'time-out' : `client ${o.error}`;
  if (o.status === 503) return '503 refused';
  if (o.status === 502) return '502 reset';
  return String(o.status);
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export function summarize(outcomes: readonly Outcome[]): Summary {
  const kinds: Record<string, number> = {};
  for (const o of outcomes.filter(failed)) kinds[failureKind(o)] = (kinds[failureKind(o)] ?? 0) + 1;
  const slow = outcomes.filter((o) => o.slow);
  return {
    requests: outcomes.length,
    failed: outcomes.filter(failed).length,
    kinds,
    p99Ms: percentile(
      outcomes.filter((o) => !o.slow).map((o) => o.ms),
      99,
    ),
    slowDone: slow.filter((o) => !failed(o)).length,
    slowAll: slow.length,
  };
}

if (import.meta.main) {
  const [server, form, init, runs = '1'] = process.argv.slice(2);
  if (!server || !form || !init) {
    console.error(
      'usage: node test/rollout/driver.ts uvicorn|gunicorn exec|shell none|tini|tsinit|tsinit-delay|prestop|prestop-sleep [RUNS]',
    );
    process.exit(2);
  }
  mkdirSync(resolve(STATE_DIR, 'rollout'), { recursive: true });
  for (let i = 0; i < Number(runs); i++) {
    const r = await runRollout({ server, form, init } as Case);
    const sum = summarize(r.outcomes);
    console.log(JSON.stringify({ case: r.case, ...sum, terminations: r.terminations }));
  }
}
