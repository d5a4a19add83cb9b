import { describe, expect, it } from 'vitest';
import { decodeWaitStatus, exitCodeOf, remapExitCode } from '../../src/core/status.ts';

describe('decodeWaitStatus', () => {
  it.each(Array.from({ length: 256 }, (_, code) => [code]))('exit %i', (code) => {
    const end = decodeWaitStatus(code << 8);
    expect(end).toEqual({ kind: 'exited', code });
    expect(exitCodeOf(end!)).toBe(code);
  });

  it.each(Array.from({ length: 64 }, (_, i) => [i + 1]).filter(([s]) => s !== 0x7f))('killed by %i', (sig) => {
    const end = decodeWaitStatus(sig);
    expect(end).toEqual({ kind: 'signaled', signal: sig, coreDumped: false });
    expect(exitCodeOf(end!)).toBe(128 + sig);
  });

  it('reads the core-dump bit', () => {
    expect(decodeWaitStatus(0x80 | 11)).toEqual({ kind: 'signaled', signal: 11, coreDumped: true });
  });

  it.each([[0x137f, 'stopped by SIGSTOP'], [0xffff, 'continued']])('%i (%s) is not an end', (status) => {
    expect(decodeWaitStatus(status)).toBeUndefined();
  });
});

describe('remapExitCode', () => {
  it.each(Array.from({ length: 256 }, (_, code) => [code]))('remaps %i only when listed', (code) => {
    expect(remapExitCode(code, new Set([code]))).toBe(0);
    expect(remapExitCode(code, new Set([(code + 1) % 256]))).toBe(code);
    expect(remapExitCode(code, new Set())).toBe(code);
  });
});
