import { describe, expect, it } from 'vitest';
import { ERRNO, errnoName } from '../../src/core/errno.ts';
import {
  decodeWaitStatus,
  describeSpawnFailure,
  exitCodeForKillAfter,
  exitCodeOf,
  remapExitCode,
} from '../../src/core/status.ts';

/** 0 .. n-1, each as a row of it.each. */
const rows = (n: number): [number][] => {
  const out: [number][] = [];
  for (let i = 0; i < n; i++) out.push([i]);
  return out;
};

describe('decodeWaitStatus', () => {
  it.each(rows(256))('exit %i', (code) => {
    const end = decodeWaitStatus(code << 8);
    expect(end).toEqual({ kind: 'exited', code });
    expect(exitCodeOf(end!)).toBe(code);
  });

  it.each(
    rows(64)
      .map(([i]) => [i + 1])
      .filter(([s]) => s !== 0x7f),
  )('killed by %i', (sig) => {
    const end = decodeWaitStatus(sig);
    expect(end).toEqual({ kind: 'signaled', signal: sig, coreDumped: false });
    expect(exitCodeOf(end!)).toBe(128 + sig);
  });

  it('reads the core-dump bit', () => {
    expect(decodeWaitStatus(0x80 | 11)).toEqual({ kind: 'signaled', signal: 11, coreDumped: true });
  });

  it.each([
    [0x137f, 'stopped by SIGSTOP'],
    [0xffff, 'continued'],
  ])('%i (%s) is not an end', (status) => {
    expect(decodeWaitStatus(status)).toBeUndefined();
  });
});

describe('exitCodeForKillAfter', () => {
  it("is 137, the code of a child killed by SIGKILL (the README's table)", () => {
    expect(exitCodeForKillAfter()).toBe(137);
    expect(exitCodeForKillAfter()).toBe(exitCodeOf(decodeWaitStatus(9)!));
  });
});

describe('remapExitCode', () => {
  it.each(rows(256))('remaps %i only when listed', (code) => {
    expect(remapExitCode(code, new Set([code]))).toBe(0);
    expect(remapExitCode(code, new Set([(code + 1) % 256]))).toBe(code);
    expect(remapExitCode(code, new Set())).toBe(code);
  });
});

describe('describeSpawnFailure: every errno a spawn can meet', () => {
  const NOT_EXECUTABLE = [
    'EACCES',
    'ENOEXEC',
    'EISDIR',
    'ENOTDIR',
    'E2BIG',
    'ETXTBSY',
    'ELOOP',
    'ENAMETOOLONG',
    'EPERM',
  ];
  it.each(Object.keys(ERRNO))('%s', (name) => {
    const err = ERRNO[name as keyof typeof ERRNO];
    const { code, message } = describeSpawnFailure('/app/run', err, `reason (${errnoName(err)})`);
    expect(code).toBe(name === 'ENOENT' ? 127 : NOT_EXECUTABLE.includes(name) ? 126 : 1);
    expect(message).toBe(
      `cannot run '/app/run': reason (${name})${name === 'ENOEXEC' ? ' (a script needs a #! line)' : ''}`,
    );
  });

  it('a bare name not found on PATH says "command not found"', () => {
    expect(describeSpawnFailure('nosuch', ERRNO.ENOENT, 'No such file or directory (ENOENT)')).toEqual({
      code: 127,
      message: "command not found: 'nosuch': No such file or directory (ENOENT)",
    });
  });

  it('an errno outside the table is named by its number and is exit 1', () => {
    expect(errnoName(95)).toBe('errno 95');
    expect(describeSpawnFailure('x', 95, 'Operation not supported (errno 95)').code).toBe(1);
  });
});
