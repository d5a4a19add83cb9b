// Durations as users write them: `500ms`, `10s`, `2m`, `1h`, or a bare number of seconds.
// Pure. The upper bound is what a Node timer can hold (2^31-1 ms, about 24.8 days); the lower,
// for anything but 0, is 1 ms: a value that rounds to 0 ms would silently mean "none".

type Unit = 'ms' | 's' | 'm' | 'h';
const UNIT_MS: Readonly<Record<Unit, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
export const MAX_DURATION_MS = 2_147_483_647;

/** Milliseconds, or an error message for `invalid value for --x: '…' (…)`. */
export function parseDuration(text: string): { ok: true; ms: number } | { ok: false; reason: string } {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return { ok: false, reason: 'expected e.g. 500ms, 10s, 2m, 1h or a number of seconds' };
  const unit = (m[2] ?? 's') as Unit; // the pattern matches these alone
  const ms = Math.round(Number(m[1]) * UNIT_MS[unit]);
  if (ms === 0 && Number(m[1]) !== 0) return { ok: false, reason: 'rounds to 0ms: expected 0 or at least 1ms' };
  if (ms > MAX_DURATION_MS) return { ok: false, reason: 'too long: at most 24 days' };
  return { ok: true, ms };
}

/** `1500` → `1.5s`, `250` → `250ms`: for messages and logs. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}
