import { describe, expect, it } from 'vitest';
import { parseCli, type Config } from '../../src/core/cli.ts';
import { decideStart, formatInternalError, logSpawned, spawnChild, type SpawnCalls } from '../../src/core/entry.ts';
import type { SpawnRequest, SpawnResult } from '../../src/core/host.ts';
import { createLog } from '../../src/core/setup.ts';

function configOf(args: string[]): Config {
  const parsed = parseCli(args, {});
  if (parsed.kind !== 'run') throw new Error(`not a config: ${parsed.kind}`);
  return parsed.config;
}

/** A sink that keeps the lines it is given. */
function recorder(): { lines: string[]; sink: (text: string) => { errno: number; written: number } } {
  const lines: string[] = [];
  return {
    lines,
    sink: (text) => {
      lines.push(text);
      return { errno: 0, written: text.length };
    },
  };
}

describe('decideStart', () => {
  it.each([
    [['--help'], 'print', /^Usage: tsinit /],
    [['--version'], 'print', /^tsinit version \S+ - engine x\n$/],
  ])('%j: text to print, nothing on stderr', (args, kind, text) => {
    const err = recorder();
    const start = decideStart(args, {}, 'engine x', err.sink);
    expect(start.kind).toBe(kind);
    expect(start.kind === 'print' && start.text).toMatch(text);
    expect(err.lines).toEqual([]);
  });

  it.each([
    [['--bogus', 'true'], {}, "tsinit: error: unknown option '--bogus' (try 'tsinit --help')\n"],
    [['true'], { TSINIT_DRAIN: '10x' }, /^tsinit: error: invalid value for TSINIT_DRAIN: '10x'/],
  ])('%j %j: its line on stderr, exit 2', (args, env, line) => {
    const err = recorder();
    expect(decideStart(args, env, 'engine x', err.sink)).toEqual({ kind: 'exit', code: 2 });
    expect(err.lines).toHaveLength(1);
    expect(err.lines[0]).toMatch(line);
  });

  it('a command: the config to run', () => {
    const start = decideStart(['-v', '--', 'sleep', '1'], {}, 'engine x', recorder().sink);
    expect(start.kind === 'run' && start.config.command).toEqual(['sleep', '1']);
  });
});

describe('spawnChild', () => {
  /** libc calls with a terminal of our own group on stdin, and a spawn that answers as told. */
  function calls(result: SpawnResult, asked: SpawnRequest[]): SpawnCalls {
    return {
      isatty: () => true,
      tcgetpgrp: () => 7,
      getpgrp: () => 7,
      spawn: (request) => {
        asked.push(request);
        return result;
      },
      describeErrno: (e) => `strerror ${e}`,
    };
  }

  it('asks for the command, its index, the terminal and the descriptors; the pid comes back', () => {
    const asked: SpawnRequest[] = [];
    const config = configOf(['-v', 'sleep', '1']);
    const err = recorder();
    expect(spawnChild(calls({ pid: 42 }, asked), config, createLog(config, err.sink), [5])).toEqual({
      kind: 'running',
      pid: 42,
    });
    expect(asked).toEqual([{ command: ['sleep', '1'], commandIndex: 1, takeTerminal: true, inheritFds: [5] }]);
    expect(err.lines).toEqual([]);
  });

  // The codes and lines of the README's exit-code table, written by hand.
  it.each([
    [2, 'nope', 127, "tsinit: error: command not found: 'nope': strerror 2\n"],
    [2, './nope', 127, "tsinit: error: cannot run './nope': strerror 2\n"],
    [13, 'x', 126, "tsinit: error: cannot run 'x': strerror 13\n"],
    [8, 'x', 126, "tsinit: error: cannot run 'x': strerror 8 (a script needs a #! line)\n"],
    [12, 'x', 1, "tsinit: error: cannot run 'x': strerror 12\n"],
  ])('errno %i for %s: exit %i and its line', (errno, command, code, line) => {
    const config = configOf([command]);
    const err = recorder();
    expect(spawnChild(calls({ errno }, []), config, createLog(config, err.sink), [])).toEqual({ kind: 'failed', code });
    expect(err.lines).toEqual([line]);
  });

  it('a terminal the host could not hand over is a debug line, before the outcome', () => {
    const config = configOf(['-vv', 'nope']);
    const err = recorder();
    spawnChild(calls({ errno: 2, terminalRefused: 1 }, []), config, createLog(config, err.sink), []);
    const lines = err.lines.slice(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/spawn with the terminal failed \(EPERM\); retrying without\n$/);
    expect(lines[1]).toMatch(/command not found: 'nope'/);
  });
});

describe('logSpawned and formatInternalError', () => {
  it("the child's line at -v", () => {
    const config = configOf(['-v', 'sleep', '1']);
    const err = recorder();
    logSpawned(createLog(config, err.sink), config, 42);
    expect(err.lines).toHaveLength(1);
    expect(err.lines[0]).toMatch(/spawned pid 42: sleep 1\n$/);
  });

  it.each([
    [new Error('boom'), undefined, 'tsinit: error: internal error: boom\n'],
    ['alloc failed', undefined, 'tsinit: error: internal error: alloc failed\n'],
    [new Error('boom'), 'handling SIGTERM', 'tsinit: error: internal error handling SIGTERM: boom\n'],
  ])('%s %s', (e, context, line) => {
    expect(formatInternalError(e, context)).toBe(line);
  });
});
