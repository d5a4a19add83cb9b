// The README's claim about shell-form shutdowns, reproduced against the peers as Debian ships
// them: the same app (test/fixtures/handler-app.sh: its TERM handler runs `sleep 1` between
// two timestamps) under `sh -c`, each init as PID 1 of its own pid namespace, 20 runs each.
// Every init that signals the group delivers the TERM to dash and to the app; dash dies of it
// at once. tini, dumb-init and catatonit then exit, and the kernel SIGKILLs the rest of the
// namespace: the handler's second is cut short (often before it has printed its first line).
// tsinit's drain waits for the group. Under `npm run test:node` and `npm run test:arm64` the tsinit
// row runs again on the Node build and under qemu (the peers' rows do not depend on it).
import { afterEach, describe, expect, it } from 'vitest';
import { EMULATED, HOST, killAll, stopHandlerApp, TSINIT, type HandlerStop } from '../helpers/pid1.ts';

afterEach(killAll);

const RUNS = 20;
const INITS = {
  tsinit: [TSINIT, '--'],
  'tini -g': ['/usr/bin/tini', '-g', '--'],
  'dumb-init': ['/usr/bin/dumb-init', '--'],
  'catatonit -g': ['/usr/bin/catatonit', '-g', '--'],
} as const;
type InitName = keyof typeof INITS;

/** The peers' rows once, beside dist/tsinit; on another build (Node, arm64 under qemu) the tsinit row alone. */
const RUN_INITS = (HOST === 'static' && !EMULATED ? Object.keys(INITS) : ['tsinit']) as InitName[];

describe(`shell form, ${RUNS} runs per init: does the app's 1 s TERM handler run to its end?`, () => {
  it.each(RUN_INITS)(
    '%s',
    async (init) => {
      const results: HandlerStop[] = [];
      for (let batch = 0; batch < RUNS / 4; batch++)
        results.push(
          ...(await Promise.all(
            Array.from({ length: 4 }, () => {
              const [bin, ...args] = INITS[init];
              return stopHandlerApp(args, { init: bin });
            }),
          )),
        );
      const finished = results.filter((x) => x.handlerSeconds !== null && x.handlerSeconds >= 0.95).length;
      const example = results.find((x) => (init === 'tsinit') === (x.handlerSeconds === null))?.output;
      expect(finished, `${init}: ${finished} of ${RUNS} handlers finished; e.g.\n${example}`).toBe(
        init === 'tsinit' ? RUNS : 0,
      );
      // dash dies of the TERM under every init, and each one reports that: 128 + 15.
      expect(results.map((x) => x.code)).toEqual(Array(RUNS).fill(143));
    },
    180_000,
  );
});
