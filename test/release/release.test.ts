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
const ARCH = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'node-linux-x64': 'linux-x64',
  'node-linux-arm64': 'linux-arm64',
} as const;
const NAMES = Object.keys(ARCH) as (keyof typeof ARCH)[];
/** Bounds: the static build's target is 500 KB; a Node executable is the whole runtime. */
const SIZE = (name: string): [number, number] => (name.startsWith('node-') ? [100e6, 130e6] : [200e3, 500e3]);

describe('dist/release', () => {
  it('holds exactly the four executables, their tarballs, the OCI archive, the .debs, the npm tarballs and SHA256SUMS', () => {
    expect(readdirSync(RELEASE).sort()).toEqual(RELEASE_FILES);
  });

  it('SHA256SUMS lists every other file with its hash, and sha256sum -c accepts it', () => {
    const lines = readFileSync(resolve(RELEASE, 'SHA256SUMS'), 'utf8').trimEnd().split('\n');
    const listed = Object.fromEntries(
      lines.map((l) => {
        const [hash, name] = l.split('  ');
        return [name!, hash!];
      }),
    );
    expect(Object.keys(listed).sort()).toEqual(RELEASE_FILES.filter((f) => f !== 'SHA256SUMS'));
    for (const [name, hash] of Object.entries(listed)) expect(hash, name).toBe(sha256(resolve(RELEASE, name)));
    const out = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: RELEASE, encoding: 'utf8' });
    expect(out.split('\n').filter((l) => l.endsWith(': OK'))).toHaveLength(RELEASE_FILES.length - 1);
  });

  it.each(NAMES)('tsinit-%s is an executable for its architecture, of the expected size', (name) => {
    const file = resolve(RELEASE, `tsinit-${name}`);
    expect(elfMachine(file)).toBe(ELF_MACHINE[ARCH[name]]);
    const st = statSync(file);
    expect(st.mode & 0o777).toBe(0o755);
    const [min, max] = SIZE(name);
    expect(st.size).toBeGreaterThan(min);
    expect(st.size).toBeLessThan(max);
  });

  it.each(NAMES)('tsinit-%s is static when it is not the Node build', (name) => {
    const out = execFileSync('file', ['-b', resolve(RELEASE, `tsinit-${name}`)], { encoding: 'utf8' });
    expect(out).toMatch(name.startsWith('node-') ? /dynamically linked/ : /statically linked/);
  });

  it.each(NAMES)(
    'tsinit-%s.tar.gz holds tsinit (mode 755, root, the same bytes) and the one-line COPY recipe',
    (name) => {
      const tarball = resolve(RELEASE, `tsinit-${name}.tar.gz`);
      const listing = execFileSync('tar', ['-tvzf', tarball], { encoding: 'utf8' }).trim().split('\n');
      expect(listing).toHaveLength(2);
      expect(listing[0]).toMatch(/^-rwxr-xr-x 0\/0 +\d+ .* tsinit$/);
      expect(listing[1]).toMatch(/^-rw-r--r-- 0\/0 +\d+ .* INSTALL$/);
      const dir = mkdtempSync(resolve(scratch, `${name}-`));
      execFileSync('tar', ['-xzf', tarball, '-C', dir]);
      expect(sha256(resolve(dir, 'tsinit'))).toBe(sha256(resolve(RELEASE, `tsinit-${name}`)));
      expect(readFileSync(resolve(dir, 'INSTALL'), 'utf8')).toMatch(/^COPY tsinit \/tsinit$/m);
    },
  );
});

describe('the x64 release executables', () => {
  it('--version names the version, the host it runs on and the architecture', () => {
    const run = (name: string) => execFileSync(resolve(RELEASE, name), ['--version'], { encoding: 'utf8' });
    expect(run('tsinit-linux-x64')).toBe(`tsinit version ${PKG.version} - duktape 2.7.0 musl static linux-x64\n`);
    expect(run('tsinit-node-linux-x64')).toBe(`tsinit version ${PKG.version} - node v${NODE_VERSION} linux-x64\n`);
  });

  it('unpacked from its tarball, runs as PID 1 and passes the exit code through', async () => {
    const dir = mkdtempSync(resolve(scratch, 'run-'));
    execFileSync('tar', ['-xzf', resolve(RELEASE, 'tsinit-linux-x64.tar.gz'), '-C', dir]);
    const r = await runToEnd(['--', 'sh', '-c', 'echo "ppid $PPID"; exit 9'], { init: resolve(dir, 'tsinit') });
    expect(r.stdout).toBe('ppid 1\n');
    expect(r.code).toBe(9);
  });
});
