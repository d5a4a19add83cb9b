// Bad command lines against the built dist/tsinit: every unknown option, missing value, bad
// duration, bad signal, bad rewrite pair, out-of-range exit code, on the command line or in a
// TSINIT_* variable, is exit 2 and exactly one `tsinit: error:` line naming the option and the
// value: the whole line of each row of the hand-written table the parser's unit tests share.
// Then 150 random bad command lines: each is exit 2 and one error line, never a crash.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/core/cli.ts';
import { expectUsageError } from '../helpers/expect.ts';
import { cleanEnv, runToEnd } from '../helpers/pid1.ts';
import { titleOf, USAGE_ERRORS, USAGE_EXIT } from '../helpers/usage-errors.ts';
import { record, usePrivateInit } from './harness.ts';

const init = usePrivateInit();

describe('bad command lines and variables: exit 2 and exactly the line of the hand-written table', () => {
  // The table the parser's unit tests are held to as well (test/helpers/usage-errors.ts).
  it.each(USAGE_ERRORS.map(([args, env, message]) => [titleOf(args, env), args, env, message] as const))(
    '%s',
    async (_title, args, env, message) => {
      const r = await runToEnd([...args], { init: init.bin, pid1: false, env: cleanEnv(env) });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: USAGE_EXIT,
        stdout: '',
        stderr: `tsinit: error: ${message}\n`,
      });
    },
  );

  it('the same as PID 1', async () => {
    expectUsageError(
      await runToEnd(['--drain', '10x', 'true'], { init: init.bin }),
      "invalid value for --drain: '10x'",
    );
    expectUsageError(await runToEnd(['-e', '256', 'true'], { init: init.bin }), "'256'");
  });
});

describe('random bad command lines through the binary: one line, exit 2, no crash', () => {
  it('150 random command lines the parser refuses: exit 2, nothing on stdout, exactly one `tsinit: error:` line, no stack trace', () => {
    const token = fc.oneof(
      fc.constantFrom(
        '--drain',
        '--kill-after',
        '--term-delay',
        '-p',
        '-r',
        '-e',
        '--log-format',
        '--bogus',
        '-x',
        '-vz',
        '--help=2',
        '--',
        '-c',
        '-v',
      ),
      fc.constantFrom(
        '10x',
        '-1',
        '256',
        'TERM:FOO',
        'KILL:TERM',
        'xml',
        '',
        '1\n2',
        '\u001b[0m',
        'ü',
        '١',
        '99999999999999999999',
        'RTMIN+40',
      ),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
    );
    // The parser only picks the sample (lines that would run no command); what the binary
    // prints is checked for its form alone, and the exact words by the table.
    const samples = fc.sample(
      fc.array(token, { minLength: 1, maxLength: 6 }).filter((a) => {
        if (a.some((w) => w.includes('\0'))) return false; // cannot be an argument at all
        return parseCli(a, {}).kind === 'usage-error';
      }),
      { numRuns: 150, seed: 5 },
    );
    expect(samples.length).toBe(150);
    const t0 = performance.now();
    for (const args of samples) {
      const r = spawnSync(init.bin, args, { env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
      expect({ args, code: r.status, signal: r.signal, stdout: r.stdout }).toEqual({
        args,
        code: 2,
        signal: null,
        stdout: '',
      });
      expect(r.stderr, JSON.stringify(args)).toMatch(/^tsinit: error: [^\n]+\n$/);
      expect(r.stderr).not.toMatch(/internal error| {4}at |Error:/);
    }
    record(
      'random usage errors through the binary',
      `${samples.length} command lines, exit 2 and one error line each, ${((performance.now() - t0) / samples.length).toFixed(0)} ms per run`,
    );
  }, 60_000);
});
