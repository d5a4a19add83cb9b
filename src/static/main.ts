// The static host's entry: the only file that reads argv and the environment and exits.
// A table of contents: parse, configure, spawn, loop. Every signal has been blocked since
// host.c's main(), so one that arrives before the child exists waits in the kernel for the
// loop. Before the child is spawned an error may end tsinit; after, nothing but its end may.

import './polyfill.ts';
import { describeConfig, formatHelp, parseCli, type Config } from '../core/cli.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { describeSpawnFailure, EXIT_FAILURE, EXIT_USAGE } from '../core/status.ts';
import { Supervisor } from '../core/supervisor.ts';
import { childTakesTerminal } from '../core/terminal.ts';
import * as libc from './libc.ts';
import { Loop } from './loop.ts';
import { createSystem } from './system.ts';

declare const TSINIT_VERSION: string | undefined;
const VERSION = typeof TSINIT_VERSION === 'string' ? TSINIT_VERSION : 'dev';

function writeStderr(line: string): boolean {
  return libc.writeAll(2, line) === 0;
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Parses argv and TSINIT_*; help, version and usage errors end tsinit here. */
function parseOrExit(): Config {
  const parsed = parseCli(libc.readArgs(), libc.readTsinitEnv());
  if (parsed.kind === 'help') { libc.writeAll(1, formatHelp()); return libc.exit(0); }
  if (parsed.kind === 'version') {
    libc.writeAll(1, `tsinit version ${VERSION} - duktape ${libc.ENGINE_VERSION} musl static linux-${libc.ARCH}\n`);
    return libc.exit(0);
  }
  if (parsed.kind === 'usage-error') {
    writeStderr(`tsinit: error: ${parsed.message}\n`);
    return libc.exit(EXIT_USAGE);
  }
  return parsed.config;
}

/** Not PID 1: become a subreaper so orphans still come to us. */
function configureReaping(log: Logger): void {
  const pid = libc.getpid();
  if (pid === 1) return;
  const err = libc.becomeSubreaper();
  if (err === 0) log.log('subreaper', `not PID 1 (pid ${pid}): registered as a child subreaper`);
  else log.log('warning', `not PID 1 and cannot become a subreaper: ${libc.describeErrno(err)}; orphans will not be reaped`);
}

function configureParentDeath(config: Config, log: Logger): void {
  if (config.pdeathSignal === null) return;
  const err = libc.setParentDeathSignal(config.pdeathSignal);
  if (err !== 0) log.log('warning', `cannot set the parent-death signal: ${libc.describeErrno(err)}`);
}

/** Spawns the command; a failure ends tsinit with the core's exit code for its errno. */
function spawnOrExit(config: Config, log: Logger): number {
  const argIndex = 1 + config.commandIndex;
  const takeTerminal = childTakesTerminal(libc.isatty(0), libc.tcgetpgrp(0), libc.getpgrp());
  const result = libc.spawn(argIndex, takeTerminal);
  if ('pid' in result) {
    log.log('spawn', `spawned pid ${result.pid}: ${config.command.join(' ')}`, { pid: result.pid, argv: config.command });
    return result.pid;
  }
  const failure = describeSpawnFailure(config.command[0]!, result.errno, libc.describeErrno(result.errno));
  log.log('error', failure.message, { code: failure.code });
  return libc.exit(failure.code);
}

function main(): never {
  const config = parseOrExit();
  const log = createLogger(config.logFormat, config.verbosity, writeStderr);
  log.log('config', describeConfig(config));
  configureReaping(log);
  configureParentDeath(config, log);
  const child = spawnOrExit(config, log);
  const loop = new Loop();
  const supervisor = new Supervisor(config, createSystem(loop), log, child);
  return loop.run({
    onSignal: (sig) => supervisor.onSignal(sig),
    reap: () => supervisor.reap(),
    // A bug, not a condition: one line, and the init lives on.
    onError: (e) => writeStderr(`tsinit: error: internal error: ${describeError(e)}\n`),
  });
}

try {
  main();
} catch (e) {
  // Only reachable before the loop runs, so before the child exists: one line, exit 1.
  writeStderr(`tsinit: error: internal error: ${describeError(e)}\n`);
  libc.exit(EXIT_FAILURE);
}
