// Runs dist/tsinit as PID 1 of a fresh pid namespace (unshare --pid --fork --mount-proc) or
// directly (subreaper mode), and gives the test what it needs: lines as they arrive, the
// init's host pid to signal, and the exit. Every run gets the cleaned environment unless the
// test gives one. Nothing is slept on a fixed time: wait for a line.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseSignal } from '../../src/core/signals.ts';
import { childrenOf, cmdlineOf, descendantsOf, until, WAIT_MS } from './proc.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const TSINIT = process.env.TSINIT_BIN ?? resolve(ROOT, 'dist/tsinit');
/**
 * Which host the executable under test runs on: 'static' (dist/tsinit, Duktape + musl) or
 * 'node' (dist/tsinit-node). The few assertions about the host itself (what --version names,
 * how a signal is held during start-up, the host's own descriptors) depend on it.
 */
export const HOST: 'static' | 'node' =
  (process.env.TSINIT_HOST as 'static' | 'node' | undefined) ??
  (basename(TSINIT).startsWith('tsinit-node') ? 'node' : 'static');
/**
 * dist/tsinit-linux-arm64 under qemu-user (TSINIT_BIN=test/arm64/qemu-tsinit, `npm run test:arm64`):
 * the static build, emulated. What qemu-user 7.2 cannot carry is left out where it is defined,
 * each with its reason; test/arm64/smoke.test.ts shows what qemu does instead.
 */
export const EMULATED = basename(TSINIT) === 'qemu-tsinit';
/** The platform the executable under test names in --version. */
export const PLATFORM = EMULATED ? 'linux-arm64' : 'linux-x64';
/**
 * Signals that do not reach the emulated tsinit when sent with kill(2): qemu-user takes host
 * SIGSEGV and SIGFPE for faults of the code it translates. (Realtime signals do arrive, under
 * other numbers in the guest, and leave under their own again: forwarding is exact, a rule by
 * number is not; see the rewrite case in shutdown.test.ts.)
 */
export const NOT_THROUGH_QEMU: readonly string[] = EMULATED ? ['SIGSEGV', 'SIGFPE'] : [];
/**
 * Signals that reach the emulated tsinit only while it waits in rt_sigtimedwait: qemu-user takes
 * host SIGILL and SIGBUS for itself too, and one that arrives while the guest runs code is kept
 * by qemu and never handed to the guest's sigtimedwait. Seen under load on the old build as on
 * this one (every catchable signal's test lost SIGBUS or SIGILL in about one run in four with two
 * busy loops, never once it waited); native tsinit takes them at any time (the kernel keeps them
 * pending). InitRun.signal waits for that state before it sends one of these to the emulated tsinit.
 */
export const QEMU_SENDS_WHEN_WAITING: readonly string[] = EMULATED ? ['SIGILL', 'SIGBUS'] : [];
/** rt_sigtimedwait's number on the x86-64 host that runs qemu. */
const SYS_RT_SIGTIMEDWAIT = 128;
export const FIXTURES = resolve(ROOT, 'test/fixtures');
/**
 * How late one of tsinit's timers (--kill-after, --term-delay) may fire and still be on time,
 * measured from the test's signal to the effect it waits for (the exit, the child's report).
 * Measured here (15 runs each, kill-after / term-delay, late by): static 2-4 / 1-2 ms and Node
 * 9-95 / 1-9 ms at load average 2-3; with 4 CPU hogs on the 2 cores (load 5) at most 81 / 20 ms
 * and 81 / 96 ms; with 10 hogs (load 9) at most 44 / 51 ms and 173 / 85 ms. The bound is that
 * worst case (173 ms) with a margin of more than 2x for a heavier load than was measured. One
 * bound for every such check, so a file cannot drift.
 */
export const TIMER_SLACK_MS = 400;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Variables that start with TSINIT_ but are read by a test wrapper, not by tsinit (test/arm64/qemu-tsinit). */
const WRAPPER_VARIABLES: readonly string[] = ['TSINIT_ARM64'];

/**
 * The test process's environment without what would change tsinit's behaviour behind the
 * test's back: every TSINIT_* variable (a developer's TSINIT_VERBOSITY=1 would put lines in
 * every stderr a test expects empty) and NODE_OPTIONS (vitest may set one for its workers),
 * then extra on top: a test that means to set one of them says so here.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || (k.startsWith('TSINIT_') && !WRAPPER_VARIABLES.includes(k))) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** A signal's number from its name ('SIGTERM', 'SIGRTMIN+3'): tests name signals, kill(2) wants numbers. */
export function signalNumber(name: string): number {
  const n = name.startsWith('SIG') ? parseSignal(name) : undefined;
  if (n === undefined) throw new Error(`not a signal name: '${name}'`);
  return n;
}

export class Run {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private waiters: (() => void)[] = [];

  constructor(command: string, args: readonly string[], opts: SpawnOptions) {
    this.proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts, env: opts.env ?? cleanEnv() });
    this.proc.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString('latin1');
      this.wake();
    });
    this.proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString('latin1');
      this.wake();
    });
    this.exited = new Promise((res) =>
      this.proc.on('close', (code, signal) => {
        this.wake();
        res({ code, signal });
      }),
    );
    runs.add(this);
  }

  /** Ends the child's stdin: the fixtures (signals.py, sigcount.py, `read`) exit on EOF. */
  closeStdin(): void {
    this.proc.stdin?.end();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first match of re in stdout (or stderr with from='stderr'). */
  async waitFor(re: RegExp, timeoutMs = WAIT_MS, from: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = (from === 'stdout' ? this.stdout : this.stderr).match(re);
      if (m) return m;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${re} in ${from}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`,
        );
      }
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(200, Math.max(1, deadline - Date.now())));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** Waits for the exit, failing with the output if it takes longer than timeoutMs. */
  async exit(timeoutMs = 20_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(
        () =>
          rej(new Error(`no exit within ${timeoutMs} ms\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`)),
        timeoutMs,
      );
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

/** A Run of tsinit that the test can find and signal. */
export abstract class InitRun extends Run {
  /** tsinit's pid on the host. */
  abstract initPid(timeoutMs?: number): Promise<number>;

  /** Sends sig (a name: 'SIGTERM', 'SIGRTMIN+2') to tsinit itself, as `docker stop` would. */
  async signal(sig: string): Promise<void> {
    const pid = await this.initPid();
    if (QEMU_SENDS_WHEN_WAITING.includes(sig))
      await until(
        `the emulated tsinit (${pid}) waiting in rt_sigtimedwait, to send it ${sig}`,
        () => readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0] === String(SYS_RT_SIGTIMEDWAIT),
        WAIT_MS,
        1,
      );
    process.kill(pid, signalNumber(sig));
  }
}

/** tsinit run directly: the spawned process is tsinit. */
export class DirectRun extends InitRun {
  initPid(): Promise<number> {
    return Promise.resolve(this.proc.pid!);
  }
}

/** A Run of tsinit as PID 1: `unshare` (or a wrapper that execs it) is the process we spawn, tsinit its only child. */
export class Pid1Run extends InitRun {
  /** tsinit's pid on the host, found through unshare's children (polled often: some tests signal it from its first moment). */
  async initPid(timeoutMs = 5000): Promise<number> {
    const u = this.proc.pid!;
    let init: number | undefined;
    await until(
      () => `no init under unshare ${u}\n${this.output}`,
      () => (init = childrenOf(u)[0]) !== undefined,
      timeoutMs,
      5,
    );
    return init!;
  }

  /** Waits until a process whose whole command line is `args` runs below tsinit (for fixtures that print nothing when ready). */
  async waitProcess(args: string, timeoutMs = WAIT_MS): Promise<void> {
    const init = await this.initPid();
    await until(
      () => `no process '${args}' below tsinit ${init}\n${this.output}`,
      () => descendantsOf(init).some((p) => cmdlineOf(p.pid) === args),
      timeoutMs,
      10,
    );
  }
}

const runs = new Set<Run>();

/** Kills every run still alive (afterEach): nothing may leak from one test to the next. */
export function killAll(): void {
  for (const r of runs) {
    if (r.proc.exitCode === null && r.proc.signalCode === null) {
      try {
        if (r instanceof Pid1Run) for (const k of childrenOf(r.proc.pid!)) process.kill(k, 'SIGKILL');
        r.proc.kill('SIGKILL');
      } catch {
        /* already gone */
      }
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
export function runDirect(args: readonly string[], opts: RunOptions = {}): DirectRun {
  const { init = TSINIT, unshareArgs: _, ...spawnOpts } = opts;
  return new DirectRun(init, args, spawnOpts);
}

/** tsinit as PID 1 (the default) or directly, as opts.pid1 says. */
export function runInit(args: readonly string[], opts: RunOptions & { pid1?: boolean } = {}): InitRun {
  const { pid1 = true, ...rest } = opts;
  return pid1 ? runPid1(args, rest) : runDirect(args, rest);
}

/** Runs to completion (stdin is input, or closed at once) and returns exit and output. */
export async function runToEnd(
  args: readonly string[],
  opts: RunOptions & { pid1?: boolean; input?: string | Buffer } = {},
): Promise<Exit & { stdout: string; stderr: string }> {
  const { input, ...rest } = opts;
  const r = runInit(args, rest);
  r.proc.stdin?.end(input);
  const e = await r.exit();
  return { ...e, stdout: r.stdout, stderr: r.stderr };
}

export function fixture(name: string): string {
  return resolve(FIXTURES, name);
}

export interface HandlerStop {
  code: number | null;
  handlerSeconds: number | null;
  output: string;
}

/**
 * test/fixtures/handler-app.sh in shell form (`sh -c`) as PID 1 under the init (tsinit unless
 * opts.init; initArgs end with `--`), TERMed as `docker stop` does once it runs: how long its
 * handler's `sleep 1` ran between its two timestamps (null: cut short), and the exit status.
 */
export async function stopHandlerApp(initArgs: readonly string[], opts: RunOptions = {}): Promise<HandlerStop> {
  const r = runPid1([...initArgs, 'sh', '-c', fixture('handler-app.sh')], opts);
  await r.waitProcess('sleep 100');
  await r.signal('SIGTERM');
  const e = await r.exit();
  const start = /^start (\d+\.\d+)$/m.exec(r.stdout);
  const done = /^done (\d+\.\d+)$/m.exec(r.stdout);
  const handlerSeconds = start && done ? Number(done[1]) - Number(start[1]) : null;
  return { code: e.code, handlerSeconds, output: `exit ${e.code}, handler took ${handlerSeconds} s\n${r.output}` };
}
