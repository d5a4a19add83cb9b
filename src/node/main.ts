// The only file that reads argv and the environment and sets the exit code.
// A table of contents: catch signals, parse, configure, spawn, supervise; the steps follow it.
// Before the child is spawned an error may end tsinit; after, nothing but the child's end may.

import { readFileSync, writeSync } from 'node:fs';
import { formatHelp, parseCli, type Config } from '../core/cli.ts';
import { ERRNO, errnoName } from '../core/errno.ts';
import * as libc from './libc.ts';
import { LOG_WAIT_MS, type Logger, type WriteResult } from '../core/log.ts';
import { configureParentDeath, configureReaping, createLog } from '../core/setup.ts';
import { FAULT_SIGNALS, formatSignal, listForwardedSignals, SIGINT, SIGTERM, SIGUSR1 } from '../core/signals.ts';
import { describeSpawnFailure, EXIT_FAILURE, EXIT_USAGE } from '../core/status.ts';
import { Supervisor } from '../core/supervisor.ts';
import { childTakesTerminal } from '../core/terminal.ts';
import { createSystem, listInheritedFds, pageOutExecutable } from './system.ts';

declare const TSINIT_VERSION: string | undefined;
const VERSION = typeof TSINIT_VERSION === 'string' ? TSINIT_VERSION : 'dev';

/** How often the reaper runs even without SIGCHLD (deliveries merge; this is the backstop). */
const BACKSTOP_REAP_MS = 1000;
/** Once start-up is over, the executable's pages it touched are handed back (see pageOutExecutable). */
const PAGE_OUT_AFTER_MS = 500;

/** The signals Node itself catches during its start-up (node.cc, PlatformInit). */
const STARTUP_STOP_SIGNALS = [SIGTERM, SIGINT];

/** Signals that reach tsinit before the child exists wait here, then go to the child. */
const early: number[] = [];
/** Where a caught signal goes: the queue above until supervise() points it at the supervisor. */
let onSignal: (sig: number) => void = (sig) => { early.push(sig); };
/** Set once the child runs: from then on an exception is logged and survived, never fatal. */
let childRunning = false;

/** Thrown by exitBeforeChild() and caught by the entry at the bottom, which sets the exit code. */
class EarlyExit {
  constructor(readonly code: number) {}
}

function main(): void {
  checkLibcOrExit();
  // Before anything of ours opens a descriptor (catchSignals opens libuv's signal pipe):
  // what is open now came from our parent or Node.
  const inheritFds = listInheritedFds();
  // Before parsing and spawning: from here on a signal waits for the child instead of being
  // dropped (PID 1) or ending tsinit (not PID 1).
  catchSignals();
  const config = parseOrExit();
  const log = createLog(config, writeStderr);
  configureReaping(libc, log);
  configureParentDeath(libc, config, log);
  const child = spawnOrExit(config, log, inheritFds);
  supervise(config, log, child);
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
  // Fault signals get one-shot handlers (libc.armOneShot): forwarded when sent with kill, fatal when real.
  for (const sig of FAULT_SIGNALS) libc.armOneShot(sig);
  // SIGUSR1 is blocked from start-up by the baked --disable-sigusr1, so it can never open
  // the inspector; now that its handler is in place it is unblocked, and a pending one delivered.
  libc.unblockSignal(SIGUSR1);
}

/** libuv's callback for a caught signal: re-arms a one-shot handler, then queues or forwards it. */
function handleSignal(sig: number): void {
  try {
    libc.rearmOneShot(sig);
    onSignal(sig);
  } catch (e) {
    // A callback from native code must never throw: report and go on.
    writeStderr(`tsinit: error: internal error handling ${formatSignal(sig)}: ${describeError(e)}\n`);
  }
}

/** Parses argv and TSINIT_*; help, version and usage errors end tsinit here. */
function parseOrExit(): Config {
  const parsed = parseCli(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') { process.stdout.write(formatHelp()); return exitBeforeChild(0); }
  if (parsed.kind === 'version') {
    process.stdout.write(`tsinit version ${VERSION} - node ${process.version} ${process.platform}-${process.arch}\n`);
    return exitBeforeChild(0);
  }
  if (parsed.kind === 'usage-error') {
    writeStderr(`tsinit: error: ${parsed.message}\n`);
    return exitBeforeChild(EXIT_USAGE);
  }
  return parsed.config;
}

/** Spawns the command; a failure ends tsinit with the core's exit code for its errno. */
function spawnOrExit(config: Config, log: Logger, inheritFds: readonly number[]): number {
  if (inheritFds.length > 0) log.log('config', `passing inherited descriptors ${inheritFds.join(' ')}`);
  const result = spawnCommand(config, log, inheritFds);
  if ('errno' in result) return exitSpawnFailed(config, log, result.errno);
  // Set before anything else can throw: the child exists, so no exception may end tsinit now.
  childRunning = true;
  log.log('spawn', `spawned pid ${result.pid}: ${config.command.join(' ')}`, { pid: result.pid, argv: config.command });
  return result.pid;
}

/** posix_spawnp of the command's raw bytes, handing it the terminal when it should take it. */
function spawnCommand(config: Config, log: Logger, inheritFds: readonly number[]): { pid: number } | { errno: number } {
  const argv = readRawArgs(config.command.length, config.command);
  const takeTerminal = childTakesTerminal(libc.isatty(0), libc.tcgetpgrp(0), libc.getpgrp());
  const result = libc.spawn({ argv, takeTerminal, inheritFds });
  if (!('errno' in result) || !takeTerminal) return result;
  // The terminal hand-off can fail (not our controlling terminal): run without it.
  log.log('terminal', `spawn with the terminal failed (${errnoName(result.errno)}); retrying without`);
  return libc.spawn({ argv, takeTerminal: false, inheritFds });
}

/** The user's arguments as raw bytes: /proc/self/cmdline keeps bytes Node's decoding would replace. */
function readRawArgs(count: number, decoded: readonly string[]): Buffer[] {
  try {
    const all = readFileSync('/proc/self/cmdline');
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < all.length; i++) {
      if (all[i] === 0) { parts.push(all.subarray(start, i)); start = i + 1; }
    }
    if (parts.length >= count) return parts.slice(parts.length - count);
  } catch {
    // No /proc: fall back to Node's decoding (exact for valid UTF-8).
  }
  return decoded.map((s) => Buffer.from(s, 'utf8'));
}

/** Logs the core's message for a spawn that failed with errno and ends tsinit with the core's code. */
function exitSpawnFailed(config: Config, log: Logger, errno: number): never {
  const failure = describeSpawnFailure(config.command[0]!, errno, libc.describeErrno(errno));
  log.log('error', failure.message, { code: failure.code });
  return exitBeforeChild(failure.code);
}

/** Hands the running child to the supervisor: signals go to it, SIGCHLD and a timer make it reap. */
function supervise(config: Config, log: Logger, child: number): void {
  const supervisor = new Supervisor(config, createSystem((code) => process.exit(code)), log, child);
  setInterval(() => supervisor.reap(), BACKSTOP_REAP_MS);
  process.on('SIGCHLD', () => supervisor.reap());
  forwardSignalsTo(supervisor, log);
  // A child that ended before the SIGCHLD handler existed sent a signal nobody caught.
  supervisor.reap();
  schedulePageOut(log);
}

/** Points caught signals at the supervisor, after handing it those queued so far, in order. */
function forwardSignalsTo(supervisor: Supervisor, log: Logger): void {
  onSignal = (sig) => supervisor.onSignal(sig);
  for (const sig of early.splice(0)) {
    log.log('signal-detail', `${formatSignal(sig)} arrived before the child existed`);
    supervisor.onSignal(sig);
  }
}

/** Once start-up is over, hands back the executable's pages it touched (see pageOutExecutable). */
function schedulePageOut(log: Logger): void {
  setTimeout(() => {
    const advised = pageOutExecutable();
    log.log('memory', `paged out the executable's idle pages (${advised ?? 'no /proc: 0'} mappings)`);
  }, PAGE_OUT_AFTER_MS).unref();
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
  const data = Buffer.from(text, 'utf8');
  if (libc.loadError === null) return libc.writeAll(2, data, waitMs);
  // No libc: only the one line saying so, before any child exists.
  try { return { errno: 0, written: writeSync(2, data) }; } catch { return { errno: ERRNO.EIO, written: 0 }; }
}

/** A bug, not a condition: one line, never a stack trace on a user's terminal. */
function reportInternalError(e: unknown): void {
  writeStderr(`tsinit: error: internal error: ${describeError(e)}\n`);
}

/** An exception's message, or whatever was thrown as text. */
function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

process.on('uncaughtException', (e) => {
  reportInternalError(e);
  if (!childRunning) process.exit(EXIT_FAILURE);
});

try {
  main();
} catch (e) {
  if (!(e instanceof EarlyExit)) throw e;
  process.exitCode = e.code;
}
