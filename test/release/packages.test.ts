// The packages of dist/release read as their tools read them, without an engine: the OCI image
// archive (skopeo reads the index; each architecture's one layer is /tsinit, the release's
// bytes; the arm64 one runs under qemu as PID 1), the .debs (dpkg-deb's fields and files,
// lintian, the man page against --help) and the Pod YAML of the guide (Kubernetes' schema).
// Installing them on Docker, Podman and in the minbase image is packages.engines.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { Pod } from 'kubernetes-models/v1/Pod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatHelp, parseCli } from '../../src/core/cli.ts';
import { killAll, ROOT, runToEnd } from '../helpers/pid1.ts';
import { DEBS, ELF_MACHINE, elfMachine, ensureRelease, OCI_ARCHIVE, PKG, RELEASE } from './artifacts.ts';
import { guideSnippet } from './guide.ts';

const scratch = mkdtempSync(resolve(tmpdir(), 'tsinit-packages-'));
const QEMU_TSINIT = resolve(ROOT, 'test/arm64/qemu-tsinit');
beforeAll(() => {
  ensureRelease();
  execFileSync(resolve(ROOT, '.ci/install'), ['release-test', 'arm64'], { stdio: ['ignore', 'ignore', 'inherit'] });
}, 600_000);
afterEach(killAll);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const ARCH = { 'linux-x64': { oci: 'amd64' }, 'linux-arm64': { oci: 'arm64' } } as const;
const TARGETS = Object.keys(ARCH) as (keyof typeof ARCH)[];

describe('the OCI image archive', () => {
  const layout = resolve(scratch, 'layout');
  const blob = (digest: string): Buffer => readFileSync(resolve(layout, 'blobs', ...digest.split(':')));
  interface Descriptor {
    mediaType: string;
    digest: string;
    size: number;
    platform?: { architecture: string; os: string };
    annotations?: Record<string, string>;
  }
  let index: { manifests: Descriptor[] };
  beforeAll(() => {
    mkdirSync(layout);
    execFileSync('tar', ['-xf', resolve(RELEASE, OCI_ARCHIVE), '-C', layout]);
    const top = JSON.parse(readFileSync(resolve(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    index = JSON.parse(blob(top.manifests[0]!.digest).toString()) as { manifests: Descriptor[] };
  });

  it(`names one image index tsinit:${PKG.version}, the one skopeo reads from the archive`, () => {
    const top = JSON.parse(readFileSync(resolve(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    expect(top.manifests).toHaveLength(1);
    expect(top.manifests[0]!.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(top.manifests[0]!.annotations).toEqual({ 'org.opencontainers.image.ref.name': `tsinit:${PKG.version}` });
    const raw = execFileSync('skopeo', [
      'inspect',
      '--raw',
      `oci-archive:${resolve(RELEASE, OCI_ARCHIVE)}:tsinit:${PKG.version}`,
    ]);
    expect(`sha256:${sha256(raw)}`).toBe(top.manifests[0]!.digest);
  });

  it('the index holds linux/amd64 and linux/arm64, nothing else', () => {
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux' },
    ]);
  });

  it.each(TARGETS)(
    '%s: one layer holding /tsinit alone (755, root), the bytes of the release executable; entrypoint /tsinit',
    (target) => {
      const desc = index.manifests.find((m) => m.platform!.architecture === ARCH[target].oci)!;
      const manifest = JSON.parse(blob(desc.digest).toString()) as { config: Descriptor; layers: Descriptor[] };
      const config = JSON.parse(blob(manifest.config.digest).toString()) as {
        architecture: string;
        os: string;
        config: { Entrypoint: string[]; Cmd: string[] };
      };
      expect([config.os, config.architecture]).toEqual(['linux', ARCH[target].oci]);
      expect(config.config.Entrypoint).toEqual(['/tsinit']);
      expect(config.config.Cmd).toEqual(['--version']);
      expect(manifest.layers).toHaveLength(1);
      const layer = resolve(layout, 'blobs', ...manifest.layers[0]!.digest.split(':'));
      expect(execFileSync('tar', ['-tvzf', layer], { encoding: 'utf8' }).trim().split('\n')).toEqual([
        expect.stringMatching(/^-rwxr-xr-x 0\/0 +\d+ .* tsinit$/),
      ]);
      const dir = mkdtempSync(resolve(scratch, `${target}-`));
      execFileSync('tar', ['-xzf', layer, '-C', dir]);
      expect(sha256(readFileSync(resolve(dir, 'tsinit')))).toBe(
        sha256(readFileSync(resolve(RELEASE, `tsinit-${target}`))),
      );
      expect(elfMachine(resolve(dir, 'tsinit'))).toBe(ELF_MACHINE[target]);
    },
  );

  it("the arm64 image's tsinit runs under qemu as PID 1 and passes the exit code through", async () => {
    const desc = index.manifests.find((m) => m.platform!.architecture === 'arm64')!;
    const manifest = JSON.parse(blob(desc.digest).toString()) as { layers: Descriptor[] };
    const dir = mkdtempSync(resolve(scratch, 'arm64-run-'));
    execFileSync('tar', ['-xzf', resolve(layout, 'blobs', ...manifest.layers[0]!.digest.split(':')), '-C', dir]);
    const r = await runToEnd(['--', 'sh', '-c', 'echo "ppid $PPID"; exit 5'], {
      init: QEMU_TSINIT,
      env: { PATH: '/usr/bin:/bin', TSINIT_ARM64: resolve(dir, 'tsinit') },
    });
    expect(r.stdout).toBe('ppid 1\n');
    expect(r.code).toBe(5);
    const v = execFileSync(QEMU_TSINIT, ['--version'], {
      env: { TSINIT_ARM64: resolve(dir, 'tsinit') },
      encoding: 'utf8',
    });
    expect(v).toBe(`tsinit version ${PKG.version} - duktape 2.7.0 musl static linux-arm64\n`);
  });
});

describe('the .deb packages', () => {
  const field = (deb: string, name: string): string =>
    execFileSync('dpkg-deb', ['-f', resolve(RELEASE, deb), name], { encoding: 'utf8' }).trim();

  it.each(TARGETS)('%s: the usual control fields', (target) => {
    const deb = DEBS[target];
    expect(field(deb, 'Package')).toBe('tsinit');
    expect(field(deb, 'Version')).toBe(PKG.version);
    expect(field(deb, 'Architecture')).toBe(target === 'linux-x64' ? 'amd64' : 'arm64');
    expect(field(deb, 'Maintainer')).toMatch(/^.+ <[^@\s]+@[^@\s]+>$/);
    expect(field(deb, 'Section')).toBe('admin');
    expect(field(deb, 'Priority')).toBe('optional');
    expect(Number(field(deb, 'Installed-Size'))).toBeGreaterThan(
      statSync(resolve(RELEASE, `tsinit-${target}`)).size / 1024,
    );
    expect(field(deb, 'Description')).toMatch(/^container init \(PID 1\)/);
  });

  it.each(TARGETS)(
    '%s: /usr/bin/tsinit (the release bytes), the man page, copyright and changelog; root-owned',
    (target) => {
      const listing = execFileSync('dpkg-deb', ['-c', resolve(RELEASE, DEBS[target])], { encoding: 'utf8' })
        .trim()
        .split('\n');
      const files = listing.filter((l) => l.startsWith('-')).map((l) => l.split(/\s+/).at(-1));
      expect(files).toEqual([
        './usr/bin/tsinit',
        './usr/share/doc/tsinit/changelog.gz',
        './usr/share/doc/tsinit/copyright',
        './usr/share/lintian/overrides/tsinit',
        './usr/share/man/man1/tsinit.1.gz',
      ]);
      for (const l of listing) expect(l).toMatch(/^\S+ root\/root /);
      const dir = mkdtempSync(resolve(scratch, `deb-${target}-`));
      execFileSync('dpkg-deb', ['-x', resolve(RELEASE, DEBS[target]), dir]);
      expect(sha256(readFileSync(resolve(dir, 'usr/bin/tsinit')))).toBe(
        sha256(readFileSync(resolve(RELEASE, `tsinit-${target}`))),
      );
      expect(statSync(resolve(dir, 'usr/bin/tsinit')).mode & 0o777).toBe(0o755);
      const changelog = execFileSync('zcat', [resolve(dir, 'usr/share/doc/tsinit/changelog.gz')], { encoding: 'utf8' });
      expect(changelog.split('\n')[0]).toBe(`tsinit (${PKG.version}) unstable; urgency=medium`);
    },
  );

  it('lintian finds no error and no warning in either', () => {
    const r = spawnSync(
      'lintian',
      ['--tag-display-limit', '0', ...Object.values(DEBS).map((d) => resolve(RELEASE, d))],
      { encoding: 'utf8' },
    );
    const tags = r.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
    expect(tags).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('the man page lists every option --help lists, with its text and variable, and the exit codes', () => {
    const dir = mkdtempSync(resolve(scratch, 'man-'));
    execFileSync('dpkg-deb', ['-x', resolve(RELEASE, DEBS['linux-x64']), dir]);
    const page = execFileSync('man', ['-l', resolve(dir, 'usr/share/man/man1/tsinit.1.gz')], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '2000', MAN_KEEP_FORMATTING: '' },
    })
      .replace(/\u2010/g, '-')
      .replace(/\s+/g, ' ');
    expect(page).toMatch(/^TSINIT\(1\) User Commands TSINIT\(1\) NAME tsinit - a container init/);
    const help = formatHelp();
    const rows = help.split('\n').filter((l) => /^ {2}( {4})?-/.test(l));
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) {
      const [, flags, text] = /^ {2}(.{30}) (.*)$/.exec(row)!;
      expect(page, row).toContain(flags!.trim());
      expect(page, row).toContain(text!.replace(/\s+/g, ' '));
    }
    expect(page).toContain(
      "the child's; 2 usage error; 126 command not executable; 127 command not found; 1 tsinit failed before starting the child.",
    );
  });
});

describe("the guide's Pod with tsinit from an image volume", () => {
  const pod = parse(guideSnippet('pod-image-volume')) as Record<string, never>;

  it('passes the Kubernetes API schema (an image volume: beta, on by default since 1.35)', () => {
    new Pod(pod).validate();
  });

  it('mounts tsinit:<version> and runs /opt/tsinit/tsinit as the command, which tsinit parses', () => {
    const spec = (
      pod as unknown as {
        spec: {
          volumes: { name: string; image: { reference: string } }[];
          containers: { command: string[]; args: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
        };
      }
    ).spec;
    expect(spec.volumes).toEqual([
      { name: 'tsinit', image: { reference: `tsinit:${PKG.version}`, pullPolicy: 'IfNotPresent' } },
    ]);
    const c = spec.containers[0]!;
    expect(c.volumeMounts).toEqual([{ name: 'tsinit', mountPath: '/opt/tsinit', readOnly: true }]);
    expect(c.command[0]).toBe('/opt/tsinit/tsinit');
    const parsed = parseCli([...c.command.slice(1), ...c.args]);
    expect(parsed.kind).toBe('run');
    if (parsed.kind === 'run') expect(parsed.config.command).toEqual(c.args);
  });
});

describe('a release tool missing', () => {
  it('`build.mjs --release` stops before building, with one line naming the tool, exit 1', () => {
    // This machine's commands, buildah left out: what a machine without it has on PATH.
    const bin = resolve(scratch, 'no-buildah');
    mkdirSync(bin);
    for (const dir of ['/usr/bin', '/usr/sbin']) {
      for (const f of readdirSync(dir))
        if (f !== 'buildah')
          try {
            symlinkSync(resolve(dir, f), resolve(bin, f));
          } catch {
            /* in both */
          }
    }
    const r = spawnSync(process.execPath, ['build.mjs', '--release'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: bin, HOME: scratch },
    });
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('build: release tools failed: buildah is not on PATH (.ci/install release installs it)\n');
    expect(r.status).toBe(1);
  });
});
