// The servers this is all about: a FastAPI app (docker/apps/app, /slow takes 2 s) under
// Uvicorn, Uvicorn --workers 4 and Gunicorn with 4 UvicornWorkers, each under tsinit (group
// forwarding, the default, and -c), in exec and shell form, and without an init. `docker stop`
// with a slow request in flight: the request must end 200, every worker shut down gracefully,
// exit code as documented, long before Docker's 10 s. Then Gunicorn's own signals through
// tsinit (HUP, TTIN, TTOU, USR1), in both forwarding modes, and the recommended Dockerfiles.
// The HTTP client runs in a second container sharing the server's network namespace, so it
// outlives the server container and sees how its request ended.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signalNumber } from '../helpers/pid1.ts';
import { Container, docker, removeAll, saveRows, sleep, TIMEOUT_STOP_MAX_S, type Row } from './docker.ts';

const SERVERS = {
  uvicorn: { cmd: 'uvicorn app.main:app --host 127.0.0.1 --port 8000', workers: 1, label: '`uvicorn app.main:app`' },
  'uvicorn --workers 4': { cmd: 'uvicorn app.main:app --host 127.0.0.1 --port 8000 --workers 4', workers: 4, label: '`uvicorn … --workers 4`' },
  gunicorn: { cmd: 'gunicorn app.main:app --workers 4 --worker-class uvicorn.workers.UvicornWorker --graceful-timeout 30 --bind 127.0.0.1:8000', workers: 4, label: '`gunicorn … -k UvicornWorker --workers 4`' },
} as const;
type Server = keyof typeof SERVERS;
type Mode = 'tsinit' | 'tsinit -c' | 'none';
type Form = 'exec' | 'shell';

/** The `docker run` arguments that make the same process tree an exec-form or shell-form CMD would. */
function runSpec(server: Server, mode: Mode, form: Form): { runArgs: string[]; cmd: string[] } {
  const line = SERVERS[server].cmd;
  const cmd = form === 'exec' ? line.split(' ') : ['/bin/sh', '-c', line];
  if (mode === 'none') return { runArgs: [], cmd };
  // Shell form: dash dies of the TERM and the drain waits for the server. Give it the server's
  // own graceful time, as the README advises (TSINIT_DRAIN): on this 2-core VM Gunicorn's master
  // was seen still exiting 5 s after TERM, and the default 5 s drain SIGKILLed it.
  const drain = form === 'shell' ? ['-e', 'TSINIT_DRAIN=30s'] : [];
  return { runArgs: [...drain, '--entrypoint', '/tsinit'], cmd: [...(mode === 'tsinit -c' ? ['-c'] : []), '--', ...cmd] };
}

/** Waits until n worker processes have logged that they serve; returns their pids (in the container).
 * A deadline, not a wait: on a loaded 2-core machine (CI) four workers took over 30 s to import FastAPI. */
async function waitWorkers(ct: Container, n: number, timeoutMs = 120_000): Promise<number[]> {
  const m = await ct.waitLog(new RegExp(`(Application startup complete[^]*){${n}}`), timeoutMs);
  void m;
  const logs = await ct.logs();
  return [...logs.matchAll(/Started server process \[(\d+)\]/g)].map((x) => Number(x[1]));
}

/** Starts the slow request from a sibling container; resolves with the client's line. */
function slowRequest(ct: Container): Promise<string> {
  return docker(['run', '--rm', '--network', `container:${ct.id}`, 'tsinit-test', '/client.py', 'http://127.0.0.1:8000/slow'], { timeoutMs: 90_000 })
    .then((r) => (r.stdout + r.stderr).trim());
}

interface StopCase {
  server: Server;
  mode: Mode;
  form: Form;
  exit: number;
  /** graceful: 200, each worker finished, no SIGKILL, stop before Docker's 10 s. killed: Docker's 10 s and SIGKILL. */
  outcome: 'graceful' | 'killed';
}

// prettier-ignore
const STOP_CASES: StopCase[] = (Object.keys(SERVERS) as Server[]).flatMap((server) => [
  { server, mode: 'tsinit',    form: 'exec',  exit: 0,   outcome: 'graceful' },
  { server, mode: 'tsinit',    form: 'shell', exit: 143, outcome: 'graceful' },
  { server, mode: 'tsinit -c', form: 'exec',  exit: 0,   outcome: 'graceful' },
  { server, mode: 'tsinit -c', form: 'shell', exit: 143, outcome: 'graceful' },
  { server, mode: 'none',      form: 'exec',  exit: 0,   outcome: 'graceful' },
  { server, mode: 'none',      form: 'shell', exit: 137, outcome: 'killed' },
] satisfies StopCase[]);

interface StopOutcome { stopS: number; exit: number; client: string; workers: number[]; finished: number[]; logs: string }

async function runStop(c: StopCase, image?: string): Promise<StopOutcome> {
  const ct = await Container.run(image ?? 'tsinit-test', image === undefined ? runSpec(c.server, c.mode, c.form) : {});
  try {
    const workers = await waitWorkers(ct, SERVERS[c.server].workers);
    const client = slowRequest(ct);
    await ct.waitLog(/slow: started/, 30_000);
    const stopS = await ct.stop();
    const { ExitCode } = await ct.state();
    const logs = await ct.logs();
    const finished = [...logs.matchAll(/Finished server process \[(\d+)\]/g)].map((x) => Number(x[1]));
    return { stopS, exit: ExitCode, client: await client, workers, finished, logs };
  } finally {
    await ct.remove();
  }
}

// Rows by case order, whatever order the concurrent tests finish in.
const rows: (Row & { order?: number })[] = [];
afterAll(async () => {
  await removeAll();
  saveRows('3-servers', rows.sort((a, b) => (a.order ?? 0) - (b.order ?? 0)).map(({ table, cells }) => ({ table, cells })));
});

// One case at a time, in this file and (vitest.docker.config.ts) in the suite: four Python
// workers booting beside another case starved it on CI's 2 cores (workers not up in 30 s, a
// Gunicorn master gone after HUP), and the stop times asserted here are wall times.
describe('docker stop with a slow request in flight', () => {
  it.each(STOP_CASES.map((c) => [`${c.server} | ${c.mode} | ${c.form}`, c] as const))('%s', async (name, c) => {
    const o = await runStop(c);
    const unfinished = o.workers.filter((p) => !o.finished.includes(p));
    rows.push({
      order: STOP_CASES.indexOf(c),
      table: 'Servers: `docker stop` while a 2 s request is in flight',
      cells: {
        server: SERVERS[c.server].label, init: c.mode === 'none' ? 'none' : `\`${c.mode}\``, form: c.form,
        'stop s': o.stopS.toFixed(2), exit: String(o.exit), 'in-flight request': o.client.replace(/^client: /, '').replace(/ body=.*/, ''),
        'workers shut down gracefully': `${o.finished.filter((p) => o.workers.includes(p)).length}/${o.workers.length}`,
      },
    });
    const detail = `${name}: stop ${o.stopS.toFixed(2)} s, exit ${o.exit}, ${o.client}, workers ${o.workers} finished ${o.finished}\n${o.logs}`;
    expect(o.workers.length, detail).toBe(SERVERS[c.server].workers);
    expect(o.exit, detail).toBe(c.exit);
    // Even the killed case's request completes: it needs 2 s, Docker waits 10.
    expect(o.client, detail).toMatch(/status=200/);
    if (c.outcome === 'graceful') {
      expect(unfinished, detail).toEqual([]);
      expect(o.logs, detail).toMatch(c.server === 'gunicorn' ? /Shutting down: Master/ : /Shutting down/);
      expect(o.logs, detail).not.toMatch(/SIGKILL/);
      // Before Docker's 10 s SIGKILL: the 2 s request, then Gunicorn's master takes its time
      // (seen 2 s after its last worker on this 2-core VM, with every init).
      expect(o.stopS, detail).toBeLessThan(9.5);
    } else {
      expect(o.finished, detail).toEqual([]);
      expect(o.stopS, detail).toBeGreaterThan(9.5);
      expect(o.stopS, detail).toBeLessThan(TIMEOUT_STOP_MAX_S);
    }
  }, 300_000);
});

interface SignalCase {
  signal: 'HUP' | 'TTIN' | 'TTOU' | 'USR1';
  mode: 'tsinit' | 'tsinit -c';
  form: Form;
  /** How the in-flight request ends. */
  request: 'status=200' | 'error';
  /** Workers running afterwards (null: the container stopped; 'some': not steady, see USR1). */
  workersAfter: number | null | 'some';
  /** Whether every worker running afterwards is a new one. */
  allNew: boolean;
  /** Workers the signal killed (gunicorn logs "terminated due to signal N"); 'some': one or more,
   * the count varies (replacements die too, and the master's log calls collide in its handlers). */
  killedBySignal: number | 'some';
  why: string;
}

// prettier-ignore
const SIGNAL_CASES: SignalCase[] = [
  { signal: 'HUP',  mode: 'tsinit',    form: 'exec',  request: 'error',      workersAfter: 4,    allNew: true,  killedBySignal: 'some', why: 'the group HUP reaches each UvicornWorker directly, which resets HUP to SIG_DFL and dies mid-request; the master then reloads' },
  { signal: 'HUP',  mode: 'tsinit -c', form: 'exec',  request: 'status=200', workersAfter: 4,    allNew: true,  killedBySignal: 0, why: 'only the master: it starts new workers and stops the old ones gracefully' },
  { signal: 'TTIN', mode: 'tsinit',    form: 'exec',  request: 'status=200', workersAfter: 5,    allNew: false, killedBySignal: 0, why: 'one more worker; the workers keep the master\'s TTIN handler, so the direct TTIN is harmless' },
  { signal: 'TTIN', mode: 'tsinit -c', form: 'exec',  request: 'status=200', workersAfter: 5,    allNew: false, killedBySignal: 0, why: 'one more worker' },
  { signal: 'TTOU', mode: 'tsinit',    form: 'exec',  request: 'status=200', workersAfter: 3,    allNew: false, killedBySignal: 0, why: 'one worker fewer, stopped gracefully (TERM from the master)' },
  { signal: 'TTOU', mode: 'tsinit -c', form: 'exec',  request: 'status=200', workersAfter: 3,    allNew: false, killedBySignal: 0, why: 'one worker fewer, stopped gracefully' },
  { signal: 'USR1', mode: 'tsinit',    form: 'exec',  request: 'error',      workersAfter: 'some', allNew: true, killedBySignal: 'some', why: 'logs reopened; but UvicornWorker (uvicorn 0.17.6) resets USR1 to SIG_DFL, so every worker dies of it, and of the master\'s own USR1; replacements die too; the master may end a worker short' },
  { signal: 'USR1', mode: 'tsinit -c', form: 'exec',  request: 'error',      workersAfter: 'some', allNew: true, killedBySignal: 'some', why: 'the same without the direct hit: the master itself sends USR1 to its workers; no init can help (a uvicorn worker defect)' },
  { signal: 'HUP',  mode: 'tsinit',    form: 'shell', request: 'error',      workersAfter: null, allNew: false, killedBySignal: 'some', why: 'dash dies of HUP (exit 129), the workers too; the drain TERMs the master mid-reload' },
  { signal: 'HUP',  mode: 'tsinit -c', form: 'shell', request: 'status=200', workersAfter: null, allNew: false, killedBySignal: 0, why: 'dash dies of HUP (exit 129); the drain TERMs the rest, which shut down gracefully' },
];

const GUNICORN_LOGGED = `${SERVERS.gunicorn.cmd} --access-logfile /tmp/access.log`;

/**
 * Python's stderr unbuffered, as Python images usually set it. Gunicorn 20.1 logs a worker's
 * death from its SIGCHLD handler; with a buffered stderr, a handler that runs while the master
 * is writing another line raises "reentrant call inside <_io.BufferedWriter name='<stderr>'>".
 * After USR1, when every worker dies at once, that lost the death's log line (1 whole-suite run
 * in 4) and once killed the master itself ("Unhandled exception in main loop", exit 255): a
 * Gunicorn defect, under any init. Unbuffered, stderr has no such lock.
 */
const UNBUFFERED = ['-e', 'PYTHONUNBUFFERED=1'];

/** The gunicorn master's worker pids (in the container): children of the child of PID 1 (or of sh). */
async function gunicornWorkers(ct: Container): Promise<number[]> {
  const r = await ct.exec(['sh', '-c', 'm=$(pgrep -o -f "^/usr/bin/python3 /usr/bin/gunicorn"); pgrep -P "$m" | tr "\\n" " "']);
  return r.stdout.trim().split(/\s+/).filter((x) => x !== '').map(Number);
}

interface SignalOutcome { client: string; before: number[]; after: number[] | null; killed: number; reopened: boolean | null; exit: number | null; logs: string }

async function runSignal(c: SignalCase): Promise<SignalOutcome> {
  const line = GUNICORN_LOGGED;
  const cmd = c.form === 'exec' ? line.split(' ') : ['/bin/sh', '-c', line];
  const ct = await Container.run('tsinit-test', { runArgs: [...UNBUFFERED, '--entrypoint', '/tsinit'], cmd: [...(c.mode === 'tsinit -c' ? ['-c'] : []), '--', ...cmd] });
  try {
    await waitWorkers(ct, 4);
    const before = await gunicornWorkers(ct);
    await ct.exec(['mv', '/tmp/access.log', '/tmp/access.log.1']);
    const client = slowRequest(ct);
    await ct.waitLog(/slow: started/, 30_000);
    await ct.kill(c.signal);
    const result = await client;
    let after: number[] | null = null;
    let reopened: boolean | null = null;
    let exit: number | null = null;
    if (c.workersAfter === null) {
      // The shell-form cases end the container: wait for it, then read the exit code.
      await docker(['wait', ct.id], { timeoutMs: 30_000 });
      exit = (await ct.state()).ExitCode;
    } else {
      // The master settles on its new number of workers: poll until it holds (or the deadline).
      const deadline = Date.now() + 20_000;
      for (;;) {
        after = await gunicornWorkers(ct);
        const fresh = after.filter((p) => !before.includes(p)).length;
        const steady = c.workersAfter === 'some' ? after.length > 0 : after.length === c.workersAfter;
        if (steady && (!c.allNew || fresh === after.length)) break;
        if (Date.now() > deadline) break;
        await sleep(200);
      }
      // New workers serve once they have logged their start-up.
      await waitWorkers(ct, 4 + after.filter((p) => !before.includes(p)).length);
      reopened = (await ct.exec(['test', '-e', '/tmp/access.log'])).code === 0;
      // Still serving after the signal. After USR1 a UvicornWorker may still be dying (the
      // uvicorn defect above) when the request lands on it, and the master needs a few seconds
      // to boot replacements on 2 loaded cores: the server must answer within 30 tries, 1 s apart.
      const answers: string[] = [];
      for (let attempt = 0; attempt < 30; attempt++) {
        const r = await docker(['run', '--rm', '--network', `container:${ct.id}`, 'tsinit-test', '/client.py', 'http://127.0.0.1:8000/pid']);
        answers.push((r.stdout + r.stderr).trim());
        if (/status=200/.test(r.stdout)) break;
        await sleep(1000);
      }
      // On failure, what the server logged says why (a master gone, workers that never booted).
      const why = /status=200/.test(answers.at(-1) ?? '') ? '' : `\nstate: ${JSON.stringify(await ct.state())}\nlogs:\n${await ct.logs()}`;
      expect(answers.at(-1), `a request after the signal (answers: ${answers.join(' | ')})${why}`).toMatch(/status=200/);
      if (c.signal !== 'USR1') expect(answers, 'answered at the first try').toHaveLength(1);
    }
    const logs = await ct.logs();
    const killed = [...logs.matchAll(new RegExp(`terminated due to signal ${signalNumber(`SIG${c.signal}`)}\\b`, 'g'))].length;
    return { client: result, before, after, killed, reopened, exit, logs };
  } finally {
    await ct.remove();
  }
}

describe('Gunicorn\'s own signals through tsinit (docker kill -s SIG, a 2 s request in flight)', () => {
  it.each(SIGNAL_CASES.map((c) => [`${c.signal} | ${c.mode} | ${c.form}`, c] as const))('%s', async (name, c) => {
    const o = await runSignal(c);
    const fresh = o.after?.filter((p) => !o.before.includes(p)).length ?? 0;
    rows.push({
      order: 100 + SIGNAL_CASES.indexOf(c),
      table: 'Gunicorn (4 UvicornWorkers) signals through tsinit, a 2 s request in flight',
      cells: {
        signal: c.signal, init: `\`${c.mode}\``, form: c.form,
        'in-flight request': o.client.replace(/^client: /, '').replace(/ body=.*/, '').replace(/error=(\w+).*/, 'error ($1)'),
        'workers before → after': o.after === null ? `${o.before.length} → container exited ${o.exit}` : `${o.before.length} → ${o.after.length}${fresh === o.after.length ? ' (all new)' : fresh > 0 ? ` (${fresh} new)` : ''}`,
        'workers killed by the signal': String(o.killed),
        why: c.why + (c.signal === 'USR1' ? ` (access log reopened: ${o.reopened ? 'yes' : 'no'})` : ''),
      },
    });
    const detail = `${name}: ${o.client}; workers ${o.before} → ${o.after}; killed by signal ${o.killed}; exit ${o.exit}\n${o.logs}`;
    expect(o.before.length, detail).toBe(4);
    expect(o.client, detail).toContain(c.request);
    if (c.killedBySignal === 'some') expect(o.killed, detail).toBeGreaterThan(0);
    else expect(o.killed, detail).toBe(c.killedBySignal);
    if (c.workersAfter === null) {
      expect(o.exit, detail).toBe(128 + signalNumber(`SIG${c.signal}`));
    } else if (c.workersAfter === 'some') {
      expect(o.after?.length, detail).toBeGreaterThan(0);
      expect(fresh, detail).toBe(o.after?.length);
    } else {
      expect(o.after?.length, detail).toBe(c.workersAfter);
      if (c.allNew) expect(fresh, detail).toBe(c.workersAfter);
      else expect(o.after!.filter((p) => o.before.includes(p)).length, detail).toBe(Math.min(4, c.workersAfter));
    }
    if (c.signal === 'USR1') expect(o.reopened, detail).toBe(true);
  }, 300_000);
});

describe('Gunicorn HUP under -c beside tini: who kills the old workers with TERM', () => {
  // gunicorn -w 2 UvicornWorker, exec form, a 2 s request in flight, `docker kill -s HUP`.
  // Gunicorn then logs "Worker with pid N was terminated due to signal 15" for old workers,
  // under tsinit -c, tini and no init alike (the same counts over 20 runs of each). The
  // TERM is the master's own: after a reload, manage_workers() sends TERM to every surplus
  // (old) worker on each pass of its loop until it is reaped, and a UvicornWorker leaves TERM
  // at SIG_DFL (init_signals) apart from the asyncio handler uvicorn installs, which asyncio
  // removes when the worker's loop closes: a TERM that lands after "Finished server process",
  // while the worker's Python shuts down, kills it. Nothing is lost (the request ends 200, the
  // worker had finished). This pins that: each killed worker is an old one that had finished
  // serving, and tsinit (-v) sent nothing but the HUP to the master.
  const RUNS = 5;
  const LINE = 'gunicorn app.main:app --workers 2 --worker-class uvicorn.workers.UvicornWorker --graceful-timeout 30 --bind 127.0.0.1:8000';
  const INITS = { 'tsinit -c': ['/tsinit', '-c', '-v', '--'], tini: ['/usr/bin/tini-static', '--'] } as const;
  type HupInit = keyof typeof INITS;
  interface HupRun { client: string; before: number[]; after: number[]; killed: number[]; finishedFirst: boolean; logs: string }

  async function runHup(init: HupInit): Promise<HupRun> {
    const [entrypoint, ...args] = INITS[init];
    const ct = await Container.run('tsinit-test', { runArgs: [...UNBUFFERED, '--entrypoint', entrypoint!], cmd: [...args, ...LINE.split(' ')] });
    try {
      // A deadline, not a wait: on a loaded 2-core machine two workers took 40 s to import FastAPI.
      await waitWorkers(ct, 2, 120_000);
      const before = await gunicornWorkers(ct);
      const client = slowRequest(ct);
      await ct.waitLog(/slow: started/, 30_000);
      await ct.kill('HUP');
      const result = await client;
      // The old workers are reaped once the master's children are the two new ones.
      let after: number[] = [];
      const deadline = Date.now() + 30_000;
      do {
        after = await gunicornWorkers(ct);
        if (after.length === 2 && after.every((p) => !before.includes(p))) break;
        await sleep(200);
      } while (Date.now() < deadline);
      await ct.stop(); // every line is in the logs once the container has ended
      const all = await ct.logs();
      const logs = all.split('Handling signal: term')[0]!;
      const killedAt = [...logs.matchAll(/Worker with pid (\d+) was terminated due to signal 15/g)];
      const finishedFirst = killedAt.every((m) => logs.slice(0, m.index).includes(`Finished server process [${m[1]}]`));
      return { client: result, before, after, killed: killedAt.map((m) => Number(m[1])), finishedFirst, logs: all };
    } finally {
      await ct.remove();
    }
  }

  it(`${RUNS} runs each: the request ends 200, both workers are replaced, and only the master's own TERM kills finished workers`, async () => {
    const runs: (HupRun & { init: HupInit })[] = [];
    for (const init of Object.keys(INITS) as HupInit[]) for (let i = 0; i < RUNS; i++) runs.push({ init, ...await runHup(init) });
    const clean = (init: HupInit) => runs.filter((r) => r.init === init && r.killed.length === 0).length;
    rows.push({
      order: 150,
      table: 'Gunicorn (2 UvicornWorkers) HUP, exec form, a 2 s request in flight: runs without "terminated due to signal 15"',
      cells: { '`tsinit -c`': `${clean('tsinit -c')}/${RUNS}`, 'tini (Debian, static)': `${clean('tini')}/${RUNS}`, why: 'the TERM is Gunicorn\'s master\'s, repeated to each old worker until it is reaped; a UvicornWorker whose event loop has closed dies of it (no init is involved: with no init, the same)' },
    });
    for (const r of runs) {
      const detail = `${r.init}: ${r.client}; workers ${r.before} → ${r.after}; killed by TERM ${r.killed}\n${r.logs}`;
      expect(r.client, detail).toMatch(/status=200/);
      expect(r.after.length, detail).toBe(2);
      expect(r.after.filter((p) => r.before.includes(p)), detail).toEqual([]);
      expect(r.killed.every((p) => r.before.includes(p)), detail).toBe(true);
      expect(r.finishedFirst, detail).toBe(true);
      if (r.init === 'tsinit -c') {
        // tsinit's own log (-v): the HUP to the master, then docker stop's TERM; nothing else, to no one else.
        const sent = r.logs.split('\n').filter((l) => /^tsinit: SIG\w+ (forwarded|rewritten)/.test(l));
        expect(sent, detail).toEqual([expect.stringMatching(/^tsinit: SIGHUP forwarded to child \d+$/), expect.stringMatching(/^tsinit: SIGTERM forwarded to child \d+$/)]);
      }
    }
  }, 900_000);
});

describe('the recommended Dockerfiles (docker/servers)', () => {
  // prettier-ignore
  const RECOMMENDED = [
    { file: 'uvicorn',         c: { server: 'uvicorn',             mode: 'tsinit',    form: 'exec', exit: 0, outcome: 'graceful' } },
    { file: 'uvicorn-workers', c: { server: 'uvicorn --workers 4', mode: 'tsinit -c', form: 'exec', exit: 0, outcome: 'graceful' } },
    { file: 'gunicorn',        c: { server: 'gunicorn',            mode: 'tsinit -c', form: 'exec', exit: 0, outcome: 'graceful' } },
  ] satisfies { file: string; c: StopCase }[];
  it.each(RECOMMENDED.map((r) => [r.file, r] as const))('docker/servers/%s.Dockerfile: docker stop mid-request → 200, graceful, exit 0', async (_, { file, c }) => {
    const o = await runStop(c, `tsinit-servers-${file}`);
    const detail = `${file}: stop ${o.stopS.toFixed(2)} s, exit ${o.exit}, ${o.client}, workers ${o.workers} finished ${o.finished}\n${o.logs}`;
    rows.push({ order: 200 + RECOMMENDED.findIndex((r) => r.file === file), table: 'The recommended Dockerfiles (docker/servers), `docker stop` mid-request', cells: { Dockerfile: `docker/servers/${file}.Dockerfile`, 'stop s': o.stopS.toFixed(2), exit: String(o.exit), 'in-flight request': o.client.replace(/^client: /, '').replace(/ body=.*/, ''), 'workers shut down gracefully': `${o.finished.length}/${o.workers.length}` } });
    expect(o.client, detail).toMatch(/status=200/);
    expect(o.exit, detail).toBe(0);
    expect(o.workers.filter((p) => !o.finished.includes(p)), detail).toEqual([]);
    expect(o.stopS, detail).toBeLessThan(9.5); // before Docker's SIGKILL, as above
  });
});
