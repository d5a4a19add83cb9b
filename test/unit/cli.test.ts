import { describe, expect, it } from 'vitest';
import { describeConfig, formatHelp, parseCli, type Config } from '../../src/core/cli.ts';
import { parseDuration } from '../../src/core/duration.ts';
import { titleOf, USAGE_ERRORS } from '../helpers/usage-errors.ts';

function config(args: string[], env: Record<string, string> = {}): Config {
  const r = parseCli(args, env);
  if (r.kind !== 'run') throw new Error(`expected a run, got ${JSON.stringify(r)}`);
  return r.config;
}

function usageError(args: string[], env: Record<string, string> = {}): string {
  const r = parseCli(args, env);
  if (r.kind !== 'usage-error') throw new Error(`expected a usage error, got ${JSON.stringify(r)}`);
  return r.message;
}

describe('parseCli: where the command starts', () => {
  it.each([
    [['sh', '-c', 'x'], 0, ['sh', '-c', 'x']],
    [['--', 'sh', '-c', 'x'], 1, ['sh', '-c', 'x']],
    [['-v', 'sh', '-v'], 1, ['sh', '-v']],
    [['-v', '--', '--help'], 2, ['--help']],
    [['--', '--', 'x'], 1, ['--', 'x']],
    [['--drain', '1s', 'cmd', '--drain', 'bogus'], 2, ['cmd', '--drain', 'bogus']],
    [['--drain=1s', 'cmd'], 1, ['cmd']],
    [['-r', 'TERM:QUIT', 'nginx', '-g', 'daemon off;'], 2, ['nginx', '-g', 'daemon off;']],
    [['-rTERM:QUIT', 'x'], 1, ['x']],
    [['-vvc', 'x'], 1, ['x']],
    [['-g', '-s', '--', 'x'], 3, ['x']],
    [['-', 'x'], 0, ['-', 'x']],
    [['', 'x'], 0, ['', 'x']],
  ])('%j → command at %i', (args, index, command) => {
    const c = config(args);
    expect(c.commandIndex).toBe(index);
    expect(c.command).toEqual(command);
  });
});

describe('parseCli: options', () => {
  it('has the documented defaults', () => {
    const c = config(['x']);
    expect(c).toMatchObject({
      verbosity: 0,
      singleChild: false,
      drainMs: 5000,
      killAfterMs: null,
      termDelayMs: null,
      waitAll: false,
      warnOnReap: false,
      pdeathSignal: null,
      logFormat: 'text',
    });
    expect(c.rewrite.size).toBe(0);
    expect(c.remapExit.size).toBe(0);
  });

  it.each([
    [['-v', 'x'], { verbosity: 1 }],
    [['-vv', 'x'], { verbosity: 2 }],
    [['-v', '-v', '--verbose', 'x'], { verbosity: 3 }],
    [['-c', 'x'], { singleChild: true }],
    [['--single-child', 'x'], { singleChild: true }],
    [['--drain', '0', 'x'], { drainMs: 0 }],
    [['--drain', '250ms', 'x'], { drainMs: 250 }],
    [['--kill-after', '2m', 'x'], { killAfterMs: 120_000 }],
    [['--term-delay=1.5', 'x'], { termDelayMs: 1500 }],
    [['--wait-all', 'x'], { waitAll: true }],
    [['-w', 'x'], { warnOnReap: true }],
    [['--warn-on-reap', 'x'], { warnOnReap: true }],
    [['-p', 'SIGKILL', 'x'], { pdeathSignal: 9 }],
    [['--pdeath-signal=TERM', 'x'], { pdeathSignal: 15 }],
    [['--log-format', 'json', 'x'], { logFormat: 'json' }],
  ])('%j', (args, expected) => {
    expect(config(args)).toMatchObject(expected);
  });

  it('collects rewrites by name or number, TO 0 drops', () => {
    const c = config(['-r', 'TERM:QUIT', '--rewrite', '10:0', '-r', 'SIGRTMIN+1:HUP', 'x']);
    expect([...c.rewrite]).toEqual([
      [15, 3],
      [10, 0],
      [35, 1],
    ]);
  });

  it('collects remapped exit codes', () => {
    expect([...config(['-e', '143', '--remap-exit', '0', '-e', '255', 'x']).remapExit]).toEqual([143, 0, 255]);
  });

  it.each([['-h'], ['--help'], ['-v', '--help', 'x'], ['-vh']])('%j is help', (...args) => {
    expect(parseCli(args).kind).toBe('help');
  });

  it("tini's -g and -s are accepted and change nothing", () => {
    expect(config(['-g', '-s', '-gs', 'x'])).toEqual({ ...config(['x']), commandIndex: 3 });
  });

  it('--version', () => {
    expect(parseCli(['--version']).kind).toBe('version');
  });

  it('the command after the options is never read as an option', () => {
    expect(parseCli(['x', '--help']).kind).toBe('run');
  });
});

describe('parseCli: environment twins', () => {
  it.each([
    [{ TSINIT_VERBOSITY: '2' }, { verbosity: 2 }],
    [{ TSINIT_SINGLE_CHILD: '1' }, { singleChild: true }],
    [{ TSINIT_SINGLE_CHILD: 'no' }, { singleChild: false }],
    [{ TSINIT_DRAIN: '10s' }, { drainMs: 10_000 }],
    [{ TSINIT_KILL_AFTER: '3' }, { killAfterMs: 3000 }],
    [{ TSINIT_TERM_DELAY: '1h' }, { termDelayMs: 3_600_000 }],
    [{ TSINIT_WAIT_ALL: 'true' }, { waitAll: true }],
    [{ TSINIT_WARN_ON_REAP: 'on' }, { warnOnReap: true }],
    [{ TSINIT_PDEATH_SIGNAL: 'HUP' }, { pdeathSignal: 1 }],
    [{ TSINIT_LOG_FORMAT: 'json' }, { logFormat: 'json' }],
  ])('%j', (env, expected) => {
    expect(config(['x'], env)).toMatchObject(expected);
  });

  it('TSINIT_REWRITE and TSINIT_REMAP_EXIT are comma-separated', () => {
    const c = config(['x'], { TSINIT_REWRITE: 'TERM:QUIT, USR1:0', TSINIT_REMAP_EXIT: '143,130' });
    expect([...c.rewrite]).toEqual([
      [15, 3],
      [10, 0],
    ]);
    expect([...c.remapExit]).toEqual([143, 130]);
  });

  it('an empty variable counts as unset', () => {
    const c = config(['x'], {
      TSINIT_DRAIN: '',
      TSINIT_KILL_AFTER: '',
      TSINIT_TERM_DELAY: '',
      TSINIT_VERBOSITY: '',
      TSINIT_LOG_FORMAT: '',
      TSINIT_PDEATH_SIGNAL: '',
      TSINIT_REWRITE: '',
      TSINIT_REMAP_EXIT: '',
    });
    expect(c).toMatchObject({
      drainMs: 5000,
      killAfterMs: null,
      termDelayMs: null,
      verbosity: 0,
      logFormat: 'text',
      pdeathSignal: null,
    });
  });

  it('the command line wins over the environment', () => {
    expect(config(['--drain', '1s', 'x'], { TSINIT_DRAIN: '9s' }).drainMs).toBe(1000);
    expect(config(['-r', 'TERM:INT', 'x'], { TSINIT_REWRITE: 'TERM:QUIT' }).rewrite.get(15)).toBe(2);
  });
});

describe('parseCli: usage errors name the option and the value', () => {
  // The whole message of every row of the hand-written table the built executables are held to too.
  it.each(USAGE_ERRORS.map(([args, env, message]) => [titleOf(args, env), args, env, message] as const))(
    '%s',
    (_title, args, env, message) => {
      expect(usageError([...args], env)).toBe(message);
    },
  );

  // The parser's own cut, in UTF-16 units, before a surrogate pair and not inside it. Not in the
  // shared table: the static host hands argv to Duktape, which counts a character beyond the BMP
  // as one, so through dist/tsinit this value is 64 characters and repeated whole.
  it('a value is cut before a surrogate pair, not inside it', () => {
    expect(usageError(['-p', `${'s'.repeat(63)}\u{1F600}`, 'x'])).toBe(
      `invalid value for -p: '${'s'.repeat(63)}...' (65 characters) (expected a signal name or number 1..31 or 34..64, e.g. TERM, SIGTERM, 15)`,
    );
  });
});

describe('describeConfig: the -v config line, in --help order', () => {
  it.each([
    [['x'], 'drain=5s'],
    [['--drain', '0', 'x'], 'drain=0ms'],
    [
      ['-c', '--wait-all', '--kill-after', '2s', '--term-delay=500ms', '-r', 'TERM:QUIT', '-r', 'USR1:0', 'x'],
      'single-child drain=5s kill-after=2s term-delay=500ms wait-all rewrite SIGTERM→SIGQUIT rewrite SIGUSR1→drop',
    ],
  ])('%j → %s', (args, line) => {
    expect(describeConfig(config(args))).toBe(line);
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['1', 1000],
    ['0.5', 500],
    ['500ms', 500],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
  ])('%s → %i ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(['', 's', '10x', '-1', '1e3', '10 s', '1d', 'ms', '.5', '5.'])('%j is rejected', (text) => {
    expect(parseDuration(text).ok).toBe(false);
  });

  it.each([
    ['0.0', 0],
    ['0ms', 0],
    ['0.000s', 0],
    ['00h', 0],
    ['0.001', 1],
    ['0.6ms', 1],
    ['1ms', 1],
  ])('%s → %i ms: 0 itself, or at least 1 ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(['0.0001', '0.0004', '0.4ms', '0.000001m', '0.0000001h'])('%j rounds to 0 ms and is rejected', (text) => {
    expect(parseDuration(text)).toEqual({ ok: false, reason: 'rounds to 0ms: expected 0 or at least 1ms' });
  });
});

describe('formatHelp', () => {
  it("names tini's no-op flags in one line, never as options of their own", () => {
    expect(formatHelp()).toContain('\n  -g, -s   ');
    expect(formatHelp()).not.toContain('tini-');
  });

  it('lists every option with its environment variable', () => {
    const help = formatHelp();
    for (const s of [
      '--drain',
      '--kill-after',
      '--term-delay',
      '--wait-all',
      '--rewrite',
      '--remap-exit',
      '--pdeath-signal',
      '--log-format',
      '--single-child',
      '--verbose',
      '--version',
      '--help',
    ]) {
      expect(help).toContain(s);
    }
    for (const v of [
      'TSINIT_DRAIN',
      'TSINIT_KILL_AFTER',
      'TSINIT_TERM_DELAY',
      'TSINIT_WAIT_ALL',
      'TSINIT_REWRITE',
      'TSINIT_REMAP_EXIT',
      'TSINIT_PDEATH_SIGNAL',
      'TSINIT_LOG_FORMAT',
      'TSINIT_SINGLE_CHILD',
      'TSINIT_VERBOSITY',
    ]) {
      expect(help).toContain(v);
    }
  });
});
