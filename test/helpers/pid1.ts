// Runs dist/tsinit as PID 1 of a fresh pid namespace (unshare --pid --fork --mount-proc) or
// directly (subreaper mode), and gives the test what it needs: lines as they arrive, the
// init's host pid to signal, and the exit. Nothing is slept on a fixed time: wait for a line.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const TSINIT = process.env.TSINIT_BIN ?? resolve(ROOT, 'dist/tsinit');
/**
 * Which host the executable under test runs on: 'static' (dist/tsinit, Duktape + musl) or
 * 'node' (dist/tsinit-node). The few assertions about the host itself (what --version names,
 * how a signal is held during start-up, the host's own descriptors) depend on it.
 */
export const HOST: 'static' | 'node' = (process.env.TSINIT_HOST as 'static' | 'node' | undefined) ?? (basename(TSINIT).startsWith('tsinit-node') ? 'node' : 'static');
export const FIXTURES = resolve(ROOT, 'test/fixtures');

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export class Run {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private waiters: (() => void)[] = [];

  constructor(command: string, args: readonly string[], opts: SpawnOptions) {
    this.proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
    this.proc.stdout?.on('data', (d: Buffer) => { this.stdout += d.toString('latin1'); this.wake(); });
    this.proc.stderr?.on('data', (d: Buffer) => { this.stderr += d.toString('latin1'); this.wake(); });
    this.exited = new Promise((res) => this.proc.on('close', (code, signal) => { this.wake(); res({ code, signal }); }));
    runs.add(this);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first match of re in stdout (or stderr with from='stderr'). */
  async waitFor(re: RegExp, timeoutMs = 10_000, from: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = (from === 'stdout' ? this.stdout : this.stderr).match(re);
      if (m) return m;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${re} in ${from}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`);
      }
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(200, Math.max(1, deadline - Date.now())));
        this.waiters.push(() => { clearTimeout(t); res(); });
      });
    }
  }

  /** Waits for the exit, failing with the output if it takes longer than timeoutMs. */
  async exit(timeoutMs = 20_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`no exit within ${timeoutMs} ms\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get output(): string {
    return `--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`;
  }
}

/** A Run of tsinit as PID 1: `unshare` is the process we spawn, tsinit its only child. */
export class Pid1Run extends Run {
  /** tsinit's pid on the host, found through unshare's children. */
  async initPid(timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const u = this.proc.pid!;
    for (;;) {
      try {
        const kids = readFileSync(`/proc/${u}/task/${u}/children`, 'latin1').trim();
        if (kids !== '') return Number(kids.split(' ')[0]);
      } catch { /* unshare not there yet or gone */ }
      if (Date.now() > deadline) throw new Error(`no init under unshare ${u}\n${this.output}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Waits until a process whose whole command line is `args` runs below tsinit (for fixtures that print nothing when ready). */
  async waitProcess(args: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const init = await this.initPid();
    for (;;) {
      const queue = [init];
      while (queue.length > 0) {
        const pid = queue.shift()!;
        try {
          if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim() === args) return;
          for (const tid of readdirSync(`/proc/${pid}/task`)) {
            queue.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ').filter(Boolean).map(Number));
          }
        } catch { /* ended while we looked */ }
      }
      if (Date.now() > deadline) throw new Error(`no process '${args}' below tsinit ${init}\n${this.output}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Sends sig (name or number) to tsinit itself, as `docker stop` would. */
  async signal(sig: NodeJS.Signals | number): Promise<void> {
    process.kill(await this.initPid(), sig);
  }
}

const runs = new Set<Run>();

/** Kills every run still alive (afterEach): nothing may leak from one test to the next. */
export function killAll(): void {
  for (const r of runs) {
    if (r.proc.exitCode === null && r.proc.signalCode === null) {
      try {
        if (r instanceof Pid1Run) {
          const u = r.proc.pid!;
          const kids = readFileSync(`/proc/${u}/task/${u}/children`, 'latin1').trim().split(' ').filter(Boolean);
          for (const k of kids) process.kill(Number(k), 'SIGKILL');
        }
        r.proc.kill('SIGKILL');
      } catch { /* already gone */ }
    }
  }
  runs.clear();
}

export interface RunOptions extends SpawnOptions {
  /** Extra arguments to unshare before the init (e.g. --user --map-root-user). */
  unshareArgs?: string[];
  /** The executable to run as the init (default dist/tsinit). */
  init?: string;
}

/** tsinit (or opts.init) as PID 1 of a new pid namespace with its own /proc. */
export function runPid1(args: readonly string[], opts: RunOptions = {}): Pid1Run {
  const { unshareArgs = [], init = TSINIT, ...spawnOpts } = opts;
  return new Pid1Run('unshare', ['--pid', '--fork', '--mount-proc', ...unshareArgs, init, ...args], spawnOpts);
}

/** tsinit run directly, not PID 1: it makes itself a child subreaper. */
export function runDirect(args: readonly string[], opts: RunOptions = {}): Run {
  const { init = TSINIT, unshareArgs: _, ...spawnOpts } = opts;
  return new Run(init, args, spawnOpts);
}

/** Runs to completion and returns exit and output. */
export async function runToEnd(args: readonly string[], opts: RunOptions & { pid1?: boolean; input?: string | Buffer } = {}): Promise<Exit & { stdout: string; stderr: string }> {
  const { pid1 = true, input, ...rest } = opts;
  const r = pid1 ? runPid1(args, rest) : runDirect(args, rest);
  if (input !== undefined) r.proc.stdin?.end(input);
  else r.proc.stdin?.end();
  const e = await r.exit();
  return { ...e, stdout: r.stdout, stderr: r.stderr };
}

export function fixture(name: string): string {
  return resolve(FIXTURES, name);
}
