// dist/release/ as `npm run release` writes it: the two executables, a tarball of each holding
// one `tsinit`, SHA256SUMS that `sha256sum -c` accepts, and --version naming version, Node and
// architecture. The arm64 executable is run under qemu by test/arm64/, not here.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, runToEnd } from '../helpers/pid1.ts';
import { ELF_MACHINE, elfMachine, ensureRelease, NODE_VERSION, PKG, RELEASE, RELEASE_FILES } from './artifacts.ts';

const scratch = mkdtempSync(resolve(tmpdir(), 'tsinit-release-'));
beforeAll(ensureRelease, 600_000);
afterEach(killAll);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const TARGETS = ['linux-x64', 'linux-arm64'] as const;

describe('dist/release', () => {
  it('holds exactly the two executables, their tarballs and SHA256SUMS', () => {
    expect(readdirSync(RELEASE).sort()).toEqual(RELEASE_FILES);
  });

  it('SHA256SUMS lists every other file with its hash, and sha256sum -c accepts it', () => {
    const lines = readFileSync(resolve(RELEASE, 'SHA256SUMS'), 'utf8').trimEnd().split('\n');
    const listed = Object.fromEntries(lines.map((l) => { const [hash, name] = l.split('  '); return [name!, hash!]; }));
    expect(Object.keys(listed).sort()).toEqual(RELEASE_FILES.filter((f) => f !== 'SHA256SUMS'));
    for (const [name, hash] of Object.entries(listed)) expect(hash, name).toBe(sha256(resolve(RELEASE, name)));
    const out = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: RELEASE, encoding: 'utf8' });
    expect(out.split('\n').filter((l) => l.endsWith(': OK'))).toHaveLength(4);
  });

  it.each(TARGETS)('tsinit-%s is an executable for its architecture, 100-130 MB', (target) => {
    const file = resolve(RELEASE, `tsinit-${target}`);
    expect(elfMachine(file)).toBe(ELF_MACHINE[target]);
    const st = statSync(file);
    expect(st.mode & 0o777).toBe(0o755);
    expect(st.size).toBeGreaterThan(100e6);
    expect(st.size).toBeLessThan(130e6);
  });

  it.each(TARGETS)('tsinit-%s.tar.gz holds one file, tsinit, mode 755, owned by root, the same bytes', (target) => {
    const tarball = resolve(RELEASE, `tsinit-${target}.tar.gz`);
    const listing = execFileSync('tar', ['-tvzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toHaveLength(1);
    expect(listing[0]).toMatch(/^-rwxr-xr-x 0\/0 +\d+ .* tsinit$/);
    const dir = mkdtempSync(resolve(scratch, `${target}-`));
    execFileSync('tar', ['-xzf', tarball, '-C', dir]);
    expect(sha256(resolve(dir, 'tsinit'))).toBe(sha256(resolve(RELEASE, `tsinit-${target}`)));
    // Compressed, yet a gzip of a Node binary: ~40 MB.
    expect(statSync(tarball).size).toBeLessThan(0.5 * statSync(resolve(RELEASE, `tsinit-${target}`)).size);
  });
});

describe('the x64 release executable', () => {
  it('--version names the version, the Node it runs on and the architecture', () => {
    const out = execFileSync(resolve(RELEASE, 'tsinit-linux-x64'), ['--version'], { encoding: 'utf8' });
    expect(out).toBe(`tsinit version ${PKG.version} - node v${NODE_VERSION} linux-x64\n`);
  });

  it('unpacked from its tarball, runs as PID 1 and passes the exit code through', async () => {
    const dir = mkdtempSync(resolve(scratch, 'run-'));
    execFileSync('tar', ['-xzf', resolve(RELEASE, 'tsinit-linux-x64.tar.gz'), '-C', dir]);
    const r = await runToEnd(['--', 'sh', '-c', 'echo "ppid $PPID"; exit 9'], { init: resolve(dir, 'tsinit') });
    expect(r.stdout).toBe('ppid 1\n');
    expect(r.code).toBe(9);
  });
});
