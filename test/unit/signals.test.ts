import { describe, expect, it } from 'vitest';
import { formatSignal, listForwardedSignals, parseSignal } from '../../src/core/signals.ts';

describe('parseSignal', () => {
  it.each([
    ['TERM', 15],
    ['SIGTERM', 15],
    ['sigterm', 15],
    ['term', 15],
    ['15', 15],
    ['1', 1],
    ['64', 64],
    ['HUP', 1],
    ['KILL', 9],
    ['USR1', 10],
    ['SIGUSR2', 12],
    ['PIPE', 13],
    ['CHLD', 17],
    ['SIGCLD', 17],
    ['IOT', 6],
    ['POLL', 29],
    ['IO', 29],
    ['PWR', 30],
    ['SYS', 31],
    ['STKFLT', 16],
    ['WINCH', 28],
    ['RTMIN', 34],
    ['SIGRTMIN', 34],
    ['RTMIN+1', 35],
    ['SIGRTMIN+30', 64],
    ['RTMAX', 64],
    ['RTMAX-1', 63],
    ['SIGRTMAX-30', 34],
    [' TERM ', 15],
  ])('%s → %i', (text, sig) => {
    expect(parseSignal(text)).toBe(sig);
  });

  it.each([
    '',
    '0',
    '65',
    '-1',
    '1.5',
    'FOO',
    'SIG',
    'SIGFOO',
    'RTMIN+31',
    'RTMAX+1',
    'RTMIN-1',
    'RTMIN-2',
    'TERM:',
    '15x',
    '0x0f',
    // glibc's own (its threads'): never tsinit's to handle or to forward.
    '32',
    '33',
    ' 32 ',
    '032',
    'SIG32',
    'SIG33',
  ])('%j is not a signal', (text) => {
    expect(parseSignal(text)).toBeUndefined();
  });
});

describe('formatSignal', () => {
  it.each([
    [15, 'SIGTERM'],
    [1, 'SIGHUP'],
    [31, 'SIGSYS'],
    [34, 'SIGRTMIN'],
    [37, 'SIGRTMIN+3'],
    [64, 'SIGRTMAX'],
    [32, 'SIG32'],
  ])('%i → %s', (sig, name) => {
    expect(formatSignal(sig)).toBe(name);
  });

  it('round-trips every signal 1..64 except glibc reserved 32 and 33', () => {
    for (let sig = 1; sig <= 64; sig++) {
      if (sig === 32 || sig === 33) continue;
      expect(parseSignal(formatSignal(sig))).toBe(sig);
    }
  });
});

describe('listForwardedSignals', () => {
  const forwarded = new Set(listForwardedSignals());

  it('holds every catchable standard signal but CHLD', () => {
    for (let sig = 1; sig <= 31; sig++) expect(forwarded.has(sig)).toBe(![9, 17, 19].includes(sig));
  });

  it('holds the realtime signals 34..64 and not glibc reserved 32/33', () => {
    for (let sig = 34; sig <= 64; sig++) expect(forwarded.has(sig)).toBe(true);
    expect(forwarded.has(32)).toBe(false);
    expect(forwarded.has(33)).toBe(false);
  });
});
