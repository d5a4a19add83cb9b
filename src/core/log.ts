// Lifecycle log lines on stderr: one short human line, or one JSON object, per event.
// Owns the list of events and the level of each: a call site names an event and the level
// follows, so the two cannot disagree (the README's list is checked against this one).
// Formatting is pure, and a line is always one line (text escapes control characters, JSON
// its own); the sink is injected, and the logger decides how long it may wait: a stderr
// nobody reads costs dropped lines (counted, and reported once it takes lines again), a broken
// one (closed, EPIPE) silences the log, and neither ever holds up the init.
import { ERRNO } from './errno.ts';

export type LogFormat = 'text' | 'json';

export type Level = 'error' | 'warning' | 'info' | 'debug';

/** The verbosity (-v count) from which a level is written: warnings and errors always. */
const LEVEL_VERBOSITY: Readonly<Record<Level, number>> = { error: 0, warning: 0, info: 1, debug: 2 };

/** Every event tsinit logs, with its level, in the README's order. */
export const LOG_EVENTS = {
  /** The configuration as parsed, and what the host passes on to the child. */
  config: 'debug',
  /** Not PID 1, so tsinit registered as a child subreaper. */
  subreaper: 'info',
  /** The child was started. */
  spawn: 'info',
  /** The child could not take the terminal (Node host): spawned again without it, as expected when tsinit's stdin is not its controlling terminal. */
  terminal: 'debug',
  /** A signal forwarded, rewritten, dropped or held (--term-delay). */
  signal: 'info',
  /** More about a signal: a held one released, a kill() that failed (ESRCH when the child just ended), one that came before the child. */
  'signal-detail': 'debug',
  /** The main child ended. */
  'child-exit': 'info',
  /** An orphan reaped. */
  reap: 'debug',
  /** An orphan reaped, with --warn-on-reap: some program leaves zombies behind. */
  zombie: 'warning',
  /** The drain began, or --wait-all waits for the rest. */
  drain: 'info',
  /** SIGKILL to what is left (--kill-after, the drain's deadline). */
  kill: 'warning',
  /** tsinit exits, with its code. */
  exit: 'info',
  /** The Node host paged out the executable's idle pages. */
  memory: 'debug',
  /** Lines were dropped while stderr took none (a full pipe nobody reads): written before the next line that gets through. */
  'log-dropped': 'warning',
  /** Something went wrong, and tsinit goes on. */
  warning: 'warning',
  /** tsinit cannot start the child, and exits. */
  error: 'error',
} as const satisfies Readonly<Record<string, Level>>;

export type LogEvent = keyof typeof LOG_EVENTS;

/** The level an event is logged at. */
export function levelOf(event: LogEvent): Level {
  return LOG_EVENTS[event];
}

export type Fields = Readonly<Record<string, string | number | boolean | null | readonly (string | number)[]>>;

export interface Logger {
  /** Writes the event if the verbosity allows its level. */
  log(event: LogEvent, message: string, fields?: Fields): void;
  /** Whether the event would be written: a hot path builds its line only then. */
  enabled(event: LogEvent): boolean;
}

/** The text of one line, without the newline. */
export function formatLine(format: LogFormat, event: LogEvent, message: string, fields: Fields, now: Date): string {
  const level = levelOf(event);
  if (format === 'json') {
    return JSON.stringify({ time: now.toISOString(), level, event, ...fields, message });
  }
  const prefix = level === 'error' ? 'error: ' : level === 'warning' ? 'warning: ' : '';
  return `tsinit: ${prefix}${escapeControls(message, 'n')}`;
}

/**
 * Text from the user (the command's argv, an option's value) as one line shows it: control
 * characters (C0, DEL, C1) as \xNN, or a newline as \n with newline 'n', so that it can neither
 * start a `tsinit: error:` line of its own nor drive the terminal with an escape sequence. The
 * log and the usage errors (src/core/cli.ts) both use it.
 */
export function escapeControls(text: string, newline: 'n' | 'x' = 'x'): string {
  // The replacers are made once: a function made per call is, in Duktape, a cycle (it and its
  // prototype) that only a full collection frees, garbage on every line of a flood's log.
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROLS, newline === 'n' ? escapeWithNewline : escapeHex);
}
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
// The same class without the g flag, for test(): on a global regex test() moves lastIndex, and
// the next call would start its search there.
const CONTROL = new RegExp(CONTROLS.source);
function escapeHex(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}
function escapeWithNewline(ch: string): string {
  return ch === '\n' ? '\\n' : escapeHex(ch);
}

/**
 * How long a line may wait for a full stderr (poll for POLLOUT) while the log flows. Once a
 * line was dropped the logger waits no more until a write succeeds again: a stalled reader
 * costs one such wait, never one per signal or reap.
 */
export const LOG_WAIT_MS = 100;

/** What a write came to: errno 0 (all written), EAGAIN (the wait ran out) or another errno; and how many bytes went out. */
export interface WriteResult {
  errno: number;
  written: number;
}

/** Writes text to stderr, waiting at most waitMs for room (a host's write() + poll()). */
export type LogSink = (text: string, waitMs: number) => WriteResult;

/**
 * A logger that writes whole lines through sink. A line that finds no room within its wait
 * is dropped and counted; the next line that gets through is preceded by one reporting the
 * count (and starts on a fresh line if a dropped one was cut short). Any other error (EPIPE,
 * EBADF) and the logger goes quiet.
 */
export function createLogger(format: LogFormat, verbosity: number, sink: LogSink): Logger {
  let broken = false;
  let dropped = 0;
  /** Part of a line went out before its wait ran out: the next one must start on a new line. */
  let cut = false;
  const enabled = (event: LogEvent): boolean => !broken && LEVEL_VERBOSITY[levelOf(event)] <= verbosity;
  const line = (event: LogEvent, message: string, fields: Fields): string =>
    formatLine(format, event, message, fields, new Date()) + '\n';
  /** Writes text; false if it did not all go out. */
  const put = (text: string): boolean => {
    const prefix = cut ? '\n' : '';
    const r = sink(prefix + text, dropped > 0 ? 0 : LOG_WAIT_MS);
    if (r.errno === 0) {
      cut = false;
      return true;
    }
    if (r.errno !== ERRNO.EAGAIN) {
      broken = true;
      return false;
    }
    // The prefix is one byte: written alone, it left stderr at the start of a line.
    if (r.written > 0) cut = r.written > prefix.length;
    dropped++;
    return false;
  };
  return {
    enabled,
    log(event, message, fields = {}) {
      if (!enabled(event)) return;
      if (dropped > 0) {
        // Still full: put() counts one more, this line, which the report will include.
        if (!put(line('log-dropped', `${dropped} log line(s) dropped: stderr was not writable`, { dropped }))) return;
        dropped = 0;
      }
      put(line(event, message, fields));
    },
  };
}
