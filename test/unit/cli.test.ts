import { describe, expect, it } from 'vitest';
import { describeConfig, formatHelp, parseCli, type Config } from '../../src/core/cli.ts';
import { parseDuration } from '../../src/core/duration.ts';

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
    expect(c).toMatchObject({ verbosity: 0, singleChild: false, drainMs: 5000, killAfterMs: null, termDelayMs: null, waitAll: false, warnOnReap: false, pdeathSignal: null, logFormat: 'text' });
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
    expect([...c.rewrite]).toEqual([[15, 3], [10, 0], [35, 1]]);
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
    expect([...c.rewrite]).toEqual([[15, 3], [10, 0]]);
    expect([...c.remapExit]).toEqual([143, 130]);
  });

  it('an empty variable counts as unset', () => {
    const c = config(['x'], { TSINIT_DRAIN: '', TSINIT_KILL_AFTER: '', TSINIT_TERM_DELAY: '', TSINIT_VERBOSITY: '', TSINIT_LOG_FORMAT: '', TSINIT_PDEATH_SIGNAL: '', TSINIT_REWRITE: '', TSINIT_REMAP_EXIT: '' });
    expect(c).toMatchObject({ drainMs: 5000, killAfterMs: null, termDelayMs: null, verbosity: 0, logFormat: 'text', pdeathSignal: null });
  });

  it('the command line wins over the environment', () => {
    expect(config(['--drain', '1s', 'x'], { TSINIT_DRAIN: '9s' }).drainMs).toBe(1000);
    expect(config(['-r', 'TERM:INT', 'x'], { TSINIT_REWRITE: 'TERM:QUIT' }).rewrite.get(15)).toBe(2);
  });
});

describe('parseCli: usage errors name the option and the value', () => {
  it.each([
    [[], 'no command given'],
    [['-v'], 'no command given'],
    [['--'], 'no command given'],
    [['--bogus', 'x'], "unknown option '--bogus'"],
    [['-x', 'x'], "unknown option '-x'"],
    [['-vx', 'x'], "unknown option '-x'"],
    [['--tini-g', 'x'], "unknown option '--tini-g'"],
    [['--drain'], "option '--drain' needs a value"],
    [['-r'], "option '-r' needs a value"],
    [['--wait-all=1', 'x'], "option '--wait-all' takes no value"],
    [['--drain', '10x', 'x'], "invalid value for --drain: '10x'"],
    [['--kill-after', '-1', 'x'], "invalid value for --kill-after: '-1'"],
    [['--term-delay', '', 'x'], "invalid value for --term-delay: ''"],
    [['--drain', '30d', 'x'], "invalid value for --drain: '30d'"],
    [['--drain', '999999999', 'x'], "invalid value for --drain: '999999999' (too long"],
    [['-r', 'TERM', 'x'], "invalid value for -r: 'TERM' (expected FROM:TO"],
    [['-r', 'TERM:QUIT:HUP', 'x'], "invalid value for -r: 'TERM:QUIT:HUP'"],
    [['-r', 'FOO:QUIT', 'x'], "invalid value for -r: 'FOO'"],
    [['--rewrite', 'TERM:99', 'x'], "invalid value for --rewrite: '99'"],
    [['-r', 'KILL:TERM', 'x'], "invalid value for -r: 'KILL:TERM'"],
    [['-r', 'CHLD:TERM', 'x'], "invalid value for -r: 'CHLD:TERM'"],
    [['-e', '256', 'x'], "invalid value for -e: '256' (expected an exit code 0..255)"],
    [['-e', '-1', 'x'], "invalid value for -e: '-1'"],
    [['--remap-exit', 'abc', 'x'], "invalid value for --remap-exit: 'abc'"],
    [['-p', 'NOPE', 'x'], "invalid value for -p: 'NOPE'"],
    [['--pdeath-signal', '0', 'x'], "invalid value for --pdeath-signal: '0'"],
    // glibc reserves 32 and 33: as -p tsinit would die of its parent's death; as -r it never arrives.
    [['-p', '32', 'x'], "invalid value for -p: '32' (signals 32 and 33 are reserved by glibc"],
    [['--pdeath-signal=33', 'x'], "invalid value for --pdeath-signal: '33' (signals 32 and 33 are reserved by glibc"],
    [['-r', '32:15', 'x'], "invalid value for -r: '32' (signals 32 and 33 are reserved by glibc"],
    [['-r', 'TERM:33', 'x'], "invalid value for -r: '33' (signals 32 and 33 are reserved by glibc"],
    [['--rewrite', '33:0', 'x'], "invalid value for --rewrite: '33'"],
    [['--log-format', 'xml', 'x'], "invalid value for --log-format: 'xml' (expected text or json)"],
  ])('%j', (args, message) => {
    const m = usageError(args);
    expect(m).toContain(message);
    expect(m).not.toContain('\n');
  });

  it.each([
    [{ TSINIT_DRAIN: 'soon' }, "invalid value for TSINIT_DRAIN: 'soon'"],
    [{ TSINIT_VERBOSITY: 'loud' }, "invalid value for TSINIT_VERBOSITY: 'loud'"],
    [{ TSINIT_WAIT_ALL: 'maybe' }, "invalid value for TSINIT_WAIT_ALL: 'maybe'"],
    [{ TSINIT_REWRITE: 'TERM' }, "invalid value for TSINIT_REWRITE: 'TERM'"],
    [{ TSINIT_REMAP_EXIT: '143,300' }, "invalid value for TSINIT_REMAP_EXIT: '300'"],
    [{ TSINIT_LOG_FORMAT: 'yaml' }, "invalid value for TSINIT_LOG_FORMAT: 'yaml'"],
    [{ TSINIT_PDEATH_SIGNAL: 'X' }, "invalid value for TSINIT_PDEATH_SIGNAL: 'X'"],
    [{ TSINIT_PDEATH_SIGNAL: '32' }, "invalid value for TSINIT_PDEATH_SIGNAL: '32' (signals 32 and 33 are reserved by glibc"],
    [{ TSINIT_REWRITE: 'HUP:1,33:TERM' }, "invalid value for TSINIT_REWRITE: '33' (signals 32 and 33 are reserved by glibc"],
    [{ TSINIT_REWRITE: 'TERM:32' }, "invalid value for TSINIT_REWRITE: '32'"],
    [{ TSINIT_KILL_AFTER: '0.4ms' }, "invalid value for TSINIT_KILL_AFTER: '0.4ms' (rounds to 0ms: expected 0 or at least 1ms)"],
  ])('%j', (env, message) => {
    expect(usageError(['x'], env)).toContain(message);
  });

  // A duration that rounds to 0 would silently mean "none" (--drain 0 exits at once).
  it.each([
    [['--drain', '0.0001', 'x'], "invalid value for --drain: '0.0001' (rounds to 0ms: expected 0 or at least 1ms)"],
    [['--kill-after=0.4ms', 'x'], "invalid value for --kill-after: '0.4ms' (rounds to 0ms: expected 0 or at least 1ms)"],
    [['--term-delay', '0.0000001h', 'x'], "invalid value for --term-delay: '0.0000001h' (rounds to 0ms: expected 0 or at least 1ms)"],
  ])('%j is exactly: %s', (args, message) => {
    expect(usageError(args)).toBe(message);
  });

  // The value is repeated up to 64 characters; past that cut, with the whole length.
  const X64 = 'x'.repeat(64);
  it.each<[string, string[], string, Record<string, string>?]>([
    ['a 64-character value whole', ['--drain', X64, 'x'], `invalid value for --drain: '${X64}' (expected e.g. 500ms, 10s, 2m, 1h or a number of seconds)`],
    ['a 100 kB value cut', ['--drain', 'x'.repeat(100_000), 'x'], `invalid value for --drain: '${X64}...' (100000 characters) (expected e.g. 500ms, 10s, 2m, 1h or a number of seconds)`],
    ['a long unknown option cut', [`--${'y'.repeat(200)}`, 'x'], `unknown option '--${'y'.repeat(62)}...' (202 characters) (try 'tsinit --help')`],
    ['a long value of a flag cut', [`--wait-all=${'z'.repeat(65)}`, 'x'], `option '--wait-all' takes no value (got '${'z'.repeat(64)}...' (65 characters))`],
    ['a long variable cut', ['x'], `invalid value for TSINIT_LOG_FORMAT: '${X64}...' (1000 characters) (expected text or json)`, { TSINIT_LOG_FORMAT: 'x'.repeat(1000) }],
    ['cut before a surrogate pair, not inside it', ['-p', `${'s'.repeat(63)}\u{1F600}`, 'x'], `invalid value for -p: '${'s'.repeat(63)}...' (65 characters) (expected a signal name or number 1..31 or 34..64, e.g. TERM, SIGTERM, 15)`],
    ['cut first, then escaped', ['-p', '\n'.repeat(100), 'x'], `invalid value for -p: '${'\\x0a'.repeat(64)}...' (100 characters) (expected a signal name or number 1..31 or 34..64, e.g. TERM, SIGTERM, 15)`],
  ])('%s', (_name, args, message, env = {}) => {
    expect(usageError(args, env)).toBe(message);
  });
});

describe('describeConfig: the -v config line, in --help order', () => {
  it.each([
    [['x'], 'drain=5s'],
    [['--drain', '0', 'x'], 'drain=0ms'],
    [['-c', '--wait-all', '--kill-after', '2s', '--term-delay=500ms', '-r', 'TERM:QUIT', '-r', 'USR1:0', 'x'],
      'single-child drain=5s kill-after=2s term-delay=500ms wait-all rewrite SIGTERM→SIGQUIT rewrite SIGUSR1→drop'],
  ])('%j → %s', (args, line) => {
    expect(describeConfig(config(args))).toBe(line);
  });
});

describe('parseDuration', () => {
  it.each([['0', 0], ['1', 1000], ['0.5', 500], ['500ms', 500], ['10s', 10_000], ['2m', 120_000], ['1h', 3_600_000], ['1.5s', 1500]])(
    '%s → %i ms', (text, ms) => {
      expect(parseDuration(text)).toEqual({ ok: true, ms });
    },
  );

  it.each(['', 's', '10x', '-1', '1e3', '10 s', '1d', 'ms', '.5', '5.'])('%j is rejected', (text) => {
    expect(parseDuration(text).ok).toBe(false);
  });

  it.each([['0.0', 0], ['0ms', 0], ['0.000s', 0], ['00h', 0], ['0.001', 1], ['0.6ms', 1], ['1ms', 1]])('%s → %i ms: 0 itself, or at least 1 ms', (text, ms) => {
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
    for (const s of ['--drain', '--kill-after', '--term-delay', '--wait-all', '--rewrite', '--remap-exit', '--pdeath-signal', '--log-format', '--single-child', '--verbose', '--version', '--help']) {
      expect(help).toContain(s);
    }
    for (const v of ['TSINIT_DRAIN', 'TSINIT_KILL_AFTER', 'TSINIT_TERM_DELAY', 'TSINIT_WAIT_ALL', 'TSINIT_REWRITE', 'TSINIT_REMAP_EXIT', 'TSINIT_PDEATH_SIGNAL', 'TSINIT_LOG_FORMAT', 'TSINIT_SINGLE_CHILD', 'TSINIT_VERBOSITY']) {
      expect(help).toContain(v);
    }
  });
});
