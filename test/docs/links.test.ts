// Every relative link in the project's Markdown resolves: the file or folder exists, and an
// anchor (#section) names a heading of the file it points to, slugged as GitHub does. A section
// named in prose without a link ("see Known limits") must be a heading or a bold label of the
// same document. Links to web addresses are not followed (no network where the tests run).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/pid1.ts';

/** Every Markdown file git knows of, new ones included (README.md, docker/, bench/, test/, src/). */
const FILES = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*.md'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => f !== '' && !f.startsWith('node_modules/') && existsSync(resolve(ROOT, f)))
  .sort();

/** The text outside fenced code blocks and inline code, where a link is a link. */
export function prose(md: string): string {
  return md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '``');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-', repeats numbered. */
export function anchors(md: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of prose(md).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[*_`]/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  // Inline code is dropped from the prose above; a heading with code keeps the code's words.
  for (const m of md.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) {
    out.add(
      m[1]!
        .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return out;
}

/** Each inline link or image target in a document: [text](target) and ![alt](target). */
export function links(md: string): string[] {
  return [...prose(md).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** Why a link from `file` (relative to ROOT) does not resolve, or null when it does. */
export function brokenLink(file: string, target: string, read = (p: string) => readFileSync(p, 'utf8')): string | null {
  if (/^[a-z][a-z+.-]*:/i.test(target)) return null;
  const [path, anchor] = target.split('#') as [string, string | undefined];
  const abs = path === '' ? resolve(ROOT, file) : resolve(ROOT, dirname(file), decodeURIComponent(path));
  if (!existsSync(abs)) return `${target}: no such file ${relative(ROOT, abs)}`;
  if (anchor === undefined || anchor === '') return null;
  if (statSync(abs).isDirectory() || !abs.endsWith('.md'))
    return `${target}: an anchor into a file that is not Markdown`;
  return anchors(read(abs)).has(anchor.toLowerCase())
    ? null
    : `${target}: no heading #${anchor} in ${relative(ROOT, abs)}`;
}

/** Sections named in prose without a link ("see Shipping"), each missing from the document's headings and bold labels. */
export function unknownSections(md: string): string[] {
  const text = prose(md);
  const names = new Set<string>();
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) names.add(m[1]!.replace(/[*`]/g, '').toLowerCase());
  for (const m of text.matchAll(/^\*\*([^*]+?)[.:]?\*\*/gm)) names.add(m[1]!.toLowerCase());
  const out: string[] = [];
  for (const m of text.matchAll(/\bsee ([A-Z][\w-]*(?: [a-z][\w-]*)*)(?=[),.;:])/g)) {
    const name = m[1]!.toLowerCase();
    if (![...names].some((n) => n === name || n.startsWith(`${name} `) || n.startsWith(`${name}:`))) out.push(m[1]!);
  }
  return out;
}

describe('relative links in the Markdown documents', () => {
  it('finds the documents (README.md and those beside the evidence)', () => {
    expect(FILES).toEqual(
      expect.arrayContaining([
        'README.md',
        'docker/PODMAN.md',
        'docker/guides/README.md',
        'bench/RESULTS.md',
        'test/hardening/RELIABILITY.md',
      ]),
    );
  });

  it.each(FILES)('%s: every relative link and anchor resolves', (file) => {
    const broken = links(readFileSync(resolve(ROOT, file), 'utf8'))
      .map((t) => brokenLink(file, t))
      .filter((b) => b !== null);
    expect(broken).toEqual([]);
  });

  it.each(FILES)('%s: every section named in prose ("see X") exists', (file) => {
    expect(unknownSections(readFileSync(resolve(ROOT, file), 'utf8'))).toEqual([]);
  });

  it('the checks can fail: a missing file, a missing anchor, a section that is not there', () => {
    expect(brokenLink('README.md', 'docker/NO-SUCH.md')).toMatch(/no such file/);
    expect(brokenLink('README.md', '#no-such-heading')).toMatch(/no heading/);
    expect(brokenLink('README.md', 'https://example.com/x')).toBeNull();
    expect(links('a [x](b.md) `[y](c.md)` ![i](d.svg)\n```\n[z](e.md)\n```\n')).toEqual(['b.md', 'd.svg']);
    expect([...anchors('# A `b` c\n## Uvicorn and Gunicorn\n## Uvicorn and Gunicorn\n')]).toEqual(
      expect.arrayContaining(['a-b-c', 'uvicorn-and-gunicorn', 'uvicorn-and-gunicorn-1']),
    );
    expect(unknownSections('## Install\n**Known limits**\n(see Shipping). (see Install). (see Known limits).')).toEqual(
      ['Shipping'],
    );
  });
});
