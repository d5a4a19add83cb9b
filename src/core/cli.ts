// The command line and TSINIT_* environment → a Config or a usage error, as values.
// Pure: never reads process.argv/env itself and never throws for any input.
// Parsing stops at `--` or the first non-option: nothing after the command is ours.
// ROWS (below) is the one place an option is described; the variables, the flags, the defaults,
// --help and the -v config line are all read from it.

import { formatDuration, parseDuration } from './duration.ts';
import { escapeControls, type LogFormat } from './log.ts';
import { formatSignal, GLIBC_RESERVED_SIGNALS, parseSignal, SIGCHLD, SIGKILL, SIGSTOP } from './signals.ts';

export interface Config {
  /** Index in the argument list (after tsinit's own name) where the command starts. */
  commandIndex: number;
  /** The program and its arguments: never empty (parseCli refuses that). */
  command: [string, ...string[]];
  verbosity: number;
  singleChild: boolean;
  drainMs: number;
  killAfterMs: number | null;
  termDelayMs: number | null;
  waitAll: boolean;
  /** tini's -w: every reaped orphan is a warning line. */
  warnOnReap: boolean;
  /** FROM → TO; TO 0 drops the signal. Read-only, like remapExit: without -r every Config shares one empty Map. */
  rewrite: ReadonlyMap<number, number>;
  remapExit: ReadonlySet<number>;
  pdeathSignal: number | null;
  /** The signal that asks for a shutdown (Docker's STOPSIGNAL): held by --term-delay, arms --kill-after, marks who the drain spares. */
  stopSignal: number;
  logFormat: LogFormat;
}

export type CliResult =
  { kind: 'run'; config: Config } | { kind: 'help' } | { kind: 'version' } | { kind: 'usage-error'; message: string };

type Settings = Omit<Config, 'commandIndex' | 'command'>;

/** A value from the user, or what is wrong with it; `part` is the piece to show when it is not the whole text. */
type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string; part?: string };

/** An option that sets the Config field K. */
type SettingOf<K extends keyof Settings> = {
  key: K;
  long: string;
  short?: string;
  /** Its twin variable; the command line wins over it. */
  env: string;
  default: Settings[K];
  /** A value or the variable → the field (given its value so far, which `list` options add to). */
  parse: (text: string, current: Settings[K]) => Parsed<Settings[K]>;
  /** The variable is a comma-separated list, parsed item by item. */
  list?: boolean;
  /** The field in the -v config line; '' leaves it out. */
  describe?: (value: Settings[K]) => string;
  help: string;
} &
  /** Takes a value, so named in --help. */
  (
    | { value: string; flag?: never }
    /** A flag: what it does to the field (its variable still goes through parse). */
    | { value?: never; flag: (current: Settings[K]) => Settings[K] }
  );
/** Any setting; a function generic in K reads one field with its own types. */
type Setting<K extends keyof Settings = keyof Settings> = { [P in K]: SettingOf<P> }[K];

/** --help and --version: parsing stops at them. */
interface Action {
  stop: 'help' | 'version';
  long: string;
  short?: string;
  help: string;
}

/** Accepted and ignored so that tini's command lines work; --help lists these in one line. */
interface Noop {
  noop: true;
  short: string;
}

type Option = Setting | Action | Noop;

/** A switch's flag turns it on (its variable may say either). */
const switchOn = (): boolean => true;

/** Every option, in --help's order; the variables are read in this order too. */
const ROWS = [
  { stop: 'help', short: 'h', long: 'help', help: 'Show this help and exit.' },
  {
    stop: 'version',
    long: 'version',
    help: 'Show the version, the host it runs on (Duktape or Node) and the architecture.',
  },
  {
    key: 'verbosity',
    short: 'v',
    long: 'verbose',
    env: 'TSINIT_VERBOSITY',
    default: 0,
    flag: (n) => n + 1 /* each -v */,
    parse: verbosityOf,
    help: 'More log lines on stderr: -v info, -vv debug (TSINIT_VERBOSITY=0..2).',
  },
  {
    key: 'singleChild',
    short: 'c',
    long: 'single-child',
    env: 'TSINIT_SINGLE_CHILD',
    default: false,
    flag: switchOn,
    parse: booleanOf,
    describe: (yes) => (yes ? 'single-child' : ''),
    help: 'Forward signals to the child alone, not to its process group.',
  },
  {
    key: 'drainMs',
    long: 'drain',
    env: 'TSINIT_DRAIN',
    value: 'DURATION',
    default: 5000,
    parse: durationOf,
    describe: (ms) => `drain=${formatDuration(ms)}`,
    help: 'When the child exits, SIGTERM what is left, wait up to DURATION, then SIGKILL (default 5s; 0 exits at once). Processes that got the stop signal, and what they started, are waited for, not signalled again.',
  },
  {
    key: 'stopSignal',
    long: 'stop-signal',
    env: 'TSINIT_STOP_SIGNAL',
    value: 'SIG',
    default: 15,
    parse: stopSignalOf,
    describe: (sig) => (sig === 15 ? '' : `stop-signal=${formatSignal(sig)}`),
    help: "The signal that asks for a shutdown, as the image's STOPSIGNAL (default TERM): --term-delay holds it, --kill-after starts with it. Other signals are only forwarded.",
  },
  {
    key: 'killAfterMs',
    long: 'kill-after',
    env: 'TSINIT_KILL_AFTER',
    value: 'DURATION',
    default: null,
    parse: durationOf,
    describe: (ms) => (ms === null ? '' : `kill-after=${formatDuration(ms)}`),
    help: 'After forwarding the stop signal, SIGKILL everything if the child still runs after DURATION; exit 137.',
  },
  {
    key: 'termDelayMs',
    long: 'term-delay',
    env: 'TSINIT_TERM_DELAY',
    value: 'DURATION',
    default: null,
    parse: durationOf,
    describe: (ms) => (ms === null ? '' : `term-delay=${formatDuration(ms)}`),
    help: 'Hold the stop signal for DURATION before forwarding it (a second one, or TERM/INT/QUIT, releases it).',
  },
  {
    key: 'waitAll',
    long: 'wait-all',
    env: 'TSINIT_WAIT_ALL',
    default: false,
    flag: switchOn,
    parse: booleanOf,
    describe: (yes) => (yes ? 'wait-all' : ''),
    help: 'When the child exits, wait for every other descendant too (double-forking daemons).',
  },
  {
    key: 'rewrite',
    short: 'r',
    long: 'rewrite',
    env: 'TSINIT_REWRITE',
    value: 'FROM:TO',
    default: new Map(),
    list: true,
    parse: rewriteOf,
    describe: describeRewrites,
    help: 'Forward signal FROM as TO (TO 0 drops it); repeatable, comma-separated in the variable.',
  },
  {
    key: 'remapExit',
    short: 'e',
    long: 'remap-exit',
    env: 'TSINIT_REMAP_EXIT',
    value: 'CODE',
    default: new Set(),
    list: true,
    parse: remapOf,
    help: 'Exit 0 when the exit code would be CODE; repeatable, comma-separated in the variable.',
  },
  {
    key: 'pdeathSignal',
    short: 'p',
    long: 'pdeath-signal',
    env: 'TSINIT_PDEATH_SIGNAL',
    value: 'SIG',
    default: null,
    parse: signalOf,
    help: "Receive SIG when tsinit's parent dies (PR_SET_PDEATHSIG) and handle it like any signal.",
  },
  {
    key: 'logFormat',
    long: 'log-format',
    env: 'TSINIT_LOG_FORMAT',
    value: 'text|json',
    default: 'text',
    parse: logFormatOf,
    help: 'Log lines as text (default) or one JSON object per line.',
  },
  {
    key: 'warnOnReap',
    short: 'w',
    long: 'warn-on-reap',
    env: 'TSINIT_WARN_ON_REAP',
    default: false,
    flag: switchOn,
    parse: booleanOf,
    help: "Log a warning for every orphan reaped (tini's -w): finds programs that leave zombies.",
  },
  // tini -g signals the child's process group: tsinit's default.
  { noop: true, short: 'g' },
  // tini -s makes it a subreaper: tsinit is one whenever it is not PID 1.
  { noop: true, short: 's' },
] satisfies readonly Option[];

const OPTIONS: readonly Option[] = ROWS;
/** Does not compile while a Config field has no row (its default would be missing). */
type EveryFieldHasARow<Unlisted extends never> = Unlisted;
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- a compile-time check, never used: it fails to type-check while a Settings key has no row
type CheckRows = EveryFieldHasARow<Exclude<keyof Settings, Extract<(typeof ROWS)[number], { key: string }>['key']>>;

const SETTINGS: readonly Setting[] = OPTIONS.filter((o): o is Setting => 'key' in o);

/** The text of `tsinit --help`. */
export function formatHelp(): string {
  const row = (flags: string, text: string): string => `  ${flags.padEnd(30)} ${text}`;
  const lines = [
    'Usage: tsinit [options] [--] command [args...]',
    '',
    'Runs command as its child, in its own process group; forwards every catchable signal to',
    "that group, reaps every zombie, and exits with the child's exit code (128+n if killed by n).",
    '',
    'Options:',
  ];
  for (const o of OPTIONS) {
    if ('noop' in o) continue;
    const value = 'key' in o && o.value !== undefined ? ` ${o.value}` : '';
    const env = 'key' in o ? ` [${o.env}]` : '';
    lines.push(row(`${o.short ? `-${o.short}, ` : '    '}--${o.long}${value}`, `${o.help}${env}`));
  }
  const noops = OPTIONS.filter((o): o is Noop => 'noop' in o).map((o) => `-${o.short}`);
  lines.push(row(noops.join(', '), 'Accepted for tini compatibility (both behaviours are always on).'));
  lines.push('');
  lines.push('DURATION: 500ms, 10s, 2m, 1h, or a number of seconds.  SIG: TERM, SIGTERM, 15, RTMIN+2 (1..31, 34..64).');
  lines.push("Exit codes: the child's; 2 usage error; 126 command not executable; 127 command not found;");
  lines.push('1 tsinit failed before starting the child.');
  return lines.join('\n') + '\n';
}

/**
 * The man page tsinit.1 (roff, man macros) that the .deb packages ship: the same rows and the
 * same closing lines as --help, so the two cannot disagree. date is YYYY-MM-DD.
 */
export function formatManPage(version: string, date: string): string {
  const help = formatHelp().split('\n');
  const at = (prefix: string): string => {
    const line = help.find((l) => l.startsWith(prefix));
    if (line === undefined) throw new Error(`no line '${prefix}' in the help text`);
    return line;
  };
  // roff: a backslash is \e, a dash is \- (a minus, as typed), a line may not start with . or '.
  const roff = (text: string): string =>
    text
      .replace(/\\/g, '\\e')
      .replace(/-/g, '\\-')
      .replace(/^([.'])/, '\\&$1');
  const lines = [
    `.TH TSINIT 1 "${date}" "tsinit ${version}" "User Commands"`,
    '.SH NAME',
    'tsinit \\- a container init (PID 1): forwards signals, reaps zombies, drains cleanly',
    '.SH SYNOPSIS',
    '.B tsinit',
    '[\\fIoptions\\fR] [\\fB\\-\\-\\fR] \\fIcommand\\fR [\\fIargs\\fR...]',
    '.SH DESCRIPTION',
    roff(`${help[2]} ${help[3]}`),
    '.PP',
    roff(
      'Use it as the entrypoint of a container image: ENTRYPOINT ["/usr/bin/tsinit", "--"]. Every option has a twin environment variable, given in brackets; the command line wins over it.',
    ),
    '.SH OPTIONS',
  ];
  for (const o of OPTIONS) {
    if ('noop' in o) continue;
    const value = 'key' in o && o.value !== undefined ? ` \\fI${roff(o.value)}\\fR` : '';
    const names = [o.short ? `\\fB\\-${o.short}\\fR` : '', `\\fB\\-\\-${roff(o.long)}\\fR${value}`]
      .filter((n) => n !== '')
      .join(', ');
    lines.push('.TP', names, roff(o.help) + ('key' in o ? ` [${o.env}]` : ''));
  }
  const noops = OPTIONS.filter((o): o is Noop => 'noop' in o).map((o) => `\\fB\\-${o.short}\\fR`);
  lines.push('.TP', noops.join(', '), 'Accepted for tini compatibility (both behaviours are always on).');
  lines.push('.SH VALUES', roff(at('DURATION:')));
  lines.push(
    '.SH EXIT STATUS',
    roff(
      help
        .slice(help.indexOf(at('Exit codes:')))
        .filter((l) => l !== '')
        .join(' ')
        .replace(/^Exit codes: /, ''),
    ),
  );
  return lines.join('\n') + '\n';
}

/** For -v logs: the effective settings in one line. */
export function describeConfig(cfg: Config): string {
  return SETTINGS.map((o) => describeSetting(cfg, o))
    .filter((s) => s !== '')
    .join(' ');
}

/**
 * Parses tsinit's arguments (without its own name) and environment. Throws only what no command
 * line causes (out of memory, a bug): that is tsinit failing (exit 1), not a usage error (exit 2).
 */
export function parseCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): CliResult {
  try {
    return parseOrThrow(args, env);
  } catch (e) {
    if (e instanceof UsageError) return { kind: 'usage-error', message: e.message };
    throw e;
  }
}

function parseOrThrow(args: readonly string[], env: Readonly<Record<string, string | undefined>>): CliResult {
  const cfg = defaults();
  applyEnv(cfg, env);
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === undefined) break; // not reached: i < args.length
    if (arg === '--') {
      i++;
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const o = OPTIONS.find((x) => 'long' in x && x.long === name);
      if (!o) throw new UsageError(`unknown option ${quoted(`--${name}`)} (try 'tsinit --help')`);
      if (!('key' in o) || o.value === undefined) {
        if (eq >= 0) throw new UsageError(`option '--${name}' takes no value (got ${quoted(arg.slice(eq + 1))})`);
        const stop = applyFlag(cfg, o);
        if (stop) return { kind: stop };
        continue;
      }
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`option '--${name}' needs a value: ${o.value}`);
      applyValue(cfg, o, `--${name}`, value);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // A cluster of short options, getopt style: `-vvc`, `-rTERM:QUIT`, `-r TERM:QUIT`.
      for (let j = 1; j < arg.length; j++) {
        const ch = arg.charAt(j);
        const o = OPTIONS.find((x) => x.short === ch);
        if (!o) throw new UsageError(`unknown option ${quoted(`-${ch}`)} (try 'tsinit --help')`);
        if (!('key' in o) || o.value === undefined) {
          const stop = applyFlag(cfg, o);
          if (stop) return { kind: stop };
          continue;
        }
        const value = j + 1 < arg.length ? arg.slice(j + 1) : args[++i];
        if (value === undefined) throw new UsageError(`option '-${ch}' needs a value: ${o.value}`);
        applyValue(cfg, o, `-${ch}`, value);
        break;
      }
      continue;
    }
    break;
  }
  const command = args.slice(i);
  if (!nonEmpty(command)) throw new UsageError('no command given (usage: tsinit [options] [--] command [args...])');
  return { kind: 'run', config: { ...cfg, commandIndex: i, command } };
}

function nonEmpty(list: string[]): list is [string, ...string[]] {
  return list.length > 0;
}

function defaults(): Settings {
  const cfg = {} as Settings; // filled below: CheckRows holds that every field has a row
  for (const o of SETTINGS) setDefault(cfg, o);
  return cfg;
}

/** Applies TSINIT_* variables, in the table's order; the command line then overrides them. */
function applyEnv(cfg: Settings, env: Readonly<Record<string, string | undefined>>): void {
  for (const o of SETTINGS) {
    const text = env[o.env];
    if (text === undefined || text === '') continue; // an empty variable counts as unset
    for (const item of o.list ? splitList(text) : [text]) applyValue(cfg, o, o.env, item);
  }
}

/** Applies an option that takes no value; returns 'help'/'version' when parsing should stop there. */
function applyFlag(cfg: Settings, o: Option): 'help' | 'version' | undefined {
  if ('stop' in o) return o.stop;
  if ('key' in o) flagSetting(cfg, o);
  return undefined;
}

function setDefault<K extends keyof Settings>(cfg: Settings, o: Setting<K>): void {
  cfg[o.key] = o.default;
}

function flagSetting<K extends keyof Settings>(cfg: Settings, o: Setting<K>): void {
  if (o.flag) cfg[o.key] = o.flag(cfg[o.key]);
}

/** Parses one value for `where` (the option or variable as the user wrote it) into its field. */
function applyValue<K extends keyof Settings>(cfg: Settings, o: Setting<K>, where: string, text: string): void {
  const r = o.parse(text, cfg[o.key]);
  if (!r.ok) throw new UsageError(`invalid value for ${where}: ${quoted(r.part ?? text)} (${r.reason})`);
  cfg[o.key] = r.value;
}

function describeSetting<K extends keyof Settings>(cfg: Settings, o: Setting<K>): string {
  return o.describe ? o.describe(cfg[o.key]) : '';
}

class UsageError {
  constructor(readonly message: string) {}
}

/** How much of a value an error repeats: enough to recognise it; a 100 kB value would bury the line. */
const QUOTED_MAX = 64;

/**
 * Text from the user as an error shows it, in quotes: control characters as \xNN, so a newline
 * or an escape sequence cannot split the line or drive the terminal; past QUOTED_MAX characters
 * cut, with '...' and the whole length after the quotes.
 */
function quoted(text: string): string {
  if (text.length <= QUOTED_MAX) return `'${escapeControls(text)}'`;
  // Not between the two halves of a surrogate pair: a lone half would print as U+FFFD.
  const last = text.charCodeAt(QUOTED_MAX - 1);
  const cut = last >= 0xd800 && last <= 0xdbff ? QUOTED_MAX - 1 : QUOTED_MAX;
  return `'${escapeControls(text.slice(0, cut))}...' (${text.length} characters)`;
}

function accept<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function reject<T>(reason: string): Parsed<T> {
  return { ok: false, reason };
}

function verbosityOf(text: string): Parsed<number> {
  return /^\d$/.test(text.trim()) ? accept(Number(text)) : reject('expected 0, 1 or 2 (higher counts as 2)');
}

function booleanOf(text: string): Parsed<boolean> {
  const v = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return accept(true);
  if (['', '0', 'false', 'no', 'off'].includes(v)) return accept(false);
  return reject('expected 1/0, true/false, yes/no, on/off');
}

function durationOf(text: string): Parsed<number> {
  const d = parseDuration(text);
  return d.ok ? accept(d.ms) : reject(d.reason);
}

function signalOf(text: string): Parsed<number> {
  const sig = parseSignal(text);
  if (sig !== undefined) return accept(sig);
  if (/^\s*\d+\s*$/.test(text) && GLIBC_RESERVED_SIGNALS.includes(Number(text))) {
    return reject(
      'signals 32 and 33 are reserved by glibc for its threads; expected 1..31 or 34..64, e.g. TERM, 15, RTMIN+1',
    );
  }
  return reject('expected a signal name or number 1..31 or 34..64, e.g. TERM, SIGTERM, 15');
}

/** A stop signal: any forwarded signal; KILL, STOP and CHLD never reach tsinit to be one. */
function stopSignalOf(text: string): Parsed<number> {
  const sig = signalOf(text);
  if (sig.ok && (sig.value === SIGKILL || sig.value === SIGSTOP || sig.value === SIGCHLD))
    return reject(
      `${formatSignal(sig.value)} cannot be the stop signal (KILL and STOP cannot be caught; CHLD is tsinit's cue to reap)`,
    );
  return sig;
}

/** `FROM:TO` added to the rules so far; an error about one signal shows that signal alone. */
function rewriteOf(text: string, rules: ReadonlyMap<number, number>): Parsed<ReadonlyMap<number, number>> {
  const parts = text.split(':');
  const fromText = parts[0];
  const toText = parts[1];
  if (parts.length !== 2 || !fromText || !toText) return reject('expected FROM:TO, e.g. TERM:QUIT or 15:0');
  const from = signalOf(fromText);
  if (!from.ok) return { ...from, part: fromText };
  if (from.value === SIGKILL || from.value === SIGSTOP || from.value === SIGCHLD) {
    return reject(`${formatSignal(from.value)} never reaches tsinit as a request to forward`);
  }
  const to = toText.trim() === '0' ? accept(0) : signalOf(toText);
  if (!to.ok) return { ...to, part: toText };
  return accept(new Map(rules).set(from.value, to.value));
}

function remapOf(text: string, codes: ReadonlySet<number>): Parsed<ReadonlySet<number>> {
  if (!/^\d{1,3}$/.test(text.trim()) || Number(text) > 255) return reject('expected an exit code 0..255');
  return accept(new Set(codes).add(Number(text)));
}

function logFormatOf(text: string): Parsed<LogFormat> {
  return text === 'text' || text === 'json' ? accept(text) : reject('expected text or json');
}

function describeRewrites(rules: ReadonlyMap<number, number>): string {
  const parts: string[] = [];
  for (const [from, to] of rules) parts.push(`rewrite ${formatSignal(from)}→${to === 0 ? 'drop' : formatSignal(to)}`);
  return parts.join(' ');
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
