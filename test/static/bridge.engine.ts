// Inside the static engine only: the errno numbers the core decides with are the ones the C
// headers give the bridge (they are the kernel's, but a mismatch would turn 127 into 126).
import { ERRNO } from '../../src/core/errno.ts';
import { listErrnoConstants } from '../../src/static/libc.ts';
import { describe, expect, it } from './vitest-shim.ts';

describe('[static] bridge constants', () => {
  it('every errno of the core has the value host.c took from <errno.h>', () => {
    const fromHeaders: Record<string, number> = {};
    for (const c of listErrnoConstants()) fromHeaders[c.name] = c.value;
    for (const name of Object.keys(ERRNO) as (keyof typeof ERRNO)[]) expect(fromHeaders[name], name).toBe(ERRNO[name]);
  });
});
