// The only file that reads argv and the environment and sets the exit code.
// A table of contents: catch signals, parse, configure, spawn, supervise; the steps follow it.
// Before the child is spawned an error may end tsinit; after, nothing but the child's end may.

import { writeSync } from 'node:fs';
import type { Config } from '../core/cli.ts';
import { decideStart, formatInternalError, logSpawned, spawnChild } from '../core/entry.ts';
import { ERRNO } from '../core/errno.ts';
import { LOG_WAIT_MS, type Logger, type WriteResult } from '../core/log.ts';
import { configureParentDeath, configureProc, configureReaping, createLog } from '../core/setup.ts';
import { FAULT_SIGNALS, formatSignal, listForwardedSignals, SIGINT, SIGTERM, SIGUSR1 } from '../core/signals.ts';
import { EXIT_FAILURE } from '../core/status.ts';
import { Supervisor } from '../core/supervisor.ts';
import { guardFaultSignals, ignoreFaultSignals, logFaultProbesTo, noteFaultSignal } from './faults.ts';
import { listInheritedFds } from './fds.ts';
import * as libc from './libc.ts';
import { schedulePageOut } from './pageout.ts';
import { createSystem, procReader } from './system.ts';

/** How often the reaper runs even without SIGCHLD (deliveries merge; this is the backstop). */
const BACKSTOP_REAP_MS = 1000;

/** The signals Node itself catches during its start-up (node.cc, PlatformInit). */
const STARTUP_STOP_SIGNALS = [SIGTERM, SIGINT];

/**
 * The supervisor of the running child, null until the child runs. Until then a caught signal
 * waits in `early` and an exception ends tsinit; from then on a signal goes to the supervisor,
 * and an exception is logged and survived, never fatal.
 */
let supervisor: Supervisor | null = null;
/** Signals that reached tsinit before the child existed, handed to the supervisor in order. */
const early: number[] = [];

/** Thrown by exitBeforeChild() and caught by the entry at the bottom, which sets the exit code. */
class EarlyExit {
  constructor(readonly code: number) {}
}

function main(): void {
  checkLibcOrExit();
  // No stdio step: Node's start-up (PlatformInit in node.cc) opened /dev/null on any of fds
  // 0-2 that was closed, as the static host's openClosedStdio does.
  // Before anything of ours opens a descriptor (catchSignals opens libuv's signal pipe):
  // what is open now came from our parent or Node.
  const inheritFds = listInheritedFds();
  // Before parsing and spawning: from here on a signal waits for the child instead of being
  // dropped (PID 1) or ending tsinit (not PID 1).
  catchSignals();
  const config = parseOrExit();
  const log = createLog(config, writeStderr);
  logFaultProbesTo(log);
  configureReaping(libc, log);
  configureParentDeath(libc, config, log);
  const procTrusted = configureProc(procReader, libc, log);
  const system = createSystem(exitWith, procTrusted);
  const child = spawnOrExit(config, log, inheritFds);
  supervise(new Supervisor(config, system, log, child), config, log);
}

/** node:ffi and libc must have loaded; if not, one line and exit 1. */
function checkLibcOrExit(): void {
  if (libc.loadError === null) return;
  writeStderr(`tsinit: error: ${libc.loadError}\n`);
  exitBeforeChild(EXIT_FAILURE);
}

/** Catches every forwarded signal (libuv's signal handles: 1..31 and realtime 34..64 alike). */
function catchSignals(): void {
  const wereDefault = libc.watchSignals(listForwardedSignals(), handleSignal);
  // Node catches SIGTERM and SIGINT during its own start-up with a one-shot handler that
  // re-raises them, which PID 1 drops: a `docker stop` in those first milliseconds leaves
  // only a trace, the disposition back at SIG_DFL. Such a signal is queued like any that
  // arrives before the child exists.
  for (const sig of STARTUP_STOP_SIGNALS) if (wereDefault.includes(sig)) early.push(sig);
  guardFaultSignals();
  // SIGUSR1 is blocked from start-up by the baked --disable-sigusr1, so it can never open
  // the inspector; now that its handler is in place it is unblocked, and a pending one delivered.
  libc.unblockSignal(SIGUSR1);
}

/**
 * Ends tsinit with code. The fault signals are ignored first: process.exit() waits for
 * Node's worker threads, and one spinning in a real fault (the child often dies of the
 * SEGVs it forwards, before a probe) would hold tsinit forever; this way it dies instead.
 */
function exitWith(code: number): never {
  ignoreFaultSignals();
  return process.exit(code);
}

/** libuv's callback for a caught signal: queues or forwards it. */
function handleSignal(sig: number): void {
  try {
    if (FAULT_SIGNALS.has(sig)) noteFaultSignal();
    if (supervisor === null) early.push(sig);
    else supervisor.onSignal(sig);
  } catch (e) {
    // A callback from native code must never throw: report and go on.
    writeStderr(formatInternalError(e, `handling ${formatSignal(sig)}`));
  }
}

/** Parses argv and TSINIT_*; help, version and usage errors end tsinit here. */
function parseOrExit(): Config {
  const start = decideStart(
    process.argv.slice(2),
    process.env,
    `node ${process.version} ${process.platform}-${process.arch}`,
    writeStderr,
  );
  if (start.kind === 'print') {
    process.stdout.write(start.text);
    return exitBeforeChild(0);
  }
  if (start.kind === 'exit') return exitBeforeChild(start.code);
  return start.config;
}

/** Spawns the command; a failure ends tsinit with the core's exit code for its errno. */
function spawnOrExit(config: Config, log: Logger, inheritFds: readonly number[]): number {
  if (inheritFds.length > 0) log.log('config', `passing inherited descriptors ${inheritFds.join(' ')}`);
  const spawned = spawnChild(libc, config, log, inheritFds);
  if (spawned.kind === 'failed') return exitBeforeChild(spawned.code);
  return spawned.pid;
}

/** Hands the running child to the supervisor: signals go to it, SIGCHLD and a timer make it reap. */
function supervise(running: Supervisor, config: Config, log: Logger): void {
  // Set before anything else can throw: the child exists, so no exception may end tsinit now.
  supervisor = running;
  logSpawned(log, config, running.childPid);
  setInterval(() => running.reap(), BACKSTOP_REAP_MS);
  process.on('SIGCHLD', () => running.reap());
  for (const sig of early.splice(0)) {
    log.log('signal-detail', `${formatSignal(sig)} arrived before the child existed`);
    running.onSignal(sig);
  }
  // A child that ended before the SIGCHLD handler existed sent a signal nobody caught.
  running.reap();
  schedulePageOut(log);
}

/**
 * Ends tsinit before the child exists. Not process.exit(): that would drop a write to stdout
 * still pending (--help into a full pipe); the entry sets the code and Node exits once it is out.
 */
function exitBeforeChild(code: number): never {
  throw new EarlyExit(code);
}

/** Writes text to stderr, waiting at most waitMs for room (the logger's sink; its wait for the other lines too). */
function writeStderr(text: string, waitMs = LOG_WAIT_MS): WriteResult {
  if (libc.loadError === null) return libc.writeAll(2, text, waitMs);
  // No libc: only the one line saying so, before any child exists.
  try {
    return { errno: 0, written: writeSync(2, Buffer.from(text, 'utf8')) };
  } catch {
    return { errno: ERRNO.EIO, written: 0 };
  }
}

process.on('uncaughtException', (e) => {
  // A bug, not a condition: one line, never a stack trace on a user's terminal.
  writeStderr(formatInternalError(e));
  if (supervisor === null) process.exit(EXIT_FAILURE);
});

try {
  main();
} catch (e) {
  if (!(e instanceof EarlyExit)) throw e;
  process.exitCode = e.code;
}
