// One policy, two hosts: the core (src/core) decides and runs unchanged on V8 and on Duktape;
// each host (src/node, src/static) reaches the system through its own libc file only.
// This test holds those lines by reading the sources; the core's unit tests also run inside
// the static engine (test/static/engine.test.ts), which catches what a pattern cannot.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');
const tsFiles = (dir: string): string[] => readdirSync(resolve(SRC, dir)).filter((f) => f.endsWith('.ts')).sort();

/** The source without comments, so a comment may name what the code must not use. */
function code(dir: string, file: string): string {
  return readFileSync(resolve(SRC, dir, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n').map((l) => l.replace(/(^|[^:'"`\\])\/\/.*$/, '$1')).join('\n');
}

function importsOf(dir: string, file: string): string[] {
  return [...code(dir, file).matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

/**
 * What Duktape 2.7 cannot run even after TypeScript lowers the syntax to ES5 and the static
 * host's polyfill (Map, Set, Array find/findIndex/includes/from, padStart/padEnd,
 * Object.entries/values) is loaded. Found by running the bundle there; see the README.
 */
const DUKTAPE_LACKS: readonly [string, RegExp][] = [
  ['Promise / async', /\bPromise\b|\basync\b|\bawait\b/],
  ['BigInt', /\bBigInt\b|\b\d+n\b/],
  ['weak collections', /\bWeak(Map|Set|Ref)\b/],
  ['generators', /function\s*\*|\byield\b/],
  ['ES2018+ regular expressions (u/y/s flags, named groups, lookbehind)', /\/[gimsuy]*[suy][gimsuy]*\.(test|exec)\(|\(\?<[=!a-zA-Z]/],
  ['newer library calls', /\.(flat|flatMap|at|replaceAll|matchAll|trimStart|trimEnd)\(|Object\.fromEntries|\bglobalThis\b|\bIntl\b/],
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
  it.each(tsFiles('core'))('%s calls no exit but the System\'s', (file) => {
    expect(code('core', file).match(/^.*\bexit\(.*$/gm)?.filter((l) => !/\bsys\.exit\(|^\s*exit\(code: number\): void;/.test(l)) ?? []).toEqual([]);
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
