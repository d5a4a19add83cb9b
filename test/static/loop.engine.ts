// Inside the static engine only: tini's loop with real signals. A signal tsinit sends itself
// stays pending (every signal is blocked) until a turn of the loop takes it; a handler that
// throws is reported and the loop goes on (after the child runs nothing may end the init), and
// so does run() when even the report throws (out of memory can strike anywhere), waiting longer
// after each turn that threw instead of spinning.
import { parseSignal, SIGRTMIN } from '../../src/core/signals.ts';
import * as libc from '../../src/static/libc.ts';
import { Loop } from '../../src/static/loop.ts';
import { describe, expect, it } from './vitest-shim.ts';

const SIGUSR2 = parseSignal('USR2')!;

/** The bridge's fork and waitpid, which libc.ts keeps to itself: run() never returns, so it runs in a child. */
declare const bridge: {
  fork(): number;
  waitpid(pid: number, status: number, options: number): number;
  calloc(n: number, size: number): number;
  getI32(p: number, off: number): number;
  _exit(code: number): never;
};

describe('[static] the loop', () => {
  it('takes a pending signal, survives a handler that throws, reaps every turn and runs due timers', () => {
    const loop = new Loop();
    const seen: string[] = [];
    const handlers = {
      onSignal: (sig: number) => {
        seen.push(`signal ${sig}`);
        if (seen.length === 1) throw new Error('boom');
      },
      reap: () => {
        seen.push('reap');
      },
      onError: (e: unknown) => {
        seen.push(`error ${e instanceof Error ? e.message : String(e)}`);
      },
    };
    expect(libc.kill(libc.getpid(), SIGUSR2)).toBe(0);
    loop.turn(handlers);
    expect(libc.kill(libc.getpid(), SIGUSR2)).toBe(0);
    loop.turn(handlers);
    let fired = 0;
    const cleared = loop.setTimer(0, () => {
      fired += 100;
    });
    loop.setTimer(0, () => {
      fired += 1;
    });
    loop.clearTimer(cleared);
    const t0 = libc.monotonicMs();
    loop.turn(handlers);
    expect(seen).toEqual(['signal 12', 'error boom', 'reap', 'signal 12', 'reap', 'reap']);
    expect(fired).toBe(1);
    expect(libc.monotonicMs() - t0).toBeLessThan(500); // the due timer, not the 1 s backstop, ended the wait
  });
});

describe("[static] the loop's run", () => {
  it('goes on when a turn throws and its onError throws too, until a handler ends the process', () => {
    const pid = bridge.fork();
    if (pid === 0) {
      try {
        // Queued realtime signals: each turn takes one at once instead of waiting 1 s.
        for (let i = 0; i < 3; i++) libc.kill(libc.getpid(), SIGRTMIN);
        let turns = 0;
        new Loop().run({
          onSignal: () => {
            turns++;
          },
          reap: () => {
            if (turns === 3) libc.exit(7);
            throw new Error('reap');
          },
          onError: () => {
            throw new Error('onError');
          },
        });
      } catch {
        // run() let an exception out: the end of tsinit, were the child running.
      }
      bridge._exit(99);
    }
    const status = bridge.calloc(1, 4);
    expect(bridge.waitpid(pid, status, 0)).toBe(pid);
    expect(bridge.getI32(status, 0)).toBe(7 << 8); // exited with 7
  });

  it('waits longer after each turn that throws: a due timer the failing turns never reach is no spin', () => {
    const pid = bridge.fork();
    if (pid === 0) {
      try {
        const loop = new Loop();
        // Due at once, and run after the reaping: a turn whose reaping and report both throw
        // never gets to it, so without a back-off every wait would be 0 ms.
        loop.setTimer(0, () => undefined);
        let turns = 0;
        let first = 0;
        loop.run({
          onSignal: () => undefined,
          reap: () => {
            turns++;
            if (turns === 1) first = libc.monotonicMs();
            // Five waits after failed turns: 10, 20, 40, 80 and 160 ms at least.
            if (turns === 6) libc.exit(libc.monotonicMs() - first >= 310 ? 7 : 8);
            throw new Error('reap');
          },
          onError: () => {
            throw new Error('onError');
          },
        });
      } catch {
        // run() let an exception out.
      }
      bridge._exit(99);
    }
    const status = bridge.calloc(1, 4);
    expect(bridge.waitpid(pid, status, 0)).toBe(pid);
    expect(bridge.getI32(status, 0)).toBe(7 << 8); // 8: the six turns came faster than the back-off allows
  });
});
