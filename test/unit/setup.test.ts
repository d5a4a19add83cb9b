import { describe, expect, it } from 'vitest';
import { parseCli, type Config } from '../../src/core/cli.ts';
import { configureParentDeath, configureReaping, createLog, type SetupCalls } from '../../src/core/setup.ts';
import { SIGTERM } from '../../src/core/signals.ts';

function configOf(args: string[]): Config {
  const parsed = parseCli(args, {});
  if (parsed.kind !== 'run') throw new Error(`not a config: ${parsed.kind}`);
  return parsed.config;
}

/** libc calls that record what was asked and answer as told. */
function fakeCalls(pid: number, errno: { subreaper?: number; pdeath?: number } = {}): SetupCalls & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    getpid: () => pid,
    becomeSubreaper: () => {
      asked.push('subreaper');
      return errno.subreaper ?? 0;
    },
    setParentDeathSignal: (sig) => {
      asked.push(`pdeath ${sig}`);
      return errno.pdeath ?? 0;
    },
    describeErrno: (e) => `Operation not permitted (errno ${e})`,
  };
}

function logged(args: string[], run: (config: Config, log: ReturnType<typeof createLog>) => void): string[] {
  const lines: string[] = [];
  const config = configOf(args);
  run(
    config,
    createLog(config, (l) => {
      lines.push(l);
      return { errno: 0, written: l.length };
    }),
  );
  return lines;
}

describe('createLog', () => {
  it('writes the config first at -vv, nothing at the default verbosity', () => {
    const lines = logged(['-vv', '--', 'x'], () => undefined);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tsinit: .*drain=5s/);
    expect(logged(['--', 'x'], () => undefined)).toEqual([]);
  });
});

describe('configureReaping', () => {
  it('as PID 1 asks for nothing', () => {
    const calls = fakeCalls(1);
    expect(logged(['-v', '--', 'x'], (_c, log) => configureReaping(calls, log))).toEqual([]);
    expect(calls.asked).toEqual([]);
  });

  it('not PID 1: becomes a subreaper and says so (-v)', () => {
    const calls = fakeCalls(42);
    expect(logged(['-v', '--', 'x'], (_c, log) => configureReaping(calls, log))).toEqual([
      'tsinit: not PID 1 (pid 42): registered as a child subreaper\n',
    ]);
    expect(calls.asked).toEqual(['subreaper']);
  });

  it('a refused subreaper is a warning, shown at the default verbosity, and not fatal', () => {
    const calls = fakeCalls(42, { subreaper: 1 });
    const lines = logged(['--', 'x'], (_c, log) => configureReaping(calls, log));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^tsinit: warning: not PID 1 and cannot become a subreaper: Operation not permitted \(errno 1\); orphans will not be reaped\n$/,
    );
  });
});

describe('configureParentDeath', () => {
  it('without --pdeath-signal asks for nothing', () => {
    const calls = fakeCalls(1);
    logged(['--', 'x'], (c, log) => configureParentDeath(calls, c, log));
    expect(calls.asked).toEqual([]);
  });

  it('sets the signal given; a refusal is a warning', () => {
    const ok = fakeCalls(1);
    expect(logged(['--pdeath-signal', 'TERM', '--', 'x'], (c, log) => configureParentDeath(ok, c, log))).toEqual([]);
    expect(ok.asked).toEqual([`pdeath ${SIGTERM}`]);
    const refused = fakeCalls(1, { pdeath: 22 });
    const lines = logged(['--pdeath-signal', 'TERM', '--', 'x'], (c, log) => configureParentDeath(refused, c, log));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tsinit: warning: cannot set the parent-death signal: .*errno 22/);
  });
});
