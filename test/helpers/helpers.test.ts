// The helpers the suites share, held to what they promise: the environment cleaner keeps a
// developer's TSINIT_* and NODE_OPTIONS away from tsinit, the stat parser survives any
// command name, and a negative check after settle() does catch a signal that got through.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectForwarded, expectNotForwarded, grandchildPid, settle } from './expect.ts';
import { cleanEnv, fixture, killAll, runPid1, runToEnd, signalNumber } from './pid1.ts';
import { readStat, until } from './proc.ts';

afterEach(killAll);

/** Runs fn with process.env changed by vars, then puts it back (once fn's promise, if any, settles). */
async function withEnv<T>(vars: Record<string, string>, fn: () => T | Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(vars)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe('cleanEnv', () => {
  it("drops every TSINIT_* and NODE_OPTIONS, keeps the rest and the wrapper's TSINIT_ARM64, and adds what the test asks for", async () => {
    await withEnv(
      { TSINIT_VERBOSITY: '2', TSINIT_DRAIN: '1s', NODE_OPTIONS: '--inspect', TSINIT_ARM64: '/x', KEEP_ME: 'yes' },
      () => {
        const env = cleanEnv({ TSINIT_WAIT_ALL: '1' });
        expect(
          Object.keys(env)
            .filter((k) => k.startsWith('TSINIT_') || k === 'NODE_OPTIONS')
            .sort(),
        ).toEqual(['TSINIT_ARM64', 'TSINIT_WAIT_ALL']);
        expect(env.KEEP_ME).toBe('yes');
        expect(env.PATH).toBe(process.env.PATH);
        expect(cleanEnv({ NODE_OPTIONS: '--x' }).NODE_OPTIONS).toBe('--x');
      },
    );
  });

  it("a developer's TSINIT_VERBOSITY=1 and NODE_OPTIONS leave an empty-stderr check passing; without the cleaner they would not", async () => {
    await withEnv({ TSINIT_VERBOSITY: '1', NODE_OPTIONS: '--require /nonexistent' }, async () => {
      const r = await runToEnd(['--', 'sh', '-c', 'exit 3']);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 3, stderr: '' });
      // The control: the same run with the test process's environment as it is.
      const raw = await runToEnd(['--', 'sh', '-c', 'exit 3'], { env: process.env });
      expect(raw.code).toBe(3);
      expect(raw.stderr).toMatch(/^tsinit: /m);
    });
  });
});

describe('readStat', () => {
  it('reads the fields after a command name that holds spaces and parentheses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsinit-helpers-'));
    const odd = join(dir, 'a) b (c');
    copyFileSync('/bin/sleep', odd);
    const p = spawn(odd, ['30'], { stdio: 'ignore' });
    try {
      await until('the copy of sleep runs', () => readStat(p.pid!)?.state === 'S');
      expect(readStat(p.pid!)).toMatchObject({ pid: p.pid, state: 'S', ppid: process.pid });
    } finally {
      p.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('signalNumber', () => {
  it.each([
    ['SIGTERM', 15],
    ['SIGRTMIN', 34],
    ['SIGRTMIN+3', 37],
    ['SIGRTMAX', 64],
  ])('%s is %i', (name, n) => {
    expect(signalNumber(name)).toBe(n);
  });

  it.each(['15', 'TERM', 'SIGFOO', 'SIG32'])('%s is refused: tests name signals', (name) => {
    expect(() => signalNumber(name)).toThrow();
  });
});

describe('settle and expectNotForwarded', () => {
  it('control: after settle, a signal tsinit did forward to the grandchild is caught by the negative check', async () => {
    const r = runPid1(['--', fixture('signals.py'), '--grandchild']);
    await r.waitFor(/GRANDCHILD/);
    await r.waitFor(/READY/);
    await r.signal('SIGUSR2');
    await expectForwarded(r, 'SIGUSR2');
    await settle(r, { pid: await grandchildPid(r), who: 'grandchild' });
    expect(() => expectNotForwarded(r, 'SIGUSR2', 'grandchild')).toThrow();
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
  });
});
