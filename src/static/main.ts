// The static host's entry: the only file that reads argv and the environment and exits.
// A table of contents: parse, configure, spawn, supervise; the steps follow it. Every signal
// has been blocked since host.c's main(), so one that arrives before the child exists waits
// in the kernel for the loop. Before the child is spawned an error may end tsinit; after,
// nothing but its end may.

import './polyfill.ts';
import type { Config } from '../core/cli.ts';
import { decideStart, formatInternalError, logSpawned, spawnChild } from '../core/entry.ts';
import { LOG_WAIT_MS, type Logger, type WriteResult } from '../core/log.ts';
import { configureParentDeath, configureProc, configureReaping, createLog } from '../core/setup.ts';
import { EXIT_FAILURE } from '../core/status.ts';
import { Supervisor } from '../core/supervisor.ts';
import * as libc from './libc.ts';
import { Loop } from './loop.ts';
import { createSystem, procReader } from './system.ts';

function main(): never {
  // No signal step: host.c's main() blocked every signal before the engine started.
  // Before anything opens a descriptor: a closed 0-2 would be taken by it.
  libc.openClosedStdio();
  const config = parseOrExit();
  const log = createLog(config, writeStderr);
  configureReaping(libc, log);
  configureParentDeath(libc, config, log);
  const procTrusted = configureProc(procReader, libc, log);
  // Built before the spawn: after it, only the supervisor's fields are set before the loop runs.
  const loop = new Loop();
  const system = createSystem(loop, procTrusted);
  const child = spawnOrExit(config, log);
  return supervise(loop, new Supervisor(config, system, log, child));
}

/** Parses argv and TSINIT_*; help, version and usage errors end tsinit here. */
function parseOrExit(): Config {
  const start = decideStart(
    libc.readArgs(),
    libc.readTsinitEnv(),
    `duktape ${libc.ENGINE_VERSION} musl static linux-${libc.ARCH}`,
    writeStderr,
  );
  if (start.kind === 'print') return printAndExit(start.text);
  if (start.kind === 'exit') return libc.exit(start.code);
  return start.config;
}

/** --help and --version: exit 0 once the text is written, 1 with one line if it could not be (out of memory, a closed stdout). */
function printAndExit(text: string): never {
  const r = libc.writeAll(1, text, libc.WAIT_FOREVER);
  if (r.errno === 0) return libc.exit(0);
  writeStderr(`tsinit: error: cannot write to stdout: ${libc.describeErrno(r.errno)}\n`);
  return libc.exit(EXIT_FAILURE);
}

/** Spawns the command (the exact bytes of tsinit's argv); a failure ends tsinit with the core's exit code for its errno. */
function spawnOrExit(config: Config, log: Logger): number {
  // No descriptors to list: the child keeps every one tsinit holds without close-on-exec.
  const spawned = spawnChild(libc, config, log, []);
  if (spawned.kind === 'failed') return libc.exit(spawned.code);
  // The child runs: from here on nothing may end tsinit, a failed log line included, and a fault
  // signal is the loop's to forward (until now a fault ended tsinit with one line).
  libc.childRuns();
  try {
    logSpawned(log, config, spawned.pid);
  } catch (e) {
    reportInternalError(e);
  }
  return spawned.pid;
}

/** Runs tini's loop for good with the supervisor of the running child: signals, reaping, timers. */
function supervise(loop: Loop, supervisor: Supervisor): never {
  return loop.run({
    onSignal: (sig) => supervisor.onSignal(sig),
    reap: () => supervisor.reap(),
    // After the spawn nothing may end tsinit: the loop goes on.
    onError: reportInternalError,
  });
}

/** Writes text to stderr, waiting at most waitMs for room (the logger's sink; its wait for the other lines too). */
function writeStderr(text: string, waitMs = LOG_WAIT_MS): WriteResult {
  return libc.writeAll(2, text, waitMs);
}

/**
 * A bug or out of memory, not a condition: one line, never a stack trace on a user's terminal.
 * Never throws (the loop calls it after the spawn): false when the line could not be written,
 * or not even built for want of memory.
 */
function reportInternalError(e: unknown): boolean {
  try {
    return writeStderr(formatInternalError(e)).errno === 0;
  } catch {
    return false;
  }
}

try {
  main();
} catch (e) {
  // Reachable before the child exists, or from the Supervisor's constructor (field
  // assignments, run by every unit test): past that, the loop catches. One line, exit 1; if
  // that line cannot be written (out of memory), host.c writes one of its own.
  if (!reportInternalError(e)) throw e;
  libc.exit(EXIT_FAILURE);
}
