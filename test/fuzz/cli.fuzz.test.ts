// Property-based tests of the CLI parser (src/cli.ts) with fast-check: thousands of random
// argv arrays and TSINIT_* environments. It must never throw; every result is a valid
// configuration, help, version, or a usage error of one printable line that names what was
// wrong. Grammar-built command lines check the values too, not just the shape.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCli, type CliResult, type Config } from '../../src/core/cli.ts';
import { MAX_DURATION_MS } from '../../src/core/duration.ts';

const SEED = Number(process.env.TSINIT_FUZZ_SEED ?? 20_260_527);
const RUNS = Number(process.env.TSINIT_FUZZ_RUNS ?? 4000);

const LONG = [
  'help',
  'version',
  'verbose',
  'single-child',
  'drain',
  'kill-after',
  'term-delay',
  'wait-all',
  'rewrite',
  'remap-exit',
  'pdeath-signal',
  'log-format',
  'warn-on-reap',
  'tini-g',
  'tini-s',
  'inspect',
  'max-old-space-size',
  'node-options',
  '',
];
const SHORT = 'hvcrepgswxVz-='.split(''); // ASCII: one character per UTF-16 unit
const VALUES = [
  '0',
  '1',
  '15',
  '32',
  '33',
  '64',
  '65',
  '-1',
  '255',
  '256',
  '1.5',
  '10x',
  '500ms',
  '2m',
  '1h',
  '25d',
  '99999999999999999999',
  '1e3',
  '.5',
  'TERM',
  'SIGTERM',
  'sigkill',
  'KILL',
  'RTMIN+3',
  'RTMAX-1',
  'RTMIN+31',
  'FOO',
  'TERM:QUIT',
  '15:0',
  '32:15',
  'TERM:33',
  'KILL:TERM',
  ':',
  'a:b:c',
  'CHLD:HUP',
  'text',
  'json',
  'xml',
  '',
  ' ',
  '--',
  '-',
  '=',
  '\n',
  'a\nb',
  '\u001b[31m',
  '\u0000',
  '\u00ff',
  'ü',
  '١٢',
  '\ud83d\ude00',
  ',',
];

/** One argv word: mostly tsinit-like tokens, sometimes anything at all. */
const word: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...LONG).map((l) => `--${l}`) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(...LONG), fc.constantFrom(...VALUES)).map(([l, v]) => `--${l}=${v}`),
  },
  {
    weight: 3,
    arbitrary: fc.string({ unit: fc.constantFrom(...SHORT), minLength: 1, maxLength: 4 }).map((s) => `-${s}`),
  },
  { weight: 4, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 1, arbitrary: fc.constant('--') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('sh', 'true', 'nginx', '/bin/app') },
);

const ENV_NAMES = [
  'TSINIT_VERBOSITY',
  'TSINIT_SINGLE_CHILD',
  'TSINIT_DRAIN',
  'TSINIT_KILL_AFTER',
  'TSINIT_TERM_DELAY',
  'TSINIT_WAIT_ALL',
  'TSINIT_REWRITE',
  'TSINIT_REMAP_EXIT',
  'TSINIT_PDEATH_SIGNAL',
  'TSINIT_LOG_FORMAT',
  'TSINIT_WARN_ON_REAP',
  'TSINIT_OTHER',
];
const envArb = fc.dictionary(
  fc.constantFrom(...ENV_NAMES),
  fc.oneof(fc.constantFrom(...VALUES, 'true', 'no', 'TERM:QUIT,15:0', '1,2,300'), fc.string({ maxLength: 8 })),
  { maxKeys: 4 },
);

const isSignal = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 64 && n !== 32 && n !== 33;
const isDuration = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= MAX_DURATION_MS;

/** The invariants of a configuration the parser let through. */
function checkConfig(args: readonly string[], c: Config): void {
  expect(c.commandIndex).toBeGreaterThanOrEqual(0);
  expect(c.commandIndex).toBeLessThan(args.length);
  expect(c.command).toEqual(args.slice(c.commandIndex));
  const first = c.command[0];
  // A command that looks like an option can only come after `--`.
  if (first.startsWith('-') && first !== '-') expect(args[c.commandIndex - 1]).toBe('--');
  expect(Number.isInteger(c.verbosity) && c.verbosity >= 0).toBe(true);
  expect(isDuration(c.drainMs)).toBe(true);
  if (c.killAfterMs !== null) expect(isDuration(c.killAfterMs)).toBe(true);
  if (c.termDelayMs !== null) expect(isDuration(c.termDelayMs)).toBe(true);
  if (c.pdeathSignal !== null) expect(isSignal(c.pdeathSignal)).toBe(true);
  expect(['text', 'json']).toContain(c.logFormat);
  for (const b of [c.singleChild, c.waitAll, c.warnOnReap]) expect(typeof b).toBe('boolean');
  for (const [from, to] of c.rewrite) {
    expect(isSignal(from) && ![9, 17, 19].includes(from)).toBe(true);
    expect(to === 0 || isSignal(to)).toBe(true);
  }
  for (const code of c.remapExit) expect(Number.isInteger(code) && code >= 0 && code <= 255).toBe(true);
}

/** A usage error is one printable line that says what kind of mistake it is. */
function checkUsageError(message: string): void {
  expect(message.length).toBeGreaterThan(0);
  // No control character at all: not a newline (one line), not an escape sequence (no terminal tricks).
  expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  expect(message).toMatch(/^(unknown option '|option '|invalid value for |no command given)/);
}

function check(args: readonly string[], env: Record<string, string>): CliResult {
  const r = parseCli(args, env);
  switch (r.kind) {
    case 'run':
      checkConfig(args, r.config);
      break;
    case 'usage-error':
      checkUsageError(r.message);
      break;
    case 'help':
    case 'version':
      break;
    default:
      throw new Error(`unexpected result ${JSON.stringify(r)}`);
  }
  return r;
}

describe('parseCli on random command lines', () => {
  it(`never throws; every result is a valid configuration, help, version or a one-line usage error (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 10 }), envArb, (args, env) => {
        expect(() => check(args, env)).not.toThrow();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it(`is deterministic and ignores the words after the command (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), fc.array(word, { maxLength: 4 }), envArb, (args, tail, env) => {
        const a = parseCli(args, env);
        expect(parseCli(args, env)).toEqual(a);
        if (a.kind === 'run') {
          const b = parseCli([...args, ...tail], env);
          expect(b.kind).toBe('run');
          if (b.kind === 'run') expect({ ...b.config, command: a.config.command }).toEqual(a.config);
        }
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });

  it(`treats any string at all, including lone surrogates and NUL, without throwing (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 6 }),
        fc.dictionary(fc.constantFrom(...ENV_NAMES), fc.string({ unit: 'binary', maxLength: 10 }), { maxKeys: 3 }),
        (args, env) => {
          expect(() => check(args, env)).not.toThrow();
        },
      ),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });
});

/** An option with a valid value and what it must set. */
interface Valid {
  words: readonly string[];
  apply(c: Partial<Config>): void;
}

const durationArb = fc
  .tuple(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom('ms', 's', 'm', ''))
  .map(([n, u]) => ({
    text: `${n}${u}`,
    ms: n * ({ ms: 1, s: 1000, m: 60_000, '': 1000 } as Record<string, number>)[u]!,
  }))
  .filter((d) => d.ms <= MAX_DURATION_MS);
// 1..64 without glibc's reserved 32 and 33, which are usage errors.
const signalArb = fc
  .integer({ min: 1, max: 62 })
  .map((n) => (n >= 32 ? n + 2 : n))
  .chain((n) =>
    fc
      .constantFrom(String(n), ...(n === 15 ? ['TERM', 'SIGTERM', 'sigterm'] : []), ...(n === 34 ? ['RTMIN'] : []))
      .map((t) => ({ text: t, n })),
  );

const validOption: fc.Arbitrary<Valid> = fc.oneof(
  durationArb.map((d) => ({
    words: ['--drain', d.text],
    apply: (c: Partial<Config>) => {
      c.drainMs = d.ms;
    },
  })),
  durationArb.map((d) => ({
    words: [`--kill-after=${d.text}`],
    apply: (c: Partial<Config>) => {
      c.killAfterMs = d.ms;
    },
  })),
  durationArb.map((d) => ({
    words: ['--term-delay', d.text],
    apply: (c: Partial<Config>) => {
      c.termDelayMs = d.ms;
    },
  })),
  signalArb.map((s) => ({
    words: ['-p', s.text],
    apply: (c: Partial<Config>) => {
      c.pdeathSignal = s.n;
    },
  })),
  fc.integer({ min: 0, max: 255 }).map((code) => ({
    words: [`-e${code}`],
    apply: (c: Partial<Config>) => {
      c.remapExit = new Set([...(c.remapExit ?? []), code]);
    },
  })),
  fc.constantFrom('text', 'json').map((f) => ({
    words: ['--log-format', f],
    apply: (c: Partial<Config>) => {
      c.logFormat = f;
    },
  })),
  fc.constant({
    words: ['-c'],
    apply: (c: Partial<Config>) => {
      c.singleChild = true;
    },
  }),
  fc.constant({
    words: ['--wait-all'],
    apply: (c: Partial<Config>) => {
      c.waitAll = true;
    },
  }),
  fc.constant({
    words: ['-v'],
    apply: (c: Partial<Config>) => {
      c.verbosity = (c.verbosity ?? 0) + 1;
    },
  }),
);

describe('parseCli on well-formed command lines', () => {
  it(`sets exactly what the options say, last one winning (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.array(validOption, { maxLength: 8 }),
        fc.boolean(),
        fc.array(word, { minLength: 0, maxLength: 3 }),
        (opts, dashdash, rest) => {
          const command = ['cmd', ...rest];
          const args = [...opts.flatMap((o) => o.words), ...(dashdash ? ['--'] : []), ...command];
          const expected: Partial<Config> = {};
          for (const o of opts) o.apply(expected);
          const r = parseCli(args, {});
          expect(r.kind).toBe('run');
          if (r.kind !== 'run') return;
          expect(r.config.command).toEqual(command);
          expect(r.config).toMatchObject(expected);
        },
      ),
      { seed: SEED + 3, numRuns: RUNS },
    );
  });

  it(`a bad value anywhere is a usage error naming that option and repeating the value (${RUNS} runs)`, () => {
    const bad = fc.oneof(
      fc.tuple(
        fc.constantFrom('--drain', '--kill-after', '--term-delay'),
        fc.constantFrom('10x', '-1', '1e3', '', '25d', 'ms', '1 s', '\u001b[2J'),
      ),
      fc.tuple(
        fc.constantFrom('-p', '--pdeath-signal'),
        fc.constantFrom('0', '32', '33', '65', 'FOO', 'RTMIN+31', '', 'SIG', '9999999999999999999999'),
      ),
      fc.tuple(
        fc.constantFrom('-r', '--rewrite'),
        fc.constantFrom(
          'TERM',
          'KILL:TERM',
          'STOP:TERM',
          'CHLD:TERM',
          'TERM:FOO',
          '32:TERM',
          'TERM:33',
          ':',
          'a:b:c',
          'TERM:\n',
        ),
      ),
      fc.tuple(fc.constantFrom('-e', '--remap-exit'), fc.constantFrom('256', '-1', 'abc', '1.5', '', '1000')),
      fc.tuple(fc.constant('--log-format'), fc.constantFrom('xml', 'TEXT', '', 'json\n')),
    );
    fc.assert(
      fc.property(
        fc.array(validOption, { maxLength: 3 }),
        bad,
        fc.array(validOption, { maxLength: 3 }),
        (before, [opt, value], after) => {
          const args = [...before.flatMap((o) => o.words), opt, value, ...after.flatMap((o) => o.words), '--', 'cmd'];
          const r = parseCli(args, {});
          expect(r.kind).toBe('usage-error');
          if (r.kind !== 'usage-error') return;
          checkUsageError(r.message);
          expect(r.message.startsWith(`invalid value for ${opt}: '`)).toBe(true);
          // The value is repeated (for a FROM:TO pair, the half that is wrong may stand for it),
          // with control characters shown as escapes.
          const shown = (v: string): string =>
            `'${v.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
          const candidates = [value, ...(opt.endsWith('r') || opt === '--rewrite' ? value.split(':') : [])].map(shown);
          expect(
            candidates.some((c) => r.message.includes(c)),
            `${r.message} names none of ${candidates.join(' ')}`,
          ).toBe(true);
        },
      ),
      { seed: SEED + 4, numRuns: RUNS },
    );
  });
});
