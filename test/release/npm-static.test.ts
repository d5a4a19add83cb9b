// The npm package `tsinit` on any Node: the release's tarballs (tsinit and @tsinit/linux-x64, its
// optional dependency) installed offline into a temp folder, as a user's `npm install tsinit`
// does, by this machine's Node 20 (/usr/bin/node) and by the pinned Node 26 with the same npm.
// node_modules/.bin/tsinit must be the static executable, or exec it: PID 1 is tsinit, not node
// and not sh. A platform package missing, or a platform without one, is one line, exit 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, runPid1, runToEnd } from '../helpers/pid1.ts';
import { ensureRelease, NPM_TARBALLS, PKG, RELEASE } from './artifacts.ts';
import { guideSnippet } from './guide.ts';

const scratch = mkdtempSync(resolve(tmpdir(), 'tsinit-npm-static-'));
const SYSTEM_NODE = '/usr/bin/node';
const NPM_CLI = realpathSync('/usr/bin/npm');
const STATIC = `tsinit version ${PKG.version} - duktape 2.7.0 musl static linux-x64\n`;
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The Nodes installed with: the machine's own (v20 here) and the pinned one. */
const NODES = { 'system Node': SYSTEM_NODE, 'pinned Node 26': process.execPath } as const;
type NodeName = keyof typeof NODES;

/** A PATH whose first node is that Node, and nothing of the repository. */
const pathFor = (node: string): string => [dirname(node), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);

/** `npm install` by the npm CLI run on node, offline, of the given release tarballs, into a fresh prefix. */
function npmInstall(
  node: string,
  tarballs: string[],
  extra: string[] = [],
): { prefix: string; status: number | null; stderr: string } {
  const prefix = mkdtempSync(resolve(scratch, 'prefix-'));
  const r = spawnSync(
    node,
    [
      NPM_CLI,
      'install',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...extra,
      ...tarballs.map((t) => resolve(RELEASE, t)),
    ],
    {
      cwd: prefix,
      encoding: 'utf8',
      env: { PATH: pathFor(node), HOME: scratch },
    },
  );
  return { prefix, status: r.status, stderr: r.stderr };
}

const installed = {} as Record<NodeName, string>;
beforeAll(() => {
  ensureRelease();
  const v = execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }).trim();
  if (v.startsWith('v26.')) throw new Error(`${SYSTEM_NODE} is ${v}: the test needs the machine's older Node`);
  // The guide's command (docker/guides/README.md), run offline: the files it names are the release's.
  const [npm, install, ...files] = guideSnippet('npm-static').trim().split(/\s+/);
  expect([npm, install]).toEqual(['npm', 'install']);
  const tarballs = files.map((f) => f.replace(/^\.\//, '').replaceAll('0.1.0', PKG.version));
  expect(tarballs).toEqual([NPM_TARBALLS.main, NPM_TARBALLS['linux-x64']]);
  for (const [name, node] of Object.entries(NODES) as [NodeName, string][]) {
    const r = npmInstall(node, tarballs);
    if (r.status !== 0) throw new Error(`npm install on ${name} failed: ${r.stderr}`);
    installed[name] = r.prefix;
  }
}, 300_000);
afterEach(killAll);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each(Object.keys(NODES) as NodeName[])('npm install tsinit on the %s', (name) => {
  const bin = (): string => resolve(installed[name], 'node_modules/.bin/tsinit');

  it('node_modules/.bin/tsinit is the static executable itself, byte for byte', () => {
    expect(sha256(realpathSync(bin()))).toBe(sha256(resolve(RELEASE, 'tsinit-linux-x64')));
    expect(execFileSync(bin(), ['--version'], { encoding: 'utf8' })).toBe(STATIC);
  });

  it('as PID 1 it is tsinit (not node, not sh) and passes the exit code through', async () => {
    const r = await runToEnd(['--', 'sh', '-c', 'echo "ppid $PPID pid1 $(cat /proc/1/comm)"; exit 9'], {
      init: bin(),
      env: { PATH: pathFor(NODES[name]) },
    });
    expect(r.stdout).toBe('ppid 1 pid1 tsinit\n');
    expect(r.code).toBe(9);
    expect(r.stderr).toBe('');
  });

  it('forwards SIGTERM to the app and exits with its status', async () => {
    const r = runPid1(
      ['--', 'sh', '-c', 'trap "echo got TERM; exit 3" TERM; echo READY; while :; do sleep 0.05; done'],
      { init: bin(), env: { PATH: pathFor(NODES[name]) } },
    );
    await r.waitFor(/READY/);
    await r.signal('SIGTERM');
    await r.waitFor(/got TERM/);
    expect((await r.exit()).code).toBe(3);
  });
});

describe('without install scripts (--ignore-scripts)', () => {
  it(".bin/tsinit is the sh launcher, which execs the platform package's executable: PID 1 is still tsinit", async () => {
    const { prefix, status, stderr } = npmInstall(
      SYSTEM_NODE,
      [NPM_TARBALLS.main, NPM_TARBALLS['linux-x64']],
      ['--ignore-scripts'],
    );
    expect(status, stderr).toBe(0);
    const bin = resolve(prefix, 'node_modules/.bin/tsinit');
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/bin/sh');
    const r = await runToEnd(['--', 'sh', '-c', 'echo "pid1 $(cat /proc/1/comm)"; exit 4'], {
      init: bin,
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(r.stdout).toBe('pid1 tsinit\n');
    expect(r.code).toBe(4);
  });
});

describe('faults: one line, exit 1, no stack trace', () => {
  it("the platform package missing at install time (--omit=optional): npm fails with the postinstall's line", () => {
    const { status, stderr } = npmInstall(SYSTEM_NODE, [NPM_TARBALLS.main], ['--omit=optional']);
    expect(status).not.toBe(0);
    const ours = stderr.split('\n').filter((l) => l.includes('tsinit: error:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(
      /tsinit: error: the package @tsinit\/linux-x64 is not installed \(it is an optional dependency of tsinit: install without --omit=optional\)$/,
    );
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('the platform package missing at run time: the launcher says so in one line', () => {
    const { prefix, status } = npmInstall(SYSTEM_NODE, [NPM_TARBALLS.main], ['--omit=optional', '--ignore-scripts']);
    expect(status).toBe(0);
    const r = spawnSync(resolve(prefix, 'node_modules/.bin/tsinit'), ['--', 'true'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'tsinit: error: the package @tsinit/linux-x64 is not installed (it is an optional dependency of tsinit: install without --omit=optional)\n',
    );
  });

  it('an unsupported platform: the launcher and the postinstall each say it in one line', () => {
    const { prefix } = npmInstall(SYSTEM_NODE, [NPM_TARBALLS.main, NPM_TARBALLS['linux-x64']], ['--ignore-scripts']);
    // What uname and Node report on a machine tsinit has no executable for (s390x).
    const fake = resolve(scratch, 'fake-s390x');
    mkdirSync(fake, { recursive: true });
    writeFileSync(resolve(fake, 'uname'), '#!/bin/sh\ncase "$1" in -s) echo Linux ;; -m) echo s390x ;; esac\n', {
      mode: 0o755,
    });
    writeFileSync(resolve(fake, 'arch.cjs'), "Object.defineProperty(process, 'arch', { value: 's390x' });\n");
    const launcher = spawnSync(resolve(prefix, 'node_modules/.bin/tsinit'), ['--', 'true'], {
      encoding: 'utf8',
      env: { PATH: `${fake}:/usr/bin:/bin` },
    });
    expect(launcher.status).toBe(1);
    expect(launcher.stderr).toBe(
      'tsinit: error: no tsinit executable for Linux s390x (supported: Linux x86_64 and aarch64)\n',
    );
    const post = spawnSync(SYSTEM_NODE, ['--require', resolve(fake, 'arch.cjs'), 'install.cjs'], {
      cwd: resolve(prefix, 'node_modules/tsinit'),
      encoding: 'utf8',
    });
    expect(post.status).toBe(1);
    expect(post.stderr).toBe('tsinit: error: no tsinit executable for linux s390x (supported: linux x64 and arm64)\n');
  });
});

describe('the tarballs', () => {
  const manifest = (t: string): Record<string, unknown> =>
    JSON.parse(
      execFileSync('tar', ['-xzOf', resolve(RELEASE, t), 'package/package.json'], { encoding: 'utf8' }),
    ) as Record<string, unknown>;

  it('tsinit: the launcher and the postinstall, the two platform packages as exact optional dependencies, no engines bound', () => {
    const m = manifest(NPM_TARBALLS.main);
    expect(m).toMatchObject({
      name: 'tsinit',
      version: PKG.version,
      bin: { tsinit: 'bin/tsinit' },
      scripts: { postinstall: 'node install.cjs' },
    });
    expect(m.optionalDependencies).toEqual({ '@tsinit/linux-x64': PKG.version, '@tsinit/linux-arm64': PKG.version });
    expect(m.engines).toBeUndefined();
    expect(
      execFileSync('tar', ['-tzf', resolve(RELEASE, NPM_TARBALLS.main)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .sort(),
    ).toEqual(['package/bin/tsinit', 'package/install.cjs', 'package/package.json']);
  });

  it.each([
    ['linux-x64', 'x64'],
    ['linux-arm64', 'arm64'],
  ] as const)('@tsinit/%s: os and cpu fields, and the release executable as tsinit (755)', (target, cpu) => {
    const t = NPM_TARBALLS[target];
    expect(manifest(t)).toMatchObject({ name: `@tsinit/${target}`, version: PKG.version, os: ['linux'], cpu: [cpu] });
    const listing = execFileSync('tar', ['-tvzf', resolve(RELEASE, t)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listing.find((l) => l.endsWith(' package/tsinit'))).toMatch(/^-rwxr-xr-x /);
    const dir = mkdtempSync(resolve(scratch, 'tgz-'));
    execFileSync('tar', ['-xzf', resolve(RELEASE, t), '-C', dir]);
    expect(sha256(resolve(dir, 'package/tsinit'))).toBe(sha256(resolve(RELEASE, `tsinit-${target}`)));
  });
});
