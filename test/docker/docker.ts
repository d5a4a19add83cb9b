// The docker suite's view of the engine: the client calls (never throwing unless asked to),
// container start/stop/inspect with the timings the tables report, waiting for a log line
// with a deadline, and the result rows that docker/RESULTS.md is made from. The engine itself
// (dockerd, images) belongs to docker/engine.sh and test/docker/global-setup.ts.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const STATE_DIR = process.env.TSINIT_DOCKER_DIR ?? '/tmp/tsinit-docker';
/** The shared daemon, and the second one whose --init-path is tsinit (`docker run --init`). */
export const HOST = `unix://${STATE_DIR}/docker.sock`;
export const INIT_HOST = `unix://${STATE_DIR}/init/docker.sock`;
// Debian's 20.10 client, the daemon's own version; the legacy builder needs no buildx.
const CLIENT = '/usr/bin/docker';

export interface Result { code: number; stdout: string; stderr: string; ms: number }

/** Runs the docker client; resolves with its exit code and output, whatever they are. */
export function docker(args: readonly string[], opts: { host?: string; timeoutMs?: number; input?: string } = {}): Promise<Result> {
  const start = performance.now();
  return new Promise((res) => {
    const child = execFile(CLIENT, args, {
      env: { ...process.env, DOCKER_HOST: opts.host ?? HOST, DOCKER_BUILDKIT: '0' },
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 64 << 20,
      encoding: 'utf8',
    }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      res({ code, stdout, stderr, ms: performance.now() - start });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like docker(), but a non-zero exit is an error that shows the command and its output. */
export async function dockerOk(args: readonly string[], opts: { host?: string; timeoutMs?: number } = {}): Promise<Result> {
  const r = await docker(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A container started detached; stop()/logs()/exitCode() read it back. */
export class Container {
  readonly id: string;
  readonly host: string;
  readonly name: string;
  // Plain fields, not parameter properties: Node's type stripping (which runs the rollout
  // driver, test/rollout, outside vitest) refuses TypeScript syntax that would need a transform.
  constructor(id: string, host: string, name: string) {
    this.id = id;
    this.host = host;
    this.name = name;
  }

  static async run(image: string, opts: { host?: string; runArgs?: string[]; cmd?: string[]; name?: string } = {}): Promise<Container> {
    const host = opts.host ?? HOST;
    const name = opts.name ?? `tsinit-t-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const r = await dockerOk(['run', '-d', '--name', name, ...(opts.runArgs ?? []), image, ...(opts.cmd ?? [])], { host });
    const c = new Container(r.stdout.trim(), host, name);
    live.add(c);
    return c;
  }

  /** stdout and stderr of the container so far, interleaving lost (docker keeps them apart). */
  async logs(): Promise<string> {
    const r = await docker(['logs', this.id], { host: this.host });
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

  /** The processes in the container, as `docker top` lists them (pid/ppid on the host). */
  async top(): Promise<string> {
    return (await docker(['top', this.id, '-o', 'pid,ppid,stat,args'], { host: this.host })).stdout;
  }

  /** Waits until a process whose whole command line is `args` runs in the container. (A
   * pattern would also match PID 1's own line, `/tsinit -- sleep 1000`, before tsinit has
   * caught TERM: a stop then is dropped by the kernel, as for any PID 1 without a handler.) */
  async waitProcess(args: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // docker top insists on a pid column; the command line is the rest of the line.
      const r = await docker(['top', this.id, '-o', 'pid,args'], { host: this.host });
      if (r.stdout.split('\n').some((l) => l.trim().replace(/^\d+\s+/, '') === args)) return;
      if (Date.now() > deadline) throw new Error(`no process '${args}' in ${this.name}:\n${await this.top()}\n${await this.logs()}`);
      await sleep(100);
    }
  }

  async exec(cmd: string[], timeoutMs = 60_000): Promise<Result> {
    return docker(['exec', this.id, ...cmd], { host: this.host, timeoutMs });
  }

  /** `docker stop` (Docker's default 10 s timeout unless given); resolves with its wall time. */
  async stop(timeoutS?: number): Promise<number> {
    const r = await dockerOk(['stop', ...(timeoutS === undefined ? [] : ['-t', String(timeoutS)]), this.id], { host: this.host, timeoutMs: 60_000 });
    return r.ms / 1000;
  }

  async kill(signal: string): Promise<void> {
    await dockerOk(['kill', '-s', signal, this.id], { host: this.host });
  }

  async state(): Promise<{ Running: boolean; ExitCode: number; OOMKilled: boolean }> {
    const r = await dockerOk(['inspect', '-f', '{{json .State}}', this.id], { host: this.host });
    return JSON.parse(r.stdout) as { Running: boolean; ExitCode: number; OOMKilled: boolean };
  }

  async remove(): Promise<void> {
    live.delete(this);
    await docker(['rm', '-f', this.id], { host: this.host });
  }
}

const live = new Set<Container>();
/** For afterAll: removes every container this file started and did not remove. */
export async function removeAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.remove()));
}

/** Builds docker/<dockerfile> (context: its folder) as tag on host. */
export async function build(tag: string, dockerfile: string, host = HOST): Promise<void> {
  const file = resolve(ROOT, dockerfile);
  await dockerOk(['build', '-q', '-t', tag, '-f', file, resolve(file, '..')], { host, timeoutMs: 300_000 });
}

/** One row of docker/RESULTS.md. */
export interface Row {
  table: string;
  cells: Record<string, string>;
}

/** Writes this file's rows where global-setup's teardown collects them into docker/RESULTS.md. */
export function saveRows(file: string, rows: Row[]): void {
  const dir = resolve(STATE_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `${file}.json`), JSON.stringify(rows, null, 1));
}
