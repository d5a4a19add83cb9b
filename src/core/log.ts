// Lifecycle log lines on stderr: one short human line, or one JSON object, per event.
// Owns the list of events and the level of each: a call site names an event and the level
// follows, so the two cannot disagree (the README's list is checked against this one).
// Formatting is pure, and a line is always one line (text escapes control characters, JSON
// its own); the sink is injected, so a broken stderr (closed, a pipe nobody reads) costs a
// lost line and never the init.

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
  return `tsinit: ${prefix}${escapeControls(message)}`;
}

/**
 * A text line's message with its control characters escaped (a newline as \n, the rest as
 * \xNN): a message carries user data (the command's argv), and an argument with a newline
 * must not start a `tsinit: error:` line of its own, nor an escape sequence drive the terminal.
 */
function escapeControls(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => (ch === '\n' ? '\\n' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** A logger that writes whole lines through sink; it goes quiet after the sink fails. */
export function createLogger(format: LogFormat, verbosity: number, sink: (line: string) => boolean): Logger {
  let broken = false;
  const enabled = (event: LogEvent): boolean => !broken && LEVEL_VERBOSITY[levelOf(event)] <= verbosity;
  return {
    enabled,
    log(event, message, fields = {}) {
      if (!enabled(event)) return;
      if (!sink(formatLine(format, event, message, fields, new Date()) + '\n')) broken = true;
    },
  };
}
