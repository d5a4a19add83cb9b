// Lifecycle log lines on stderr: one short human line, or one JSON object, per event.
// Formatting is pure; the sink is injected, so a broken stderr (closed, a pipe nobody
// reads) costs a lost line and never the init.

import type { LogFormat } from './cli.ts';

export type Level = 'error' | 'warning' | 'info' | 'debug';

const LEVEL_VERBOSITY: Readonly<Record<Level, number>> = { error: 0, warning: 0, info: 1, debug: 2 };

export type Fields = Readonly<Record<string, string | number | boolean | null | readonly (string | number)[]>>;

export interface Logger {
  /** Writes the event if the verbosity allows its level. */
  log(level: Level, event: string, message: string, fields?: Fields): void;
  enabled(level: Level): boolean;
}

/** The text of one line, without the newline. */
export function formatLine(format: LogFormat, level: Level, event: string, message: string, fields: Fields, now: Date): string {
  if (format === 'json') {
    return JSON.stringify({ time: now.toISOString(), level, event, ...fields, message });
  }
  const prefix = level === 'error' ? 'error: ' : level === 'warning' ? 'warning: ' : '';
  return `tsinit: ${prefix}${message}`;
}

/** A logger that writes whole lines through sink; it goes quiet after the sink fails. */
export function createLogger(format: LogFormat, verbosity: number, sink: (line: string) => boolean): Logger {
  let broken = false;
  const enabled = (level: Level): boolean => !broken && LEVEL_VERBOSITY[level] <= verbosity;
  return {
    enabled,
    log(level, event, message, fields = {}) {
      if (!enabled(level)) return;
      if (!sink(formatLine(format, level, event, message, fields, new Date()) + '\n')) broken = true;
    },
  };
}
