// Runs what the shim collected inside the static host: a line per test on stdout, exit 1 on any failure.
import * as libc from '../../src/static/libc.ts';
import { runCollected } from './vitest-shim.ts';

export function runInEngine(): never {
  return libc.exit(
    runCollected((line) => {
      libc.writeAll(1, `${line}\n`, libc.WAIT_FOREVER);
    }) === 0
      ? 0
      : 1,
  );
}
