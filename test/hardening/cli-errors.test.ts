// Bad command lines against the built dist/tsinit: every unknown option, missing value, bad
// duration, bad signal, bad rewrite pair, out-of-range exit code, on the command line or in a
// TSINIT_* variable, is exit 2 and exactly one `tsinit: error:` line naming the option and the
// value; a fixed set against whole lines from a table written by hand. Then 150 random bad
// command lines: each is exit 2 and one error line, never a crash.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/core/cli.ts';
import { expectUsageError } from '../helpers/expect.ts';
import { cleanEnv, runToEnd } from '../helpers/pid1.ts';
import { record, usePrivateInit } from './harness.ts';

const init = usePrivateInit();

describe('bad options on the command line: exit 2, one line naming option and value', () => {
  it.each([
    [['--bogus', 'true'], "unknown option '--bogus'"],
    [['-x', 'true'], "unknown option '-x'"],
    [['-vx', 'true'], "unknown option '-x'"],
    [['--inspect=0.0.0.0:9229', 'true'], "unknown option '--inspect'"],
    [['--help=1'], "option '--help' takes no value (got '1')"],
    [['--wait-all=yes', 'true'], "option '--wait-all' takes no value (got 'yes')"],
    [['--drain'], "option '--drain' needs a value: DURATION"],
    [['-r'], "option '-r' needs a value: FROM:TO"],
    [['-v', '-e'], "option '-e' needs a value: CODE"],
    [['--drain', '10x', 'true'], "invalid value for --drain: '10x'"],
    [['--drain=', 'true'], "invalid value for --drain: ''"],
    [['--kill-after=-1', 'true'], "invalid value for --kill-after: '-1'"],
    [['--term-delay', '1e3', 'true'], "invalid value for --term-delay: '1e3'"],
    [['--drain', '25d', 'true'], "invalid value for --drain: '25d'"],
    [['--drain', '600h', 'true'], "invalid value for --drain: '600h' (too long: at most 24 days)"],
    [['--drain', '0.0001', 'true'], "invalid value for --drain: '0.0001' (rounds to 0ms: expected 0 or at least 1ms)"],
    [['--kill-after', '0.4ms', 'true'], "invalid value for --kill-after: '0.4ms' (rounds to 0ms: expected 0 or at least 1ms)"],
    [['--term-delay=0.0000001h', 'true'], "invalid value for --term-delay: '0.0000001h' (rounds to 0ms: expected 0 or at least 1ms)"],
    [['--drain', 'z'.repeat(70), 'true'], `invalid value for --drain: '${'z'.repeat(64)}...' (70 characters) (expected e.g.`],
    [[`--${'z'.repeat(70)}`, 'true'], `unknown option '--${'z'.repeat(62)}...' (72 characters) (try 'tsinit --help')`],
    [['-p', 'FOO', 'true'], "invalid value for -p: 'FOO'"],
    [['-p', '0', 'true'], "invalid value for -p: '0'"],
    [['-p', '65', 'true'], "invalid value for -p: '65'"],
    [['--pdeath-signal', '99999999999999999999', 'true'], "invalid value for --pdeath-signal: '99999999999999999999'"],
    [['-p', 'RTMIN+31', 'true'], "invalid value for -p: 'RTMIN+31'"],
    [['-p', '32', 'true'], "invalid value for -p: '32' (signals 32 and 33 are reserved by glibc"],
    [['-r', '32:15', 'true'], "invalid value for -r: '32' (signals 32 and 33 are reserved by glibc"],
    [['-r', 'TERM:33', 'true'], "invalid value for -r: '33' (signals 32 and 33 are reserved by glibc"],
    [['-r', 'TERM', 'true'], "invalid value for -r: 'TERM' (expected FROM:TO"],
    [['-r', 'a:b:c', 'true'], "invalid value for -r: 'a:b:c'"],
    [['-r', ':TERM', 'true'], "invalid value for -r: ':TERM'"],
    [['-r', 'TERM:FOO', 'true'], "invalid value for -r: 'FOO'"],
    [['-r', 'KILL:TERM', 'true'], "invalid value for -r: 'KILL:TERM' (SIGKILL never reaches tsinit"],
    [['--rewrite=STOP:TERM', 'true'], "invalid value for --rewrite: 'STOP:TERM'"],
    [['-r', 'CHLD:HUP', 'true'], "invalid value for -r: 'CHLD:HUP'"],
    [['-e', '256', 'true'], "invalid value for -e: '256' (expected an exit code 0..255)"],
    [['-e', '-1', 'true'], "invalid value for -e: '-1'"],
    [['--remap-exit', 'abc', 'true'], "invalid value for --remap-exit: 'abc'"],
    [['-e1.5', 'true'], "invalid value for -e: '1.5'"],
    [['--log-format', 'xml', 'true'], "invalid value for --log-format: 'xml' (expected text or json)"],
    [[], 'no command given'],
    [['-v', '--'], 'no command given'],
    [['--drain', '1\nx', 'true'], "invalid value for --drain: '1\\x0ax'"],
    [['-p', '\u001b[31mRED', 'true'], "invalid value for -p: '\\x1b[31mRED'"],
    [['--bo\rgus', 'true'], "unknown option '--bo\\x0dgus'"],
  ])('%j', async (args, message) => {
    expectUsageError(await runToEnd(args, { init: init.bin, pid1: false }), message);
  });

  it('the same as PID 1', async () => {
    expectUsageError(await runToEnd(['--drain', '10x', 'true'], { init: init.bin }), "invalid value for --drain: '10x'");
    expectUsageError(await runToEnd(['-e', '256', 'true'], { init: init.bin }), "'256'");
  });
});

describe('bad TSINIT_* variables: exit 2, one line naming the variable and the value', () => {
  it.each([
    ['TSINIT_DRAIN', 'abc'],
    ['TSINIT_KILL_AFTER', 'forever'],
    ['TSINIT_TERM_DELAY', 'soon'],
    ['TSINIT_VERBOSITY', 'high'],
    ['TSINIT_SINGLE_CHILD', 'maybe'],
    ['TSINIT_WAIT_ALL', '2'],
    ['TSINIT_WARN_ON_REAP', 'perhaps'],
    ['TSINIT_REWRITE', 'TERM:BAD'],
    ['TSINIT_REMAP_EXIT', '300'],
    ['TSINIT_PDEATH_SIGNAL', 'X'],
    ['TSINIT_PDEATH_SIGNAL', '33'],
    ['TSINIT_REWRITE', 'TERM:32'],
    ['TSINIT_LOG_FORMAT', 'yaml'],
    ['TSINIT_TERM_DELAY', '0.0001'],
  ])('%s=%s', async (name, value) => {
    const r = await runToEnd(['true'], { init: init.bin, pid1: false, env: cleanEnv({ [name]: value }) });
    // A FROM:TO pair is named by its wrong half.
    expectUsageError(r, `invalid value for ${name}: '${name === 'TSINIT_REWRITE' ? value.split(':')[1] : value}'`);
  });
});

describe('exact messages, from a table written by hand', () => {
  // The whole line each bad command line must give, as the README and STYLE.md describe it
  // (the option, the value repeated, what is valid); not produced by calling the parser.
  it.each([
    [['--bogus', 'true'], "unknown option '--bogus' (try 'tsinit --help')"],
    [['-vx', 'true'], "unknown option '-x' (try 'tsinit --help')"],
    [['--help=1'], "option '--help' takes no value (got '1')"],
    [['--wait-all=yes', 'true'], "option '--wait-all' takes no value (got 'yes')"],
    [['--drain'], "option '--drain' needs a value: DURATION"],
    [['--drain', '10x', 'true'], "invalid value for --drain: '10x' (expected e.g. 500ms, 10s, 2m, 1h or a number of seconds)"],
    [['--kill-after', '0.4ms', 'true'], "invalid value for --kill-after: '0.4ms' (rounds to 0ms: expected 0 or at least 1ms)"],
    [['-p', '32', 'true'], "invalid value for -p: '32' (signals 32 and 33 are reserved by glibc for its threads; expected 1..31 or 34..64, e.g. TERM, 15, RTMIN+1)"],
    [['-r', 'TERM', 'true'], "invalid value for -r: 'TERM' (expected FROM:TO, e.g. TERM:QUIT or 15:0)"],
    [['-r', 'TERM:FOO', 'true'], "invalid value for -r: 'FOO' (expected a signal name or number 1..31 or 34..64, e.g. TERM, SIGTERM, 15)"],
    [['-r', 'KILL:TERM', 'true'], "invalid value for -r: 'KILL:TERM' (SIGKILL never reaches tsinit as a request to forward)"],
    [['-e', '256', 'true'], "invalid value for -e: '256' (expected an exit code 0..255)"],
    [['--log-format', 'xml', 'true'], "invalid value for --log-format: 'xml' (expected text or json)"],
    [[], 'no command given (usage: tsinit [options] [--] command [args...])'],
  ])('%j', async (args, message) => {
    const r = await runToEnd(args, { init: init.bin, pid1: false });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 2, stdout: '', stderr: `tsinit: error: ${message}\n` });
  });
});

describe('random bad command lines through the binary: one line, exit 2, no crash', () => {
  it('150 random command lines the parser refuses: exit 2, nothing on stdout, exactly one `tsinit: error:` line, no stack trace', () => {
    const token = fc.oneof(
      fc.constantFrom('--drain', '--kill-after', '--term-delay', '-p', '-r', '-e', '--log-format', '--bogus', '-x', '-vz', '--help=2', '--', '-c', '-v'),
      fc.constantFrom('10x', '-1', '256', 'TERM:FOO', 'KILL:TERM', 'xml', '', '1\n2', '\u001b[0m', 'ü', '١', '99999999999999999999', 'RTMIN+40'),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
    );
    // The parser only picks the sample (lines that would run no command); what the binary
    // prints is checked for its form alone, and the exact words by the table above.
    const samples = fc.sample(fc.array(token, { minLength: 1, maxLength: 6 }).filter((a) => {
      if (a.some((w) => w.includes('\0'))) return false; // cannot be an argument at all
      return parseCli(a, {}).kind === 'usage-error';
    }), { numRuns: 150, seed: 5 });
    expect(samples.length).toBe(150);
    const t0 = performance.now();
    for (const args of samples) {
      const r = spawnSync(init.bin, args, { env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
      expect({ args, code: r.status, signal: r.signal, stdout: r.stdout }).toEqual({ args, code: 2, signal: null, stdout: '' });
      expect(r.stderr, JSON.stringify(args)).toMatch(/^tsinit: error: [^\n]+\n$/);
      expect(r.stderr).not.toMatch(/internal error| {4}at |Error:/);
    }
    record('random usage errors through the binary', `${samples.length} command lines, exit 2 and one error line each, ${((performance.now() - t0) / samples.length).toFixed(0)} ms per run`);
  }, 60_000);
});
