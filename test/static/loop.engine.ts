// Inside the static engine only: tini's loop with real signals. A signal tsinit sends itself
// stays pending (every signal is blocked) until a turn of the loop takes it; a handler that
// throws is reported and the loop goes on (after the child runs nothing may end the init).
import { parseSignal } from '../../src/core/signals.ts';
import * as libc from '../../src/static/libc.ts';
import { Loop } from '../../src/static/loop.ts';
import { describe, expect, it } from './vitest-shim.ts';

const SIGUSR2 = parseSignal('USR2')!;

describe('[static] the loop', () => {
  it('takes a pending signal, survives a handler that throws, reaps every turn and runs due timers', () => {
    const loop = new Loop();
    const seen: string[] = [];
    const handlers = {
      onSignal: (sig: number) => { seen.push(`signal ${sig}`); if (seen.length === 1) throw new Error('boom'); },
      reap: () => { seen.push('reap'); },
      onError: (e: unknown) => { seen.push(`error ${e instanceof Error ? e.message : String(e)}`); },
    };
    expect(libc.kill(libc.getpid(), SIGUSR2)).toBe(0);
    loop.turn(handlers);
    expect(libc.kill(libc.getpid(), SIGUSR2)).toBe(0);
    loop.turn(handlers);
    let fired = 0;
    const cleared = loop.setTimer(0, () => { fired += 100; });
    loop.setTimer(0, () => { fired += 1; });
    loop.clearTimer(cleared);
    const t0 = libc.monotonicMs();
    loop.turn(handlers);
    expect(seen).toEqual(['signal 12', 'error boom', 'reap', 'signal 12', 'reap', 'reap']);
    expect(fired).toBe(1);
    expect(libc.monotonicMs() - t0).toBeLessThan(500); // the due timer, not the 1 s backstop, ended the wait
  });
});
