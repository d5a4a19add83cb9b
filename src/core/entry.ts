// The steps both hosts' mains share: parse (help, version, a usage error), spawn (and the
// line and exit code of a spawn that failed), the line of an internal error. Each returns what
// to do; only a host's main writes to stdout and exits.
import { formatHelp, parseCli, type Config } from './cli.ts';
import { errnoName } from './errno.ts';
import type { HostLibc } from './host.ts';
import { LOG_WAIT_MS, type Logger, type LogSink } from './log.ts';
import { describeSpawnFailure, EXIT_USAGE } from './status.ts';
import { childTakesTerminal } from './terminal.ts';

declare const TSINIT_VERSION: string | undefined;
/** The release's version (the build defines it), or `dev`. */
const VERSION = typeof TSINIT_VERSION === 'string' ? TSINIT_VERSION : 'dev';

/** What parsing leaves a main to do: run the config, print text on stdout and exit 0 (or 1 if it cannot), or exit with code. */
export type Start = { kind: 'run'; config: Config } | { kind: 'print'; text: string } | { kind: 'exit'; code: number };

/**
 * Parses argv and TSINIT_*: help and version become text to print (runtime names the host in
 * the version line), a usage error its line on stderr, written here, and EXIT_USAGE.
 */
export function decideStart(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  runtime: string,
  writeStderr: LogSink,
): Start {
  const parsed = parseCli(args, env);
  if (parsed.kind === 'help') return { kind: 'print', text: formatHelp() };
  if (parsed.kind === 'version') return { kind: 'print', text: `tsinit version ${VERSION} - ${runtime}\n` };
  if (parsed.kind === 'usage-error') {
    writeStderr(`tsinit: error: ${parsed.message}\n`, LOG_WAIT_MS);
    return { kind: 'exit', code: EXIT_USAGE };
  }
  return { kind: 'run', config: parsed.config };
}

/** A running child, or the exit code of a spawn that failed (its line logged). */
export type Spawned = { kind: 'running'; pid: number } | { kind: 'failed'; code: number };

/** The calls spawnChild needs. */
export type SpawnCalls = Pick<HostLibc, 'isatty' | 'tcgetpgrp' | 'getpgrp' | 'spawn' | 'describeErrno'>;

/** Spawns the command, handing it the terminal when it should take it; a failure logs the core's line for its errno. */
export function spawnChild(calls: SpawnCalls, config: Config, log: Logger, inheritFds: readonly number[]): Spawned {
  const takeTerminal = childTakesTerminal(calls.isatty(0), calls.tcgetpgrp(0), calls.getpgrp());
  const result = calls.spawn({ command: config.command, commandIndex: config.commandIndex, takeTerminal, inheritFds });
  if (result.terminalRefused !== undefined)
    log.log('terminal', `spawn with the terminal failed (${errnoName(result.terminalRefused)}); retrying without`);
  if ('pid' in result) return { kind: 'running', pid: result.pid };
  const failure = describeSpawnFailure(config.command[0], result.errno, calls.describeErrno(result.errno));
  log.log('error', failure.message, { code: failure.code });
  return { kind: 'failed', code: failure.code };
}

/** The child runs: its line (info). */
export function logSpawned(log: Logger, config: Config, pid: number): void {
  log.log('spawn', `spawned pid ${pid}: ${config.command.join(' ')}`, { pid, argv: config.command });
}

/** A bug or out of memory, not a condition: its one line (never a stack trace); context says where, e.g. `handling SIGTERM`. */
export function formatInternalError(e: unknown, context?: string): string {
  const message = e instanceof Error ? e.message : String(e);
  return `tsinit: error: internal error${context === undefined ? '' : ` ${context}`}: ${message}\n`;
}
