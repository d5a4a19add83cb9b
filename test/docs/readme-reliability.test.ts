// test/hardening/RELIABILITY.md (the README's "Reliability and security" links it) states what
// test/hardening asserts. Each statement links the test that asserts it (a bullet without a
// link falls under its group's heading link); a number quoted there (signals, orphans, limits, uids, exit codes) must be
// one that test asserts: a value inside an assertion (expect…, until, a helper named expect…,
// fc.assert, or a row of it.each), directly or through a constant the assertion names. A number in a
// comment, a test title or a recorded figure counts for nothing. Figures the report gives as
// measured, in a parenthesis that starts with "measured", are exempt: they are not promises.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/pid1.ts';

const REPORT = 'test/hardening/RELIABILITY.md';
const report = readFileSync(resolve(ROOT, REPORT), 'utf8');
const section = report.slice(report.indexOf('# Reliability and security'), report.indexOf('**Known limits**'));

/** Each statement with the test files it links (as written: relative to the report); a bullet without a link takes its group heading's. */
function linkedStatements(text: string): { text: string; files: string[] }[] {
  const links = (s: string): string[] => [...s.matchAll(/\]\(([^)]+\.test\.ts)\)/g)].map((m) => m[1]!);
  const out: { text: string; files: string[] }[] = [];
  let heading: string[] = [];
  for (const part of text
    .split(/\n(?=- |\n)/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (part.startsWith('**')) heading = links(part.split('\n')[0]!);
    const own = links(part);
    const files = own.length > 0 ? own : part.startsWith('- ') ? heading : [];
    if (files.length > 0) out.push({ text: part, files });
  }
  return out;
}
const statements = linkedStatements(section);

/** The numbers a statement quotes: integers of two digits or more, thousands separated by spaces; links, code and "(measured …)" left out. */
function quotedNumbers(text: string): string[] {
  const prose = text
    .replace(/\]\([^)]*\)/g, ']')
    .replace(/`[^`]*`/g, '')
    .replace(/\(measured\b[^)]*\)/g, '');
  return [...prose.matchAll(/(?<![\d.])\d{1,3}(?: \d{3})+(?![\d.])|(?<![\d.])\d{2,}(?![\d.])/g)].map((m) =>
    m[0].replace(/ /g, ''),
  );
}

/** A call that fails the test when its condition does not hold. */
function isAssertion(call: ts.CallExpression): boolean {
  let callee: ts.Expression = call.expression;
  while (ts.isPropertyAccessExpression(callee) || ts.isCallExpression(callee))
    callee = ts.isCallExpression(callee) ? callee.expression : callee.expression;
  if (!ts.isIdentifier(callee)) return false;
  const name = callee.text;
  // fc.assert(property, { numRuns }): fast-check fails the test on a counterexample.
  if (ts.isPropertyAccessExpression(call.expression) && call.expression.name.text === 'assert') return true;
  if (name === 'until' || name.startsWith('expect')) return true;
  // it.each(rows) / describe.each(rows): the rows are the cases the test asserts.
  const each = call.expression;
  return (name === 'it' || name === 'describe') && ts.isPropertyAccessExpression(each) && each.name.text === 'each';
}

/** The numbers a source file asserts, as digit strings without separators. */
export function assertedNumbers(source: string): Set<string> {
  const file = ts.createSourceFile('t.ts', source, ts.ScriptTarget.Latest, true);
  const constants = new Map<string, ts.Node>();
  const assertions: ts.Node[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer)
      constants.set(node.name.text, node.initializer);
    if (
      ts.isCallExpression(node) &&
      isAssertion(node) &&
      !(ts.isCallExpression(node.parent) && isAssertion(node.parent))
    )
      assertions.push(node.parent);
    ts.forEachChild(node, visit);
  };
  visit(file);
  const out = new Set<string>();
  const seen = new Set<ts.Node>();
  const collect = (node: ts.Node, depth: number): void => {
    if (seen.has(node)) return;
    seen.add(node);
    if (ts.isNumericLiteral(node)) out.add(node.getText().replace(/_/g, ''));
    else if (ts.isStringLiteralLike(node) || ts.isRegularExpressionLiteral(node) || ts.isTemplateLiteralToken(node)) {
      for (const m of node.getText().matchAll(/(?<![\d.])\d+(?![\d.])/g)) out.add(m[0]);
    } else if (ts.isIdentifier(node) && depth < 4) {
      const init = constants.get(node.text);
      if (init) collect(init, depth + 1);
    }
    ts.forEachChild(node, (c) => collect(c, depth));
  };
  for (const a of assertions) collect(a, 0);
  return out;
}

describe('test/hardening/RELIABILITY.md', () => {
  it('is the report the README links for its reliability and security section', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    const summary = readme.slice(
      readme.indexOf('## Reliability and security'),
      readme.indexOf('\n## ', readme.indexOf('## Reliability and security') + 1),
    );
    expect(summary).toContain(`](${REPORT})`);
  });

  it('links a test for each statement (the section is not empty)', () => {
    expect(statements.length).toBeGreaterThanOrEqual(20);
  });

  it.each(statements.map((s) => [s.text.split('\n')[0]!.slice(0, 70), s] as const))(
    '%s…: its numbers are asserted by the linked tests',
    (_, s) => {
      const asserted = new Set(
        s.files.flatMap((f) => [...assertedNumbers(readFileSync(resolve(ROOT, dirname(REPORT), f), 'utf8'))]),
      );
      for (const n of quotedNumbers(s.text))
        expect(asserted.has(n), `${n} is not asserted in ${s.files.join(', ')}`).toBe(true);
    },
  );

  it('the check can fail: a number only in a comment, a title, a recorded figure or plain code is not asserted', () => {
    const source = [
      '// 111 in a comment',
      "it('222 in a title', () => { record('x', '333 in a figure'); const n = 444; run(n); });",
      "const LIMIT = 10_000; expect(x).toBeLessThan(LIMIT); until('y', () => a === 555); expectUsageError(r, 'got 666');",
      "it.each([[777]])('%s', (v) => expect(v).toBe(v));",
    ].join('\n');
    expect([...assertedNumbers(source)].sort()).toEqual(['10000', '555', '666', '777']);
    expect(
      quotedNumbers('100 000 orphans in 20 bursts, uid 65534, exit 126 ([x](a.test.ts)) (measured: about 60 ms)'),
    ).toEqual(['100000', '20', '65534', '126']);
    expect(
      linkedStatements('**H** ([h](h.test.ts))\n- a 10\n- b ([b](../fuzz/b.test.ts))').map((s) => s.files),
    ).toEqual([['h.test.ts'], ['h.test.ts'], ['../fuzz/b.test.ts']]);
  });
});
