// The sizes README.md's Install section states, held at the release's files: each figure as
// written (KB = 1000 bytes, MB = 10^6, rounded) must be the file's size to within the
// rounding, or SLACK of it, so that a change that moves a file's size by more than a rounding
// step fails here until the README says so. The table below is written by hand: which figure
// of which line is which file.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/pid1.ts';
import { ensureRelease, PKG, RELEASE } from './artifacts.ts';

beforeAll(ensureRelease, 600_000);

/** How far a stated figure may be from the file: half a unit of rounding, or this share of it. */
const SLACK = 0.005;

const README = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const INSTALL = README.slice(README.indexOf('## Install'), README.indexOf('\n## ', README.indexOf('## Install') + 1));
const v = PKG.version;

/** A line of the Install section (its start, as written), its figures, their unit, and the file each group of figures is. */
interface Stated {
  line: string;
  figures: RegExp;
  unit: 1e3 | 1e6;
  files: [file: string, group: number][];
}

const KB = 1e3;
const MB = 1e6;
const STATED: Stated[] = [
  {
    line: 'The static executable is what to use',
    figures: /\((\d+) KB\) or `tsinit-linux-arm64`\s*\((\d+) KB\)/,
    unit: KB,
    files: [
      ['tsinit-linux-x64', 1],
      ['tsinit-linux-arm64', 2],
    ],
  },
  {
    line: '| tarball |',
    figures: /\| (\d+) \/ (\d+) KB \|/,
    unit: KB,
    files: [
      ['tsinit-linux-x64.tar.gz', 1],
      ['tsinit-linux-arm64.tar.gz', 2],
    ],
  },
  { line: '| OCI image', figures: /\| (\d+) KB \|/, unit: KB, files: [['tsinit-oci.tar', 1]] },
  {
    line: '| Debian package |',
    figures: /\| (\d+) \/ (\d+) KB \|/,
    unit: KB,
    files: [
      [`tsinit_${v}_amd64.deb`, 1],
      [`tsinit_${v}_arm64.deb`, 2],
    ],
  },
  {
    line: '| npm, any Node |',
    figures: /\| (\d+) \+ (\d+) \/ (\d+) KB \|/,
    unit: KB,
    files: [
      [`tsinit-${v}.tgz`, 1],
      [`tsinit-linux-x64-${v}.tgz`, 2],
      [`tsinit-linux-arm64-${v}.tgz`, 3],
    ],
  },
  // One figure for both tarballs, then the two executables.
  {
    line: '| Node build, executable |',
    figures: /\| (\d+) MB \|.*\(single executable, (\d+) \/ (\d+) MB\)/,
    unit: MB,
    files: [
      ['tsinit-node-linux-x64.tar.gz', 1],
      ['tsinit-node-linux-arm64.tar.gz', 1],
      ['tsinit-node-linux-x64', 2],
      ['tsinit-node-linux-arm64', 3],
    ],
  },
  { line: '| Node build, npm |', figures: /\| (\d+) KB \|/, unit: KB, files: [[`tsinit-node-${v}.tgz`, 1]] },
];

/** The line of the Install section that starts with start, joined with the next one (a figure may wrap). */
function statedLine(start: string): string {
  const lines = INSTALL.split('\n');
  const i = lines.findIndex((l) => l.startsWith(start));
  if (i < 0) throw new Error(`README.md's Install section has no line starting '${start}'`);
  return `${lines[i]!}\n${lines[i + 1] ?? ''}`;
}

/** Whether figure (in unit bytes) states size: within half a unit of rounding, or SLACK of it. */
function states(figure: number, unit: number, size: number): boolean {
  return Math.abs(figure * unit - size) <= Math.max(unit / 2, SLACK * figure * unit);
}

describe("README.md's Install sizes", () => {
  it.each(STATED.map((s) => [s.line, s] as const))('%s: each figure is its file in dist/release', (_, s) => {
    const text = statedLine(s.line);
    const m = s.figures.exec(text);
    expect(m, text).not.toBeNull();
    for (const [file, group] of s.files) {
      const size = statSync(resolve(RELEASE, file)).size;
      const figure = Number(m![group]);
      const written = `${figure} ${s.unit === MB ? 'MB' : 'KB'}`;
      expect(states(figure, s.unit, size), `${file} is ${size} B, the README says ${written}`).toBe(true);
    }
  });

  it('the check can fail: 399 KB does not state 402 608 B, 403 KB does', () => {
    expect(states(399, KB, 402_608)).toBe(false);
    expect(states(403, KB, 402_608)).toBe(true);
  });
});
