// The README's options table and `tsinit --help` name the same options and variables; its
// table of log events is the logger's list, with the same levels.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatHelp, OPTIONS } from '../src/core/cli.ts';
import { LOG_EVENTS } from '../src/core/log.ts';
import { ROOT } from './helpers/pid1.ts';

const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const table = readme.slice(readme.indexOf('| Option | Environment |'), readme.indexOf('### Signals in detail'));
const rows = table.split('\n').filter((l) => l.startsWith('| `'));

describe('README options table', () => {
  it('has a row for every option in --help, with its environment variable', () => {
    const help = formatHelp();
    for (const o of OPTIONS) {
      const flag = o.long.startsWith('tini-') ? `\`-${o.short}\`` : `\`--${o.long}`;
      const row = rows.find((r) => r.includes(flag));
      expect(row, `README row for ${flag}`).toBeDefined();
      if (o.env) {
        expect(row).toContain(`\`${o.env}\``);
        expect(help).toContain(o.env);
      }
      if (!o.long.startsWith('tini-')) expect(help).toContain(`--${o.long}`);
    }
  });

  it('documents no option that --help lacks', () => {
    const documented = [...table.matchAll(/`--([a-z-]+)/g)].map((m) => m[1]);
    const known = OPTIONS.map((o) => o.long);
    for (const d of documented) expect(known, `--${d}`).toContain(d);
  });
});

describe('README table of log events', () => {
  it('lists the logger\'s events, in its order, each at its level', () => {
    const section = readme.slice(readme.indexOf('### Logs'), readme.indexOf('### Exit codes'));
    const documented = section.split('\n').filter((l) => l.startsWith('| `')).map((l) => {
      const [, name, level] = l.split('|').map((c) => c.trim());
      return [name!.replace(/`/g, ''), level];
    });
    expect(documented).toEqual(Object.entries(LOG_EVENTS));
  });
});
