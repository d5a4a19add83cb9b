// The only file that reads argv and the environment and sets the exit code.
// A table of contents: catch signals, parse, configure, spawn, supervise, exit.
// Before the child is spawned an error may end tsinit; after, nothing but the child's end may.

import { readFileSync, writeSync } from 'node:fs';
import { describeConfig, formatHelp, parseCli, type Config } from '../core/cli.ts';
import { errnoName } from '../core/errno.ts';
import * as libc from './libc.ts';
import { createLogger, type Logger } from '../core/log.ts';
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
let onSignal: (sig: number) => void = (sig) => { early.push(sig); };

/**
 * Catches every forwarded signal through libuv's signal handles (1..31 and the realtime
 * 34..64 alike). SIGUSR1 is blocked from start-up by the baked --disable-sigusr1, so it can
 * never open the inspector; once its handler is in place it is unblocked, and a pending one
 * is delivered. Node catches SIGTERM and SIGINT during its own start-up with a one-shot
 * handler that re-raises them, which PID 1 drops: a `docker stop` in those first
 * milliseconds leaves only a trace, the disposition back at SIG_DFL. Such a signal is
 * queued like any that arrives before the child exists. The fault signals get one-shot
 * handlers (libc.armOneShot): forwarded when sent with kill, fatal when real.
 */
function catchSignals(): void {
  const wereDefault = libc.watchSignals(listForwardedSignals(), (sig) => {
    try {
      libc.rearmOneShot(sig);
      onSignal(sig);
    } catch (e) {
      // A callback from native code must never throw: report and go on.
      writeStderr(`tsinit: error: internal error handling ${formatSignal(sig)}: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  });
  for (const sig of STARTUP_STOP_SIGNALS) if (wereDefault.includes(sig)) early.push(sig);
  for (const sig of FAULT_SIGNALS) libc.armOneShot(sig);
  libc.unblockSignal(SIGUSR1);
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

function writeStderr(line: string): boolean {
  if (libc.loadError !== null) {
    try { writeSync(2, line); return true; } catch { return false; }
  }
  return libc.writeAll(2, Buffer.from(line, 'utf8')) === 0;
}

function spawnChild(config: Config, log: Logger, inheritFds: readonly number[]): number | { code: number; message: string } {
  const argv = readRawArgs(config.command.length, config.command);
  const takeTerminal = childTakesTerminal(libc.isatty(0), libc.tcgetpgrp(0), libc.getpgrp());
  let result = libc.spawn({ argv, takeTerminal, inheritFds });
  if ('errno' in result && takeTerminal) {
    // The terminal hand-off can fail (not our controlling terminal): run without it.
    log.log('terminal', `spawn with the terminal failed (${errnoName(result.errno)}); retrying without`);
    result = libc.spawn({ argv, takeTerminal: false, inheritFds });
  }
  if ('errno' in result) return describeSpawnFailure(config.command[0]!, result.errno, libc.describeErrno(result.errno));
  return result.pid;
}

function main(): void {
  if (libc.loadError !== null) {
    writeStderr(`tsinit: error: ${libc.loadError}\n`);
    process.exitCode = EXIT_FAILURE;
    return;
  }
  // Before anything of ours opens a descriptor: what is open now came from our parent or Node.
  const inheritFds = listInheritedFds();
  catchSignals();
  const parsed = parseCli(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') { process.stdout.write(formatHelp()); return; }
  if (parsed.kind === 'version') {
    process.stdout.write(`tsinit version ${VERSION} - node ${process.version} ${process.platform}-${process.arch}\n`);
    return;
  }
  if (parsed.kind === 'usage-error') {
    writeStderr(`tsinit: error: ${parsed.message}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  const config = parsed.config;
  const log = createLogger(config.logFormat, config.verbosity, writeStderr);
  log.log('config', describeConfig(config));

  const pid = libc.getpid();
  if (pid !== 1) {
    const err = libc.becomeSubreaper();
    if (err === 0) log.log('subreaper', `not PID 1 (pid ${pid}): registered as a child subreaper`);
    else log.log('warning', `not PID 1 and cannot become a subreaper: ${libc.describeErrno(err)}; orphans will not be reaped`);
  }
  if (config.pdeathSignal !== null) {
    const err = libc.setParentDeathSignal(config.pdeathSignal);
    if (err !== 0) log.log('warning', `cannot set the parent-death signal: ${libc.describeErrno(err)}`);
  }

  if (inheritFds.length > 0) log.log('config', `passing inherited descriptors ${inheritFds.join(' ')}`);
  const spawned = spawnChild(config, log, inheritFds);
  if (typeof spawned !== 'number') {
    log.log('error', spawned.message, { code: spawned.code });
    process.exitCode = spawned.code;
    return;
  }
  childRunning = true;
  log.log('spawn', `spawned pid ${spawned}: ${config.command.join(' ')}`, { pid: spawned, argv: config.command });

  const backstop = setInterval(() => supervisor.reap(), BACKSTOP_REAP_MS);
  const system = createSystem((code) => {
    clearInterval(backstop);
    process.exit(code);
  });
  const supervisor = new Supervisor(config, system, log, spawned);
  process.on('SIGCHLD', () => supervisor.reap());
  onSignal = (sig) => supervisor.onSignal(sig);
  for (const sig of early.splice(0)) {
    log.log('signal-detail', `${formatSignal(sig)} arrived before the child existed`);
    supervisor.onSignal(sig);
  }
  supervisor.reap();
  setTimeout(() => {
    const advised = pageOutExecutable();
    log.log('memory', `paged out the executable's idle pages (${advised ?? 'no /proc: 0'} mappings)`);
  }, PAGE_OUT_AFTER_MS).unref();
}

/** Set once the child runs: from then on an exception is logged and survived, never fatal. */
let childRunning = false;

process.on('uncaughtException', (e) => {
  // A bug, not a condition: one line, never a stack trace on a user's terminal.
  writeStderr(`tsinit: error: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  if (!childRunning) process.exit(EXIT_FAILURE);
});

main();
