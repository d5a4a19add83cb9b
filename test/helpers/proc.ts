// What the tests read from the host's /proc, and polling with a deadline: shared by the
// PID 1, terminal, arm64 and hardening suites. No fixed sleeps: wait for a condition.
import { readdirSync, readFileSync } from 'node:fs';

/** Polls cond every 20 ms until it holds; fails with what (or what it returns) after timeoutMs. */
export async function until(what: string | (() => string), cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Processes whose parent is pid, with their state letter, read from the host's /proc. */
export function childrenWithState(pid: number): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === pid) out.push({ pid: Number(d), state: f[0]! });
    } catch { /* gone */ }
  }
  return out;
}
