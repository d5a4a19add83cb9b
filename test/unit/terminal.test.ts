import { describe, expect, it } from 'vitest';
import { childTakesTerminal } from '../../src/core/terminal.ts';

describe('childTakesTerminal', () => {
  it.each([
    [true, 7, 7, true],
    [true, 0, 7, true], // the foreground group is in another pid namespace (docker run -t)
    [true, 9, 7, false], // a shell put tsinit in the background: never steal its terminal
    [true, -25, 7, false], // tcgetpgrp failed (ENOTTY)
    [false, 7, 7, false],
  ])('stdin a terminal %s, foreground %d, own group %d: %s', (tty, fg, own, expected) => {
    expect(childTakesTerminal(tty, fg, own)).toBe(expected);
  });
});
