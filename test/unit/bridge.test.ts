// The static host's two halves agree: every function host.c hands the engine (its `functions[]`
// table) is a member of src/static/libc.ts's Bridge interface with as many parameters, and the
// other way round; every constant libc.ts asks for by name is one of host.c's `constants[]`.
// Neither compiler sees the other side: without this a missing table line is found when that
// call runs (a TypeError in the bridge), a misspelt constant when tsinit starts.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const HOST_C = readFileSync(resolve(ROOT, 'src/static/host.c'), 'utf8');
const LIBC_TS = readFileSync(resolve(ROOT, 'src/static/libc.ts'), 'utf8');

/** The body of a C array initializer `static const TYPE NAME[] = { ... };`. */
function cTable(name: string): string {
  const m = new RegExp(`static const \\w+ ${name}\\[\\] = \\{([\\s\\S]*?)\\n\\};`).exec(HOST_C);
  if (m === null) throw new Error(`host.c has no table ${name}[]`);
  return m[1]!;
}

/** host.c's functions[]: name → the number of arguments the engine is told it takes. */
function tableFunctions(): Map<string, number> {
  return new Map([...cTable('functions').matchAll(/\bF\((\w+), (\d+)\)/g)].map((m) => [m[1]!, Number(m[2])]));
}

/** host.c's FN(name, ...) definitions. */
function definedFunctions(): string[] {
  return [...HOST_C.matchAll(/^FN\((\w+),/gm)].map((m) => m[1]!);
}

/** host.c's constants[]: C(NAME), S(name, type) as SIZEOF_name, O(name, ...) as OFFSETOF_name, and literal names. */
function tableConstants(): Set<string> {
  const table = cTable('constants');
  return new Set([
    ...[...table.matchAll(/\bC\((\w+)\)/g)].map((m) => m[1]!),
    ...[...table.matchAll(/\bS\((\w+),/g)].map((m) => `SIZEOF_${m[1]!}`),
    ...[...table.matchAll(/\bO\((\w+),/g)].map((m) => `OFFSETOF_${m[1]!}`),
    ...[...table.matchAll(/\{ "(\w+)",/g)].map((m) => m[1]!),
  ]);
}

/** libc.ts's Bridge interface: method name → its number of parameters. */
function bridgeMethods(): Map<string, number> {
  const file = ts.createSourceFile('libc.ts', LIBC_TS, ts.ScriptTarget.Latest);
  const bridge = file.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Bridge',
  );
  if (bridge === undefined) throw new Error('src/static/libc.ts has no interface Bridge');
  const methods = new Map<string, number>();
  for (const m of bridge.members)
    if (ts.isMethodSignature(m) && ts.isIdentifier(m.name)) methods.set(m.name.text, m.parameters.length);
  return methods;
}

/** The names libc.ts reads with constant('NAME'). */
function constantsAsked(): string[] {
  return [...new Set([...LIBC_TS.matchAll(/\bconstant\('(\w+)'\)/g)].map((m) => m[1]!))];
}

describe('host.c and src/static/libc.ts', () => {
  it('the function table and the Bridge interface name the same calls, with the same number of arguments', () => {
    const table = tableFunctions();
    expect(table.size).toBeGreaterThan(30);
    expect(Object.fromEntries(table)).toEqual(Object.fromEntries(bridgeMethods()));
  });

  it('every FN(...) wrapper is in the function table, and every table entry has its wrapper', () => {
    expect(definedFunctions().sort()).toEqual([...tableFunctions().keys()].sort());
  });

  it("every constant('NAME') libc.ts asks for is in host.c's constants table", () => {
    const known = tableConstants();
    expect(known.size).toBeGreaterThan(40);
    const asked = constantsAsked();
    expect(asked.length).toBeGreaterThan(10);
    expect(asked.filter((name) => !known.has(name))).toEqual([]);
  });
});
