// The command line and TSINIT_* environment → a Config or a usage error, as values.
// Pure: never reads process.argv/env itself and never throws for any input.
// Parsing stops at `--` or the first non-option: nothing after the command is ours.

import { formatDuration, parseDuration } from './duration.ts';
import type { LogFormat } from './log.ts';
import { formatSignal, GLIBC_RESERVED_SIGNALS, parseSignal, SIGCHLD, SIGKILL, SIGSTOP } from './signals.ts';

export interface Config {
  /** Index in the argument list (after tsinit's own name) where the command starts. */
  commandIndex: number;
  command: string[];
  verbosity: number;
  singleChild: boolean;
  drainMs: number;
  killAfterMs: number | null;
  termDelayMs: number | null;
  waitAll: boolean;
  /** tini's -w: every reaped orphan is a warning line. */
  warnOnReap: boolean;
  /** FROM → TO; TO 0 drops the signal. */
  rewrite: Map<number, number>;
  remapExit: Set<number>;
  pdeathSignal: number | null;
  logFormat: LogFormat;
}

export type CliResult =
  | { kind: 'run'; config: Config }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'usage-error'; message: string };

export const DEFAULT_DRAIN_MS = 5000;

interface OptionSpec {
  short?: string;
  long: string;
  env?: string;
  value?: string;
  help: string;
}

/** One table feeds the parser, --help, and (through a test) the README's options table. */
export const OPTIONS: readonly OptionSpec[] = [
  { short: 'h', long: 'help', help: 'Show this help and exit.' },
  { long: 'version', help: 'Show the version, the host it runs on (Duktape or Node) and the architecture.' },
  { short: 'v', long: 'verbose', env: 'TSINIT_VERBOSITY', help: 'More log lines on stderr: -v info, -vv debug (TSINIT_VERBOSITY=0..2).' },
  { short: 'c', long: 'single-child', env: 'TSINIT_SINGLE_CHILD', help: "Forward signals to the child alone, not to its process group." },
  { long: 'drain', env: 'TSINIT_DRAIN', value: 'DURATION', help: 'When the child exits, SIGTERM what is left, wait up to DURATION, then SIGKILL (default 5s; 0 exits at once). After a forwarded TERM/INT/QUIT, the group it reached and what the signalled processes start are waited for, not signalled again.' },
  { long: 'kill-after', env: 'TSINIT_KILL_AFTER', value: 'DURATION', help: 'After forwarding TERM/INT/QUIT, SIGKILL everything if the child still runs after DURATION; exit 137.' },
  { long: 'term-delay', env: 'TSINIT_TERM_DELAY', value: 'DURATION', help: 'Hold a SIGTERM for DURATION before forwarding it (a second TERM, or INT/QUIT, releases it).' },
  { long: 'wait-all', env: 'TSINIT_WAIT_ALL', help: 'When the child exits, wait for every other descendant too (double-forking daemons).' },
  { short: 'r', long: 'rewrite', env: 'TSINIT_REWRITE', value: 'FROM:TO', help: 'Forward signal FROM as TO (TO 0 drops it); repeatable, comma-separated in the variable.' },
  { short: 'e', long: 'remap-exit', env: 'TSINIT_REMAP_EXIT', value: 'CODE', help: 'Exit 0 when the exit code would be CODE; repeatable, comma-separated in the variable.' },
  { short: 'p', long: 'pdeath-signal', env: 'TSINIT_PDEATH_SIGNAL', value: 'SIG', help: "Receive SIG when tsinit's parent dies (PR_SET_PDEATHSIG) and handle it like any signal." },
  { long: 'log-format', env: 'TSINIT_LOG_FORMAT', value: 'text|json', help: 'Log lines as text (default) or one JSON object per line.' },
  { short: 'w', long: 'warn-on-reap', env: 'TSINIT_WARN_ON_REAP', help: "Log a warning for every orphan reaped (tini's -w): finds programs that leave zombies." },
  { short: 'g', long: 'tini-g', help: "Accepted for tini compatibility: group forwarding is already the default." },
  { short: 's', long: 'tini-s', help: 'Accepted for tini compatibility: tsinit is a subreaper whenever it is not PID 1.' },
];

/** The text of `tsinit --help`. */
export function formatHelp(): string {
  const lines = [
    'Usage: tsinit [options] [--] command [args...]',
    '',
    'Runs command as its child, in its own process group; forwards every catchable signal to',
    'that group, reaps every zombie, and exits with the child\'s exit code (128+n if killed by n).',
    '',
    'Options:',
  ];
  for (const o of OPTIONS) {
    if (o.long.startsWith('tini-')) continue;
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.long}${o.value ? ` ${o.value}` : ''}`;
    lines.push(`  ${flag.padEnd(30)} ${o.help}${o.env ? ` [${o.env}]` : ''}`);
  }
  lines.push('  -g, -s                         Accepted for tini compatibility (both behaviours are always on).');
  lines.push('');
  lines.push('DURATION: 500ms, 10s, 2m, 1h, or a number of seconds.  SIG: TERM, SIGTERM, 15, RTMIN+2 (1..31, 34..64).');
  lines.push('Exit codes: the child\'s; 2 usage error; 126 command not executable; 127 command not found;');
  lines.push('1 tsinit failed before starting the child.');
  return lines.join('\n') + '\n';
}

type Mutable = Omit<Config, 'commandIndex' | 'command'>;

function defaults(): Mutable {
  return {
    verbosity: 0,
    singleChild: false,
    drainMs: DEFAULT_DRAIN_MS,
    killAfterMs: null,
    termDelayMs: null,
    waitAll: false,
    warnOnReap: false,
    rewrite: new Map(),
    remapExit: new Set(),
    pdeathSignal: null,
    logFormat: 'text',
  };
}

class UsageError {
  constructor(readonly message: string) {}
}

/** Text from the user as an error shows it: control characters as \xNN, so a newline or an escape sequence cannot split the line or drive the terminal. */
function shown(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function invalid(where: string, value: string, expected: string): UsageError {
  return new UsageError(`invalid value for ${where}: '${shown(value)}' (${expected})`);
}

function durationOf(where: string, value: string): number {
  const d = parseDuration(value);
  if (!d.ok) throw invalid(where, value, d.reason);
  return d.ms;
}

function signalOf(where: string, value: string): number {
  const sig = parseSignal(value);
  if (sig !== undefined) return sig;
  if (/^\s*\d+\s*$/.test(value) && GLIBC_RESERVED_SIGNALS.indexOf(Number(value)) >= 0) {
    throw invalid(where, value, 'signals 32 and 33 are reserved by glibc for its threads; expected 1..31 or 34..64, e.g. TERM, 15, RTMIN+1');
  }
  throw invalid(where, value, 'expected a signal name or number 1..31 or 34..64, e.g. TERM, SIGTERM, 15');
}

function addRewrite(cfg: Mutable, where: string, value: string): void {
  const parts = value.split(':');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw invalid(where, value, 'expected FROM:TO, e.g. TERM:QUIT or 15:0');
  }
  const from = signalOf(where, parts[0]!);
  if (from === SIGKILL || from === SIGSTOP || from === SIGCHLD) {
    throw invalid(where, value, `${formatSignal(from)} never reaches tsinit as a request to forward`);
  }
  const to = parts[1]!.trim() === '0' ? 0 : signalOf(where, parts[1]!);
  cfg.rewrite.set(from, to);
}

function addRemap(cfg: Mutable, where: string, value: string): void {
  if (!/^\d{1,3}$/.test(value.trim()) || Number(value) > 255) {
    throw invalid(where, value, 'expected an exit code 0..255');
  }
  cfg.remapExit.add(Number(value));
}

function booleanOf(where: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['', '0', 'false', 'no', 'off'].includes(v)) return false;
  throw invalid(where, value, 'expected 1/0, true/false, yes/no, on/off');
}

function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Applies TSINIT_* variables; the command line then overrides them. */
function applyEnv(cfg: Mutable, env: Readonly<Record<string, string | undefined>>): void {
  const get = (name: string): string | undefined => env[name];
  const verbosity = get('TSINIT_VERBOSITY');
  if (verbosity !== undefined && verbosity !== '') {
    if (!/^\d$/.test(verbosity.trim())) throw invalid('TSINIT_VERBOSITY', verbosity, 'expected 0, 1 or 2 (higher counts as 2)');
    cfg.verbosity = Number(verbosity);
  }
  const single = get('TSINIT_SINGLE_CHILD');
  if (single !== undefined) cfg.singleChild = booleanOf('TSINIT_SINGLE_CHILD', single);
  const waitAll = get('TSINIT_WAIT_ALL');
  if (waitAll !== undefined) cfg.waitAll = booleanOf('TSINIT_WAIT_ALL', waitAll);
  const warn = get('TSINIT_WARN_ON_REAP');
  if (warn !== undefined) cfg.warnOnReap = booleanOf('TSINIT_WARN_ON_REAP', warn);
  const drain = get('TSINIT_DRAIN');
  if (drain !== undefined && drain !== '') cfg.drainMs = durationOf('TSINIT_DRAIN', drain);
  const killAfter = get('TSINIT_KILL_AFTER');
  if (killAfter !== undefined && killAfter !== '') cfg.killAfterMs = durationOf('TSINIT_KILL_AFTER', killAfter);
  const termDelay = get('TSINIT_TERM_DELAY');
  if (termDelay !== undefined && termDelay !== '') cfg.termDelayMs = durationOf('TSINIT_TERM_DELAY', termDelay);
  const rewrite = get('TSINIT_REWRITE');
  if (rewrite !== undefined) for (const pair of splitList(rewrite)) addRewrite(cfg, 'TSINIT_REWRITE', pair);
  const remap = get('TSINIT_REMAP_EXIT');
  if (remap !== undefined) for (const code of splitList(remap)) addRemap(cfg, 'TSINIT_REMAP_EXIT', code);
  const pdeath = get('TSINIT_PDEATH_SIGNAL');
  if (pdeath !== undefined && pdeath !== '') cfg.pdeathSignal = signalOf('TSINIT_PDEATH_SIGNAL', pdeath);
  const format = get('TSINIT_LOG_FORMAT');
  if (format !== undefined && format !== '') cfg.logFormat = logFormatOf('TSINIT_LOG_FORMAT', format);
}

function logFormatOf(where: string, value: string): LogFormat {
  if (value === 'text' || value === 'json') return value;
  throw invalid(where, value, 'expected text or json');
}

/** Applies one option that takes a value. */
function applyValue(cfg: Mutable, spec: OptionSpec, where: string, value: string): void {
  switch (spec.long) {
    case 'drain': cfg.drainMs = durationOf(where, value); break;
    case 'kill-after': cfg.killAfterMs = durationOf(where, value); break;
    case 'term-delay': cfg.termDelayMs = durationOf(where, value); break;
    case 'rewrite': addRewrite(cfg, where, value); break;
    case 'remap-exit': addRemap(cfg, where, value); break;
    case 'pdeath-signal': cfg.pdeathSignal = signalOf(where, value); break;
    case 'log-format': cfg.logFormat = logFormatOf(where, value); break;
  }
}

/** Applies one flag; returns 'help'/'version' when parsing should stop there. */
function applyFlag(cfg: Mutable, spec: OptionSpec): 'help' | 'version' | undefined {
  switch (spec.long) {
    case 'help': return 'help';
    case 'version': return 'version';
    case 'verbose': cfg.verbosity++; break;
    case 'single-child': cfg.singleChild = true; break;
    case 'wait-all': cfg.waitAll = true; break;
    case 'warn-on-reap': cfg.warnOnReap = true; break;
  }
  return undefined;
}

/** Parses tsinit's arguments (without its own name) and environment. Never throws. */
export function parseCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): CliResult {
  try {
    return parseOrThrow(args, env);
  } catch (e) {
    if (e instanceof UsageError) return { kind: 'usage-error', message: e.message };
    return { kind: 'usage-error', message: `cannot parse the command line: ${String(e)}` };
  }
}

function parseOrThrow(args: readonly string[], env: Readonly<Record<string, string | undefined>>): CliResult {
  const cfg = defaults();
  applyEnv(cfg, env);
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') { i++; break; }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = OPTIONS.find((o) => o.long === name && !o.long.startsWith('tini-'));
      if (!spec) throw new UsageError(`unknown option '--${shown(name)}' (try 'tsinit --help')`);
      if (spec.value === undefined) {
        if (eq >= 0) throw new UsageError(`option '--${name}' takes no value (got '${shown(arg.slice(eq + 1))}')`);
        const stop = applyFlag(cfg, spec);
        if (stop) return { kind: stop };
        continue;
      }
      let value: string;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < args.length) value = args[++i]!;
      else throw new UsageError(`option '--${name}' needs a value: ${spec.value}`);
      applyValue(cfg, spec, `--${name}`, value);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // A cluster of short options, getopt style: `-vvc`, `-rTERM:QUIT`, `-r TERM:QUIT`.
      for (let j = 1; j < arg.length; j++) {
        const ch = arg[j]!;
        const spec = OPTIONS.find((o) => o.short === ch);
        if (!spec) throw new UsageError(`unknown option '-${shown(ch)}' (try 'tsinit --help')`);
        if (spec.value === undefined) {
          const stop = applyFlag(cfg, spec);
          if (stop) return { kind: stop };
          continue;
        }
        let value: string;
        if (j + 1 < arg.length) value = arg.slice(j + 1);
        else if (i + 1 < args.length) value = args[++i]!;
        else throw new UsageError(`option '-${ch}' needs a value: ${spec.value}`);
        applyValue(cfg, spec, `-${ch}`, value);
        break;
      }
      continue;
    }
    break;
  }
  const command = args.slice(i);
  if (command.length === 0) throw new UsageError("no command given (usage: tsinit [options] [--] command [args...])");
  return { kind: 'run', config: { ...cfg, commandIndex: i, command } };
}

/** For -v logs: the effective settings in one line. */
export function describeConfig(cfg: Config): string {
  const parts = [`drain=${formatDuration(cfg.drainMs)}`];
  if (cfg.killAfterMs !== null) parts.push(`kill-after=${formatDuration(cfg.killAfterMs)}`);
  if (cfg.termDelayMs !== null) parts.push(`term-delay=${formatDuration(cfg.termDelayMs)}`);
  if (cfg.waitAll) parts.push('wait-all');
  if (cfg.singleChild) parts.push('single-child');
  for (const [from, to] of cfg.rewrite) parts.push(`rewrite ${formatSignal(from)}→${to === 0 ? 'drop' : formatSignal(to)}`);
  return parts.join(' ');
}
