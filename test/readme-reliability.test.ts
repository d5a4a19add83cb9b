// The README's "Reliability and security" section states what test/hardening asserts. Each
// statement links the test that asserts it; a number quoted there (signals, orphans, limits,
// uids, exit codes) must be one that test uses, so the prose cannot drift from the tests.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/pid1.ts';

const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Reliability and security'), readme.indexOf('**Known limits**'));
// A statement: a bullet, or a paragraph that is not one.
const statements = section.split(/\n(?=- |\n)/).map((s) => s.trim()).filter((s) => /\]\(test\//.test(s));

/** The numbers a statement quotes: integers of two digits or more, thousands separated by spaces. */
function quotedNumbers(text: string): string[] {
  const prose = text.replace(/\]\([^)]*\)/g, ']').replace(/`[^`]*`/g, '');
  return [...prose.matchAll(/(?<![\d.])\d{1,3}(?: \d{3})+(?![\d.])|(?<![\d.])\d{2,}(?![\d.])/g)].map((m) => m[0].replace(/ /g, ''));
}

/** Whether a test file's text uses n (as 10000, 10_000 or 10 000). */
function uses(source: string, n: string): boolean {
  const grouped = n.replace(/\B(?=(\d{3})+$)/g, '_');
  return [n, grouped, grouped.replace(/_/g, ' ')].some((form) => new RegExp(`(?<![\\d_])${form}(?![\\d_])`).test(source));
}

describe('README: Reliability and security', () => {
  it('links a test for each statement (the section is not empty)', () => {
    expect(statements.length).toBeGreaterThanOrEqual(12);
  });

  it.each(statements.map((s) => [s.split('\n')[0]!.slice(0, 70), s] as const))('%s…: its numbers are the linked tests\'', (_, s) => {
    const files = [...s.matchAll(/\]\((test\/[^)]+)\)/g)].map((m) => m[1]!);
    const sources = files.map((f) => readFileSync(resolve(ROOT, f), 'utf8')).join('\n');
    for (const n of quotedNumbers(s)) expect(uses(sources, n), `${n} is not in ${files.join(', ')}`).toBe(true);
  });

  it('the check can fail: a number the tests do not use is caught', () => {
    const source = readFileSync(resolve(ROOT, 'test/hardening/environments.test.ts'), 'utf8');
    expect(uses(source, '65534')).toBe(true);
    expect(uses(source, '65532')).toBe(false);
    expect(quotedNumbers('100 000 orphans in 20 bursts, uid 65534, exit 126 ([x](test/a.ts))')).toEqual(['100000', '20', '65534', '126']);
  });
});
