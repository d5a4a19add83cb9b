// The logger: each event's level comes from its table, the verbosity picks the levels written,
// and the text and JSON lines keep their exact form.
import { describe, expect, it } from 'vitest';
import { createLogger, formatLine, levelOf, LOG_EVENTS, type Level, type LogEvent } from '../../src/core/log.ts';

const EVENTS = Object.keys(LOG_EVENTS) as LogEvent[];
const AT = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
const VERBOSITY_OF: Record<Level, number> = { error: 0, warning: 0, info: 1, debug: 2 };
const PREFIX_OF: Record<Level, string> = { error: 'error: ', warning: 'warning: ', info: '', debug: '' };

function capture(verbosity: number) {
  const lines: string[] = [];
  return { lines, log: createLogger('text', verbosity, (line) => { lines.push(line); return true; }) };
}

describe('LOG_EVENTS', () => {
  it.each([
    // The lines that were logged under another name or level before the list existed.
    ['terminal', 'debug'], ['signal-detail', 'debug'], ['zombie', 'warning'], ['reap', 'debug'],
    ['signal', 'info'], ['kill', 'warning'], ['warning', 'warning'], ['error', 'error'],
  ])('%s is logged at %s', (event, level) => {
    expect(levelOf(event as LogEvent)).toBe(level);
  });
});

describe('formatLine', () => {
  it.each(EVENTS)('%s as text: the message after the level\'s prefix', (event) => {
    expect(formatLine('text', event, 'what happened', { pid: 7 }, AT)).toBe(`tsinit: ${PREFIX_OF[levelOf(event)]}what happened`);
  });

  // A message carries the command's argv: its control characters must not reach the line raw.
  it.each([
    ['a newline cannot start a line of its own', 'spawned pid 7: true x\ntsinit: error: forged', 'tsinit: spawned pid 7: true x\\ntsinit: error: forged'],
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
    expect(formatLine('json', event, 'm', { pid: 7, argv: ['a', 'b'], target: null }, AT))
      .toBe(`{"time":"2024-01-02T03:04:05.006Z","level":"${levelOf(event)}","event":"${event}","pid":7,"argv":["a","b"],"target":null,"message":"m"}`);
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

  it('goes quiet once the sink fails', () => {
    let calls = 0;
    const log = createLogger('text', 2, () => { calls++; return false; });
    log.log('warning', 'first');
    log.log('warning', 'second');
    expect(calls).toBe(1);
    expect(log.enabled('error')).toBe(false);
  });
});
