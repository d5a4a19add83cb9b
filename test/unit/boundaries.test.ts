// One policy, two hosts: the core (src/core) decides and runs unchanged on V8 and on Duktape;
// each host (src/node, src/static) reaches the system through its own libc file only.
// This test holds those lines by reading the sources; the core's unit tests also run inside
// the static engine (test/static/engine.test.ts), which catches what a pattern cannot.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importStaticBuild } from '../helpers/build.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = resolve(ROOT, 'src');
const tsFiles = (dir: string): string[] =>
  readdirSync(resolve(SRC, dir))
    .filter((f) => f.endsWith('.ts'))
    .sort();

/** The source without comments, so a comment may name what the code must not use. */
function code(dir: string, file: string): string {
  return readFileSync(resolve(SRC, dir, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((l) => l.replace(/(^|[^:'"`\\])\/\/.*$/, '$1'))
    .join('\n');
}

function importsOf(dir: string, file: string): string[] {
  return [...code(dir, file).matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

/**
 * What Duktape 2.7 cannot run even after TypeScript lowers the syntax to ES5 and the static
 * host's polyfill (Map, Set, Array find/includes, padStart/padEnd) is loaded. Found by running the bundle there; see the README.
 */
const DUKTAPE_LACKS: readonly [string, RegExp][] = [
  ['Promise / async', /\bPromise\b|\basync\b|\bawait\b/],
  ['BigInt', /\bBigInt\b|\b\d+n\b/],
  ['weak collections', /\bWeak(Map|Set|Ref)\b/],
  ['generators', /function\s*\*|\byield\b/],
  [
    'ES2018+ regular expressions (u/y/s flags, named groups, lookbehind)',
    /\/[gimsuy]*[suy][gimsuy]*\.(test|exec)\(|\(\?<[=!a-zA-Z]/,
  ],
  [
    'newer library calls',
    /\.(flat|flatMap|at|replaceAll|matchAll|trimStart|trimEnd)\(|Object\.fromEntries|\bglobalThis\b|\bIntl\b/,
  ],
  [
    'ES2015+ library calls the polyfill does not carry',
    /\.findIndex\(|\bArray\.(from|of)\b|\bObject\.(entries|values)\b/,
  ],
  ['host objects', /\bprocess\.|\bBuffer\b|\brequire\(|\bsetTimeout\b|\bsetInterval\b|\bconsole\./],
];

describe('src/core: the policy both hosts share', () => {
  it.each(tsFiles('core'))('%s imports only the core', (file) => {
    for (const spec of importsOf('core', file)) expect(spec, `${file} imports ${spec}`).toMatch(/^\.\/[a-z]+\.ts$/);
  });
  it.each(tsFiles('core'))('%s uses nothing Duktape lacks', (file) => {
    const text = code('core', file);
    for (const [what, re] of DUKTAPE_LACKS) expect(text.match(re)?.[0], `${file}: ${what}`).toBeUndefined();
  });
});

describe('src/core: decides, never ends tsinit', () => {
  // Only a host's main exits: a core step returns what to do (src/core/entry.ts), and the
  // supervisor ends tsinit only through its injected System.
  it.each(tsFiles('core'))("%s calls no exit but the System's", (file) => {
    expect(
      code('core', file)
        .match(/^.*\bexit\(.*$/gm)
        ?.filter((l) => !/\bsys\.exit\(|^\s*exit\(code: number\): void;/.test(l)) ?? [],
    ).toEqual([]);
  });
});

describe.each(['node', 'static'])('src/%s: one host', (host) => {
  const other = host === 'node' ? 'static' : 'node';
  it.each(tsFiles(host))(`%s imports the core or its own host, never the other`, (file) => {
    for (const spec of importsOf(host, file)) {
      expect(spec.startsWith(`../${other}/`), `${file} imports ${spec}`).toBe(false);
      if (spec.startsWith('.')) expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\/|\.\.\/core\/)[a-z]+\.ts$/);
    }
  });
  it('libc.ts is checked by the compiler against the contract both hosts share (src/core/host.ts)', () => {
    expect(code(host, 'libc.ts')).toMatch(/^export type \w+ = ImplementsHostLibc<typeof import\('\.\/libc\.ts'\)>;$/m);
  });
  it.each(tsFiles(host))('%s: only libc.ts reaches native code, only main.ts exits or reads argv/env', (file) => {
    const text = code(host, file);
    if (file !== 'libc.ts') expect(text).not.toMatch(/['"]node:ffi['"]|\bbridge\./);
    if (file !== 'main.ts') expect(text).not.toMatch(/process\.(exit|argv|env)\b/);
  });
});

/**
 * Each piece of the static host's polyfill as a pattern for a call of it: a method on a
 * prototype as `.name(`, a static method as `Owner.name(`, a collection as its global's name.
 * Read from polyfill.ts itself, so a piece added there is checked here too.
 */
function listPolyfills(): [string, RegExp][] {
  const text = code('static', 'polyfill.ts');
  const pieces: [string, RegExp][] = [];
  for (const m of text.matchAll(/defineCollection\('(\w+)'\)/g)) pieces.push([m[1]!, new RegExp(`\\b${m[1]}\\b`, 'g')]);
  for (const m of text.matchAll(/\bdefine\((\w+)(\.prototype)?, '(\w+)'/g)) {
    const [, owner, proto, name] = m;
    pieces.push(
      proto
        ? [`${owner}.prototype.${name}`, new RegExp(`\\.${name}\\(`, 'g')]
        : [`${owner}.${name}`, new RegExp(`\\b${owner}\\.${name}\\(`, 'g')],
    );
  }
  return pieces;
}

describe('src/static/polyfill.ts: nothing dist/tsinit does not use', () => {
  // dist/tsinit's program as the build makes it (bundled, lowered to ES5, minified), and the
  // polyfill alone the same way: property and global names survive minification, so a piece
  // is used when the program calls it more often than the polyfill's own code does. (A method
  // a native one shares its name with, String's includes, counts as used: a limit of reading.)
  let program = '';
  let own = '';
  beforeAll(async () => {
    const build = await importStaticBuild();
    program = await build.bundleEs5(resolve(SRC, 'static/main.ts'));
    own = await build.bundleEs5(resolve(SRC, 'static/polyfill.ts'));
  }, 60_000);
  const count = (text: string, re: RegExp): number => text.match(re)?.length ?? 0;

  it('lists the pieces it checks', () => expect(listPolyfills().length).toBeGreaterThan(5));
  it.each(listPolyfills())('%s is called by the program', (_name, re) => {
    expect(count(program, re)).toBeGreaterThan(count(own, re));
  });
});
