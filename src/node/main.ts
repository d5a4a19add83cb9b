// The only file that reads argv and the environment and sets the exit code.
// A table of contents: catch signals, parse, configure, spawn, supervise; the steps follow it.
// Before the child is spawned an error may end tsinit; after, nothing but the child's end may.

import { readFileSync, writeSync } from 'node:fs';
import { formatHelp, parseCli, type Config } from '../core/cli.ts';
import { ERRNO, errnoName } from '../core/errno.ts';
import * as libc from './libc.ts';
import { LOG_WAIT_MS, type Logger, type WriteResult } from '../core/log.ts';
import { configureParentDeath, configureProc, configureReaping, createLog } from '../core/setup.ts';
import { FAULT_SIGNALS, formatSignal, listForwardedSignals, SIGINT, SIGTERM, SIGUSR1 } from '../core/signals.ts';
import { describeSpawnFailure, EXIT_FAILURE, EXIT_USAGE } from '../core/status.ts';
import { Supervisor } from '../core/supervisor.ts';
import { childTakesTerminal } from '../core/terminal.ts';
import { createSystem, listInheritedFds, pageOutExecutable, procReader } from './system.ts';

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
  activeLog = log;
  configureReaping(libc, log);
  configureParentDeath(libc, config, log);
  const procTrusted = configureProc(procReader, libc, log);
  const child = spawnOrExit(config, log, inheritFds);
  supervise(config, log, child, procTrusted);
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
 * Fault signals (ILL, TRAP, BUS, FPE, SEGV). Sent with kill(2) they are requests to forward;
 * raised by the CPU they are a bug in tsinit, which must end it rather than spin (a handler
 * that returns re-executes the faulting instruction). The kernel tells the two apart: a real
 * fault is aimed at the faulting thread and, if that thread blocks or ignores the signal, is
 * forced to its default action (kernel/signal.c, force_sig_info_to_task); a kill()-sent one
 * is aimed at the process and taken by any thread that does not block it. So the JS thread
 * (our code, V8's compiled code, the main GC) blocks them, and a real fault there ends
 * tsinit at once. Node's other threads (V8's worker and delayed-task threads, made during
 * start-up before any of our code runs, so their masks are out of our reach; their SigBlk
 * holds only SIGUSR1) leave them unblocked: a kill()-sent one lands there, libuv's handler
 * tells the loop, and it is forwarded. That handler stays installed (no SA_RESETHAND, which
 * let a second one arrive at SIG_DFL and end tsinit), so none can, however fast they come.
 * A real fault on one of those threads would spin, and the loop hear of it thousands of
 * times a second: past FAULT_BURST_PER_S, the fault signals are ignored for FAULT_PROBE_MS,
 * so that a faulting thread dies at its next fault; kill()-sent ones in that window are
 * dropped, never fatal.
 */
const FAULT_BURST_PER_S = 1000;
const FAULT_PROBE_MS = 100;
/** libuv's handlers for the fault signals, put back after a probe. */
const faultActions = new Map<number, bigint>();
let faultWindowStart = 0;
let faultsInWindow = 0;
let probingFaults = false;
/** The logger once there is one: a probe says so. */
let activeLog: Logger | null = null;

/** Blocks the fault signals in the JS thread and keeps libuv's handlers for them (see above). */
function guardFaultSignals(): void {
  libc.blockSignalsInThisThread(FAULT_SIGNALS);
  for (const sig of FAULT_SIGNALS) {
    const act = libc.saveAction(sig);
    if (act !== null) faultActions.set(sig, act);
  }
}

/** Counts a fault signal; past FAULT_BURST_PER_S within a second, ignores them all for FAULT_PROBE_MS. */
function noteFaultSignal(): void {
  const now = performance.now();
  if (now - faultWindowStart >= 1000) { faultWindowStart = now; faultsInWindow = 0; }
  if (++faultsInWindow <= FAULT_BURST_PER_S || probingFaults) return;
  probingFaults = true;
  // Logged first: if a thread is faulting, tsinit ends as the signals are ignored.
  activeLog?.log('warning', `fault signals arriving faster than ${FAULT_BURST_PER_S}/s: ignored for ${FAULT_PROBE_MS} ms, in case one of tsinit's threads is faulting`);
  ignoreFaultSignals();
  setTimeout(() => {
    for (const [sig, act] of faultActions) libc.restoreAction(sig, act);
    probingFaults = false;
    faultWindowStart = performance.now();
    faultsInWindow = 0;
  }, FAULT_PROBE_MS).unref();
}

/** Sets the fault signals to SIG_IGN: a thread spinning in a real fault dies at its next one. */
function ignoreFaultSignals(): void {
  for (const sig of faultActions.keys()) libc.ignoreSignal(sig);
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
function supervise(config: Config, log: Logger, child: number, procTrusted: boolean): void {
  const supervisor = new Supervisor(config, createSystem(exitWith, procTrusted), log, child);
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
