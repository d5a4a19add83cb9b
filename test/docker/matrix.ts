// The stop matrix's row and assertions, shared by the Docker (test/docker/matrix.test.ts) and
// Podman (test/podman/matrix.test.ts) suites: the same cases on two engines, told apart only by
// the init's label and the engine's own share of a stop. Apart from docker.ts so that the
// rollout driver, which imports docker.ts outside vitest, does not import vitest.
import { expect } from 'vitest';
import { APP_WORK_S, TIMEOUT_STOP_MAX_S, type MatrixCase, type StopOutcome } from './docker.ts';

/** A matrix case's row in RESULTS.md / PODMAN.md; initLabel names the init as that engine's table does. */
export function matrixCells(c: MatrixCase<string>, o: StopOutcome, initLabel: string): Record<string, string> {
  return {
    app: c.app === 'sleep' ? '`sleep 1000`' : '`app.py` (traps TERM, works 1 s)',
    form: c.form === 'entrypoint' ? 'entrypoint script + `exec "$@"`' : c.form,
    init: initLabel,
    'PID 1': `\`${o.pid1}\``,
    'stop s': o.stopS.toFixed(2),
    exit: String(o.exit),
    'app finished its handler':
      c.app === 'sleep' ? '— (no handler)' : o.handler === 'finished' ? 'yes' : `no (${o.handler})`,
    why: c.why,
  };
}

/**
 * What every matrix case asserts, on either engine: PID 1, exit code, how far the handler got,
 * and the stop time. `fastS` is the engine's own share of a stop (a round trip through client,
 * daemon and runtime): it tells "forwarded" from "waited out the 10 s timeout".
 */
export function expectMatrixOutcome(c: MatrixCase<string>, o: StopOutcome, label: string, fastS: number): void {
  const detail = `${label}: stop ${o.stopS.toFixed(2)} s, exit ${o.exit}, handler ${o.handler}, PID 1 '${o.pid1}'\n${o.logs}`;
  expect(o.pid1, detail).toMatch(c.pid1);
  expect(o.exit, detail).toBe(c.exit);
  expect(o.handler, detail).toBe(c.handler);
  if (c.stop === 'fast') expect(o.stopS, detail).toBeLessThan(fastS);
  if (c.stop === 'app') {
    // At least the handler's second (it really ran), at most that plus the engine's share.
    expect(o.stopS, detail).toBeGreaterThan(APP_WORK_S - 0.1);
    expect(o.stopS, detail).toBeLessThan(APP_WORK_S + fastS);
  }
  if (c.stop === 'timeout') {
    expect(o.stopS, detail).toBeGreaterThan(9.5);
    expect(o.stopS, detail).toBeLessThan(TIMEOUT_STOP_MAX_S);
  }
}
