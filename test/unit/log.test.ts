// The logger: each event's level comes from its table, the verbosity picks the levels written,
// the text and JSON lines keep their exact form, and a stderr that takes no lines costs
// bounded waits and counted drops, never the init.
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../src/core/errno.ts';
import {
  createLogger,
  formatLine,
  levelOf,
  LOG_EVENTS,
  LOG_WAIT_MS,
  type Level,
  type LogEvent,
  type LogFormat,
  type WriteResult,
} from '../../src/core/log.ts';

const EVENTS = Object.keys(LOG_EVENTS) as LogEvent[];
const AT = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
const VERBOSITY_OF: Record<Level, number> = { error: 0, warning: 0, info: 1, debug: 2 };
const PREFIX_OF: Record<Level, string> = { error: 'error: ', warning: 'warning: ', info: '', debug: '' };

function capture(verbosity: number) {
  const lines: string[] = [];
  return {
    lines,
    log: createLogger('text', verbosity, (line) => {
      lines.push(line);
      return { errno: 0, written: line.length };
    }),
  };
}

describe('LOG_EVENTS', () => {
  it.each([
    // The lines that were logged under another name or level before the list existed.
    ['terminal', 'debug'],
    ['signal-detail', 'debug'],
    ['zombie', 'warning'],
    ['reap', 'debug'],
    ['signal', 'info'],
    ['kill', 'warning'],
    ['warning', 'warning'],
    ['error', 'error'],
  ])('%s is logged at %s', (event, level) => {
    expect(levelOf(event as LogEvent)).toBe(level);
  });
});

describe('formatLine', () => {
  it.each(EVENTS)("%s as text: the message after the level's prefix", (event) => {
    expect(formatLine('text', event, 'what happened', { pid: 7 }, AT)).toBe(
      `tsinit: ${PREFIX_OF[levelOf(event)]}what happened`,
    );
  });

  // A message carries the command's argv: its control characters must not reach the line raw.
  it.each([
    [
      'a newline cannot start a line of its own',
      'spawned pid 7: true x\ntsinit: error: forged',
      'tsinit: spawned pid 7: true x\\ntsinit: error: forged',
    ],
    ['a carriage return, a tab, NUL', 'a\rb\tc\u0000', 'tsinit: a\\x0db\\x09c\\x00'],
    ['an escape sequence', '\u001b[2J\u001b[31mred', 'tsinit: \\x1b[2J\\x1b[31mred'],
    ['DEL and the C1 CSI', 'a\u007fb\u009bc', 'tsinit: a\\x7fb\\x9bc'],
    ['printable text as it is', 'ü ✓ ~ \\n', 'tsinit: ü ✓ ~ \\n'],
  ])('text: %s', (_name, message, line) => {
    expect(formatLine('text', 'spawn', message, {}, AT)).toBe(line);
  });

  it('JSON: a newline stays inside the string (JSON escapes it), the message unchanged', () => {
    const line = formatLine('json', 'spawn', 'x\ntsinit: error: forged', { argv: ['x\ny'] }, AT);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({ message: 'x\ntsinit: error: forged', argv: ['x\ny'] });
  });

  it.each(EVENTS)('%s as JSON: time, level, event, fields, message', (event) => {
    expect(formatLine('json', event, 'm', { pid: 7, argv: ['a', 'b'], target: null }, AT)).toBe(
      `{"time":"2024-01-02T03:04:05.006Z","level":"${levelOf(event)}","event":"${event}","pid":7,"argv":["a","b"],"target":null,"message":"m"}`,
    );
  });
});

describe('createLogger', () => {
  it.each([[0], [1], [2]])('at verbosity %i writes exactly the events of the levels it allows', (verbosity) => {
    const { lines, log } = capture(verbosity);
    const shown = (event: LogEvent) => VERBOSITY_OF[levelOf(event)] <= verbosity;
    for (const event of EVENTS) {
      expect(log.enabled(event)).toBe(shown(event));
      log.log(event, event);
    }
    expect(lines).toEqual(EVENTS.filter(shown).map((event) => `tsinit: ${PREFIX_OF[levelOf(event)]}${event}\n`));
  });
});

/**
 * A stderr the test sets: open (takes every text), full (takes nothing: EAGAIN), cut after n
 * bytes (then EAGAIN), or failing with an errno. Records what the reader got and each wait.
 */
function fakeStderr(format: LogFormat = 'text', verbosity = 0) {
  let answer: (text: string) => WriteResult = (text) => ({ errno: 0, written: text.length });
  const got: string[] = [];
  const waits: number[] = [];
  const log = createLogger(format, verbosity, (text, waitMs) => {
    waits.push(waitMs);
    const r = answer(text);
    got.push(text.slice(0, r.written));
    return r;
  });
  return {
    log,
    waits,
    /** What the reader read, as one text. */
    read: () => got.join(''),
    open() {
      answer = (text) => ({ errno: 0, written: text.length });
    },
    full() {
      answer = () => ({ errno: ERRNO.EAGAIN, written: 0 });
    },
    cutAfter(n: number) {
      answer = (text) => ({ errno: ERRNO.EAGAIN, written: Math.min(n, text.length) });
    },
    fail(errno: number) {
      answer = () => ({ errno, written: 0 });
    },
  };
}

const DROPPED = (n: number) => `tsinit: warning: ${n} log line(s) dropped: stderr was not writable\n`;

describe('createLogger on a stderr that takes no lines', () => {
  it('waits LOG_WAIT_MS for room while the log flows', () => {
    const err = fakeStderr();
    err.log.log('warning', 'a');
    err.log.log('warning', 'b');
    expect(LOG_WAIT_MS).toBe(100);
    expect(err.waits).toEqual([100, 100]);
    expect(err.read()).toBe('tsinit: warning: a\ntsinit: warning: b\n');
  });

  it('drops a line that finds no room, then waits no more until one gets through, which the count precedes', () => {
    const err = fakeStderr();
    err.log.log('warning', 'a');
    err.full();
    for (const m of ['b', 'c', 'd']) err.log.log('warning', m);
    // b waited; c and d tried the report only, at once.
    expect(err.waits).toEqual([100, 100, 0, 0]);
    err.open();
    err.log.log('warning', 'e');
    err.log.log('warning', 'f');
    // The report goes without a wait (the log was not flowing yet), e and f wait again.
    expect(err.waits).toEqual([100, 100, 0, 0, 0, 100, 100]);
    expect(err.read()).toBe(`tsinit: warning: a\n${DROPPED(3)}tsinit: warning: e\ntsinit: warning: f\n`);
  });

  it('counts again from zero after a report', () => {
    const err = fakeStderr();
    err.full();
    err.log.log('warning', 'a');
    err.open();
    err.log.log('warning', 'b');
    err.full();
    err.log.log('warning', 'c');
    err.log.log('warning', 'd');
    err.open();
    err.log.log('warning', 'e');
    expect(err.read()).toBe(`${DROPPED(1)}tsinit: warning: b\n${DROPPED(2)}tsinit: warning: e\n`);
  });

  it('a line above the verbosity is neither written nor counted', () => {
    const err = fakeStderr('text', 0);
    err.full();
    err.log.log('reap', 'reaped pid 9');
    err.log.log('warning', 'a');
    err.log.log('signal', 'SIGTERM forwarded');
    err.open();
    err.log.log('warning', 'b');
    expect(err.read()).toBe(`${DROPPED(1)}tsinit: warning: b\n`);
  });

  it('in JSON, the report is a log-dropped event with the count', () => {
    const err = fakeStderr('json');
    err.full();
    err.log.log('warning', 'a', { pid: 3 });
    err.log.log('error', 'b');
    err.open();
    err.log.log('warning', 'c');
    const [report, line] = err.read().split('\n');
    const { time: _t1, ...fields } = JSON.parse(report!) as Record<string, unknown>;
    expect(fields).toEqual({
      level: 'warning',
      event: 'log-dropped',
      dropped: 2,
      message: '2 log line(s) dropped: stderr was not writable',
    });
    expect((JSON.parse(line!) as Record<string, unknown>).message).toBe('c');
  });

  it('a line cut short is followed by a fresh line', () => {
    const err = fakeStderr();
    err.cutAfter(10);
    err.log.log('warning', 'a');
    err.open();
    err.log.log('warning', 'b');
    expect(err.read()).toBe(`tsinit: wa\n${DROPPED(1)}tsinit: warning: b\n`);
  });

  it('a fresh line already begun (only its newline got out) is not begun twice', () => {
    const err = fakeStderr();
    err.cutAfter(10);
    err.log.log('warning', 'a');
    err.cutAfter(1);
    err.log.log('warning', 'b');
    err.open();
    err.log.log('warning', 'c');
    expect(err.read()).toBe(`tsinit: wa\n${DROPPED(2)}tsinit: warning: c\n`);
  });

  it('a line cut short again after its newline still needs one', () => {
    const err = fakeStderr();
    err.cutAfter(10);
    err.log.log('warning', 'a');
    err.cutAfter(5);
    err.log.log('warning', 'b');
    err.open();
    err.log.log('warning', 'c');
    expect(err.read()).toBe(`tsinit: wa\ntsin\n${DROPPED(2)}tsinit: warning: c\n`);
  });
});

describe('createLogger on a broken stderr', () => {
  it.each([
    ['EPIPE', ERRNO.EPIPE],
    ['EBADF', ERRNO.EBADF],
    ['EIO', ERRNO.EIO],
  ])('goes quiet after %s: no more writes, no event enabled', (_name, errno) => {
    const err = fakeStderr();
    err.fail(errno);
    err.log.log('warning', 'first');
    err.open();
    err.log.log('warning', 'second');
    expect(err.waits).toHaveLength(1);
    expect(err.log.enabled('error')).toBe(false);
    expect(err.read()).toBe('');
  });

  it('goes quiet after EPIPE even with lines dropped before: the count is never reported', () => {
    const err = fakeStderr();
    err.full();
    err.log.log('warning', 'a');
    err.fail(ERRNO.EPIPE);
    err.log.log('warning', 'b');
    err.open();
    err.log.log('warning', 'c');
    expect(err.waits).toHaveLength(2);
    expect(err.read()).toBe('');
  });
});
