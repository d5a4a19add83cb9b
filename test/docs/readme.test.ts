// The README's options table and `tsinit --help` name the same options and variables; its
// table of log events is the logger's list, with the same levels.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatHelp } from '../../src/core/cli.ts';
import { LOG_EVENTS } from '../../src/core/log.ts';
import { ROOT } from '../helpers/pid1.ts';

interface Listed {
  flags: string[];
  env: string;
}

/** `` `-r`, `--rewrite FROM:TO` `` or `-r, --rewrite FROM:TO` → -r, --rewrite. */
const flagsOf = (text: string): string[] => [...text.matchAll(/(?:^|[\s,`])(--?[a-z][a-z-]*)/g)].map((m) => m[1]!);

const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const table = readme.slice(readme.indexOf('| Option | Environment |'), readme.indexOf('### Signals in detail'));
/** Each row: its first cell's flags and its second cell's variable (`text\|json` is not a cell border). */
const rows: Listed[] = table
  .split('\n')
  .filter((l) => l.startsWith('| `'))
  .map((l) => {
    const cells = l.split(/(?<!\\)\|/);
    return { flags: flagsOf(cells[1]!), env: cells[2]!.replace(/`/g, '').trim() };
  });

/** Each option line of --help (`  -h, --help   Show…`, `      --drain DURATION   …`, `  -g, -s   …`). */
const helpLines: Listed[] = formatHelp()
  .split('\n')
  .filter((l) => /^ {2}(-\w, | {4})?-/.test(l))
  .map((l) => ({
    flags: flagsOf(l.slice(0, 33)),
    env: /\[(TSINIT_\w+)\]$/.exec(l)?.[1] ?? '',
  }));

describe('README options table', () => {
  it('--help has option lines to compare', () => {
    expect(helpLines.map((o) => o.flags[0])).toEqual(
      expect.arrayContaining(['-h', '--version', '-v', '--drain', '-g']),
    );
  });

  it.each(helpLines.map((o) => [o.flags.join(', '), o] as const))('%s: a row with the same variable', (_flags, o) => {
    // The long name when there is one (`--drain`), else the short one (tini's `-g`).
    const name = o.flags.find((f) => f.startsWith('--')) ?? o.flags[0]!;
    const row = rows.find((r) => r.flags.includes(name));
    expect(row, `README row for ${name}`).toBeDefined();
    expect(row!.env, `variable of ${name}`).toBe(o.env);
  });

  it('documents no option that --help lacks', () => {
    const known = helpLines.flatMap((o) => o.flags);
    for (const d of rows.flatMap((r) => r.flags)) expect(known, d).toContain(d);
  });
});

describe('README table of log events', () => {
  it("lists the logger's events, in its order, each at its level", () => {
    const section = readme.slice(readme.indexOf('### Logs'), readme.indexOf('### Exit codes'));
    const documented = section
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => {
        const [, name, level] = l.split('|').map((c) => c.trim());
        return [name!.replace(/`/g, ''), level];
      });
    expect(documented).toEqual(Object.entries(LOG_EVENTS));
  });
});
