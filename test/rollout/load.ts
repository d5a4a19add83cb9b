// The load of a rollout run: a fixed rate of quick requests over a few keep-alive connections,
// plus a slow (2 s) request at a fixed interval on a connection of its own, to one loopback
// address, until the driver ends it (a fixed time after the last deletion) or, at the latest,
// after maxDurationMs. It records how every request ended; it never retries (a retry would
// hide exactly what the run measures).
import { Agent, request } from 'node:http';

export interface LoadSpec {
  port: number;
  /** Quick requests per second (GET /pid), spread evenly. */
  rate: number;
  /** Keep-alive connections the quick requests share. */
  connections: number;
  /** The load ends by itself after this long at the latest. */
  maxDurationMs: number;
  /** A slow request (GET /slow, 2 s) every this many ms; 0: none. */
  slowEveryMs: number;
  /** Per-request limit; a request still open then counts as a time-out. */
  timeoutMs: number;
}

/** How one request ended: an HTTP status, or the client-side error (ECONNRESET, timeout, …). */
export interface Outcome {
  slow: boolean;
  /** Sent at this many ms after the load began. */
  atMs: number;
  ms: number;
  status?: number;
  error?: string;
}

export const failed = (o: Outcome): boolean => o.status !== 200;

/** One GET to 127.0.0.1; never rejects. */
function get(port: number, path: string, agent: Agent, timeoutMs: number, t0: number, slow: boolean): Promise<Outcome> {
  const start = performance.now();
  const atMs = start - t0;
  return new Promise((res) => {
    let done = false;
    const finish = (o: Omit<Outcome, 'slow' | 'atMs' | 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      res({ slow, atMs, ms: performance.now() - start, ...o });
    };
    const req = request({ host: '127.0.0.1', port, path, agent }, (r) => {
      r.resume();
      r.on('end', () => finish({ status: r.statusCode ?? 0 }));
      r.on('error', (e: NodeJS.ErrnoException) => finish({ error: e.code ?? e.message }));
    });
    const timer = setTimeout(() => {
      finish({ error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish({ error: e.code ?? e.message }));
    req.end();
  });
}

/** A running load: `done` resolves with every request's outcome, in the order sent. */
export interface Load {
  done: Promise<Outcome[]>;
  /** Ends the load msFromNow from now (never later than its maxDurationMs). */
  endIn(msFromNow: number): void;
}

/** Starts the load; it ends by itself after maxDurationMs, or sooner when endIn() says so. */
export function startLoad(spec: LoadSpec): Load {
  const quick = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const slowAgent = new Agent({ keepAlive: false });
  const t0 = performance.now();
  let end = t0 + spec.maxDurationMs;
  let wake: (() => void) | undefined;
  const done = (async () => {
    const pending: Promise<Outcome>[] = [];
    // Two schedules merged, each request at its own absolute time (no drift under load).
    let i = 0;
    let j = 0;
    for (;;) {
      const nextQuick = t0 + (i * 1000) / spec.rate;
      const nextSlow = spec.slowEveryMs > 0 ? t0 + spec.slowEveryMs / 2 + j * spec.slowEveryMs : Infinity;
      const slow = nextSlow < nextQuick;
      const at = slow ? nextSlow : nextQuick;
      if (at >= end) break;
      const wait = at - performance.now();
      if (wait > 0)
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, wait);
        });
      if (at >= end) break;
      if (slow) {
        j++;
        pending.push(get(spec.port, '/slow', slowAgent, spec.timeoutMs, t0, true));
      } else {
        i++;
        pending.push(get(spec.port, '/pid', quick, spec.timeoutMs, t0, false));
      }
    }
    const out = await Promise.all(pending);
    quick.destroy();
    slowAgent.destroy();
    return out;
  })();
  return {
    done,
    endIn(msFromNow) {
      end = Math.min(end, performance.now() + msFromNow);
      wake?.();
    },
  };
}
