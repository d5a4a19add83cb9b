// The engine suites' view of an engine: the client calls (never throwing unless asked to),
// container start/stop/inspect with the timings the tables report, waiting for a log line
// with a deadline, and the result rows that docker/RESULTS.md (and docker/PODMAN.md) are made
// from. Docker and Podman share one Container: their CLIs agree on everything used here but
// `top`. The engines themselves belong to docker/engine.sh, docker/podman.sh and the setups.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const STATE_DIR = process.env.TSINIT_DOCKER_DIR ?? '/tmp/tsinit-docker';
/** The shared daemon, and the second one whose --init-path is tsinit (`docker run --init`). */
export const HOST = `unix://${STATE_DIR}/docker.sock`;
export const INIT_HOST = `unix://${STATE_DIR}/init/docker.sock`;
// Debian's 20.10 client, the daemon's own version; the legacy builder needs no buildx.
const CLIENT = '/usr/bin/docker';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}
export interface CliOptions {
  timeoutMs?: number;
  input?: string;
}

/** Runs an engine's client with extra environment; resolves with its exit code and output. */
export function runClient(
  file: string,
  env: Record<string, string>,
  args: readonly string[],
  opts: CliOptions = {},
): Promise<Result> {
  const start = performance.now();
  return new Promise((res) => {
    const child = execFile(
      file,
      args,
      {
        env: { ...process.env, ...env },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 << 20,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        res({ code, stdout, stderr, ms: performance.now() - start });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs the docker client; resolves with its exit code and output, whatever they are. */
export function docker(args: readonly string[], opts: CliOptions & { host?: string } = {}): Promise<Result> {
  return runClient(CLIENT, { DOCKER_HOST: opts.host ?? HOST, DOCKER_BUILDKIT: '0' }, args, opts);
}

/** One engine as the tests drive it: its client, and how its `top` lists pid and command line. */
export interface Engine {
  name: string;
  cli(args: readonly string[], opts?: CliOptions): Promise<Result>;
  /** `top` arguments listing each process as `PID ARGS` (plus the columns asked for). */
  topArgs(id: string, columns: 'pid,args' | 'pid,ppid,stat,args'): string[];
}

/** The docker daemon at host. */
export function dockerEngine(host = HOST): Engine {
  return {
    name: 'docker',
    cli: (args, opts) => docker(args, { ...opts, host }),
    topArgs: (id, columns) => ['top', id, '-o', columns],
  };
}

/** Like engine.cli(), but a non-zero exit is an error that shows the command and its output. */
export async function cliOk(engine: Engine, args: readonly string[], opts: CliOptions = {}): Promise<Result> {
  const r = await engine.cli(args, opts);
  if (r.code !== 0) throw new Error(`${engine.name} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Like docker(), but a non-zero exit is an error that shows the command and its output. */
export function dockerOk(args: readonly string[], opts: { host?: string; timeoutMs?: number } = {}): Promise<Result> {
  return cliOk(dockerEngine(opts.host), args, opts);
}

/** Docker's own share of a `docker stop`: a round trip through the client, dockerd, containerd
 * and runc, 0.1-0.2 s on a quiet host, up to 1.5 s measured on this 2-core VM when it is slow at
 * creating processes; 1 s more as margin. One bound for every "fast" stop of the docker suite
 * (the matrix, every image, the servers' shutdown on top of it): docker/guides/README.md states it. */
export const DOCKER_SLACK_S = 2.5;

/** The longest a stop that waited out the engine's 10 s timeout may take: then SIGKILL's own
 * round trip, seen at 3.8 s on the loaded 2-core VM. The bound tells "the timeout" from a hang. */
export const TIMEOUT_STOP_MAX_S = 20;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A container started detached; stop()/logs()/exitCode() read it back. */
export class Container {
  readonly id: string;
  readonly engine: Engine;
  readonly name: string;
  // Plain fields, not parameter properties: Node's type stripping (which runs the rollout
  // driver, test/rollout, outside vitest) refuses TypeScript syntax that would need a transform.
  constructor(id: string, engine: Engine, name: string) {
    this.id = id;
    this.engine = engine;
    this.name = name;
  }

  /** `run -d` on engine (default: the shared docker daemon, or the one at host). */
  static async run(
    image: string,
    opts: { host?: string; engine?: Engine; runArgs?: string[]; cmd?: string[]; name?: string } = {},
  ): Promise<Container> {
    const engine = opts.engine ?? dockerEngine(opts.host);
    const name = opts.name ?? `tsinit-t-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const r = await cliOk(engine, ['run', '-d', '--name', name, ...(opts.runArgs ?? []), image, ...(opts.cmd ?? [])]);
    const c = new Container(r.stdout.trim(), engine, name);
    live.add(c);
    return c;
  }

  /** stdout and stderr of the container so far, interleaving lost (docker keeps them apart). */
  async logs(): Promise<string> {
    const r = await this.engine.cli(['logs', this.id]);
    return r.stdout + r.stderr;
  }

  /** Waits until the logs match re, or fails with the logs after timeoutMs. */
  async waitLog(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const logs = await this.logs();
      const m = logs.match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in the logs of ${this.name}:\n${logs}`);
      await sleep(100);
    }
  }

  /** The processes in the container, as `top` lists them (docker: pids on the host). */
  async top(): Promise<string> {
    return (await this.engine.cli(this.engine.topArgs(this.id, 'pid,ppid,stat,args'))).stdout;
  }

  /** Waits until a process whose whole command line is `args` runs in the container. (A
   * pattern would also match PID 1's own line, `/tsinit -- sleep 1000`, before tsinit has
   * caught TERM: a stop then is dropped by the kernel, as for any PID 1 without a handler.) */
  async waitProcess(args: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // docker top insists on a pid column; the command line is the rest of the line.
      const r = await this.engine.cli(this.engine.topArgs(this.id, 'pid,args'));
      if (r.stdout.split('\n').some((l) => l.trim().replace(/^\d+\s+/, '') === args)) return;
      if (Date.now() > deadline)
        throw new Error(`no process '${args}' in ${this.name}:\n${await this.top()}\n${await this.logs()}`);
      await sleep(100);
    }
  }

  async exec(cmd: string[], timeoutMs = 60_000): Promise<Result> {
    return this.engine.cli(['exec', this.id, ...cmd], { timeoutMs });
  }

  /** `stop` (the engine's default 10 s timeout unless given); resolves with its wall time. */
  async stop(timeoutS?: number): Promise<number> {
    const r = await cliOk(this.engine, ['stop', ...(timeoutS === undefined ? [] : ['-t', String(timeoutS)]), this.id], {
      timeoutMs: 60_000,
    });
    return r.ms / 1000;
  }

  async kill(signal: string): Promise<void> {
    await cliOk(this.engine, ['kill', '-s', signal, this.id]);
  }

  async state(): Promise<{ Running: boolean; ExitCode: number; OOMKilled: boolean }> {
    const r = await cliOk(this.engine, ['inspect', '-f', '{{json .State}}', this.id]);
    return JSON.parse(r.stdout) as { Running: boolean; ExitCode: number; OOMKilled: boolean };
  }

  async remove(): Promise<void> {
    live.delete(this);
    await this.engine.cli(['rm', '-f', this.id]);
  }
}

const live = new Set<Container>();
/** For afterAll: removes every container this file started and did not remove. */
export async function removeAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.remove()));
}

/** How far app.py's TERM handler got (docker/apps/app.py: it works 1 s, then says how long it took). */
export type Handler = 'finished' | 'cut off' | 'never ran' | 'no handler';

/** One case of the stop matrix (docker/matrix), on whichever engine runs it. */
export interface MatrixCase<Init extends string> {
  app: 'sleep' | 'app';
  form: 'exec' | 'shell' | 'entrypoint';
  init: Init;
  /** PID 1's command line: the init, or what runs without one. */
  pid1: RegExp;
  /** fast: the init forwarded the stop; app: the app's own 1 s on top; timeout: the engine's 10 s, then SIGKILL (each suite sets the bounds). */
  stop: 'fast' | 'app' | 'timeout';
  exit: number;
  handler: Handler;
  why: string;
}
export interface StopOutcome {
  pid1: string;
  stopS: number;
  exit: number;
  handler: Handler;
  logs: string;
}
export const APP_WORK_S = 1;

/** Reads the handler's progress from app.py's log lines: 'finished' only if its second of work ran to its end. */
export function readHandler(logs: string): Exclude<Handler, 'no handler'> {
  const done = /app: finished cleanly after ([\d.]+) s/.exec(logs);
  if (done && Number(done[1]) >= APP_WORK_S - 0.01) return 'finished';
  return logs.includes('app: got SIGTERM') ? 'cut off' : 'never ran';
}

/** The matrix step both engines share: wait until the app (app.py, or `sleep 1000`) runs, read
 * PID 1's command line, stop with the engine's default timeout, read back exit code and logs.
 * Removes the container. waitMs: how long the app may take to start. */
export async function stopAndObserve(ct: Container, app: 'sleep' | 'app', waitMs = 15_000): Promise<StopOutcome> {
  try {
    if (app === 'app') await ct.waitLog(/app: ready/, waitMs);
    else await ct.waitProcess('sleep 1000', waitMs);
    const pid1 = (await ct.exec(['cat', '/proc/1/cmdline'])).stdout.replaceAll('\0', ' ').trim();
    const stopS = await ct.stop();
    const { Running, ExitCode } = await ct.state();
    if (Running) throw new Error(`${ct.name} still runs after stop`);
    const logs = await ct.logs();
    return { pid1, stopS, exit: ExitCode, handler: app === 'sleep' ? 'no handler' : readHandler(logs), logs };
  } finally {
    await ct.remove();
  }
}

export interface Procs {
  total: number;
  zombies: number;
  sleeps: number;
}

/** The processes in the container, as docker/apps/procs.py counts them from /proc. */
export async function procs(ct: Container): Promise<Procs> {
  const r = await ct.exec(['/procs.py']);
  const m = /procs: total=(\d+) zombies=(\d+) sleeps=(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`procs.py said: ${r.stdout}${r.stderr}`);
  return { total: Number(m[1]), zombies: Number(m[2]), sleeps: Number(m[3]) };
}

/** Starts 1000 orphans in the container (docker/apps/orphans.sh), then polls /proc until
 * settled(…) (or the deadline). */
export async function orphanBurst(
  ct: Container,
  deadlineMs: number,
  settled: (p: Procs) => boolean,
): Promise<{ after: Procs; seconds: number }> {
  // Minutes, not seconds, when the cores are shared: 2000 forks at load average 30 took 100 s.
  const burst = await ct.exec(['/orphans.sh', '1000'], 300_000);
  if (!burst.stdout.includes('orphans: 1000')) throw new Error(`orphans.sh said: ${burst.stdout}${burst.stderr}`);
  const t = performance.now();
  const deadline = Date.now() + deadlineMs;
  let after = await procs(ct);
  while (!settled(after) && Date.now() < deadline) {
    await sleep(200);
    after = await procs(ct);
  }
  return { after, seconds: (performance.now() - t) / 1000 };
}

/** Builds docker/<dockerfile> (context: its folder) as tag with engine (extra: build flags). */
export async function buildImage(
  engine: Engine,
  tag: string,
  dockerfile: string,
  extra: readonly string[] = [],
): Promise<void> {
  const file = resolve(ROOT, dockerfile);
  await cliOk(engine, ['build', '-q', ...extra, '-t', tag, '-f', file, resolve(file, '..')], { timeoutMs: 300_000 });
}

/** Builds docker/<dockerfile> (context: its folder) as tag on host. */
export function build(tag: string, dockerfile: string, host = HOST): Promise<void> {
  return buildImage(dockerEngine(host), tag, dockerfile);
}

/** Builds every Dockerfile in docker/<dir> that only() admits as tsinit-<dir>-<name>, a few at a time. */
export async function buildAll(
  engine: Engine,
  dir: string,
  only: (name: string) => boolean = () => true,
  extra: readonly string[] = [],
): Promise<void> {
  if (!existsSync(resolve(ROOT, 'docker', dir))) return;
  const names = readdirSync(resolve(ROOT, 'docker', dir))
    .filter((f) => f.endsWith('.Dockerfile'))
    .map((f) => f.slice(0, -'.Dockerfile'.length))
    .filter(only);
  for (let i = 0; i < names.length; i += 4) {
    await Promise.all(
      names
        .slice(i, i + 4)
        .map((n) => buildImage(engine, `tsinit-${dir}-${n}`, `docker/${dir}/${n}.Dockerfile`, extra)),
    );
  }
}

/** Fills ctx with the build context of tsinit-test: dist/tsinit, docker/apps, docker/Dockerfile.base as Dockerfile. */
export function makeBaseContext(ctx: string): void {
  rmSync(ctx, { recursive: true, force: true });
  mkdirSync(ctx, { recursive: true });
  // A hard link keeps the executable from being copied; /tmp may be another filesystem.
  const tsinit = resolve(ROOT, 'dist/tsinit');
  try {
    linkSync(tsinit, resolve(ctx, 'tsinit'));
  } catch {
    cpSync(tsinit, resolve(ctx, 'tsinit'));
  }
  cpSync(resolve(ROOT, 'docker/apps'), ctx, { recursive: true });
  cpSync(resolve(ROOT, 'docker/Dockerfile.base'), resolve(ctx, 'Dockerfile'));
}

/** One row of docker/RESULTS.md. */
export interface Row {
  table: string;
  cells: Record<string, string>;
}

/** Writes this file's rows where global-setup's teardown collects them into docker/RESULTS.md
 * (dir: another suite's results folder). */
export function saveRows(file: string, rows: Row[], dir = resolve(STATE_DIR, 'results')): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `${file}.json`), JSON.stringify(rows, null, 1));
}

/** Every row saved in dir, files in name order. */
export function collectRows(dir: string): Row[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .sort()
        .flatMap((f) => JSON.parse(readFileSync(resolve(dir, f), 'utf8')) as Row[])
    : [];
}

/** The rows as Markdown: one `## table` per table title, in first-seen order, after the intro lines. */
export function renderTables(intro: string[], rows: Row[]): string {
  const tables = new Map<string, Row[]>();
  for (const r of rows) tables.set(r.table, [...(tables.get(r.table) ?? []), r]);
  const out = [...intro];
  for (const [title, rs] of tables) {
    const cols = Object.keys(rs[0]!.cells);
    out.push(`## ${title}`, '', `| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`);
    for (const r of rs) out.push(`| ${cols.map((c) => r.cells[c] ?? '').join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}
