// The packages the release writes beside the tarballs (release.mjs's writeRelease calls these):
//   tsinit-oci.tar          an OCI image layout archive: tsinit:<version>, FROM scratch with /tsinit
//                           alone, linux/amd64 and linux/arm64 under one index (buildah)
//   tsinit_<v>_<arch>.deb   Debian packages (dpkg-deb): /usr/bin/tsinit, the man page, copyright, changelog
//   *.tgz                   npm packages (npm pack): tsinit (a launcher that execs the static executable
//                           of @tsinit/linux-<cpu>, its optional dependency), the two platform packages,
//                           and @tsinit/node (the Node-host bundle, for Node >= 26.9)
// Every file is made from SOURCE_DATE_EPOCH (the commit's date): two runs give the same bytes.
// A tool missing is installed by `.ci/install release` or the step fails with one line.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** @typedef {import('./common.mjs').Target} Target */
/** The executables to package: target -> file (Object.entries of STATIC_TARGETS' outputs). @typedef {Record<string, string>} Binaries */

/** OCI and Debian names of the two architectures, and npm's (process.arch). */
export const ARCHES = {
  'linux-x64': { oci: 'amd64', deb: 'amd64', npm: 'x64' },
  'linux-arm64': { oci: 'arm64', deb: 'arm64', npm: 'arm64' },
};
export const OCI_ARCHIVE = 'tsinit-oci.tar';
const MAINTAINER = 'tsinit developers <tsinit@users.noreply.github.com>';

/** ARCHES' names of a target, one of its keys. @param {string} target */
function archOf(target) {
  // Any string may come in: looked up as one, the miss is seen.
  const names = /** @type {Record<string, { oci: string, deb: string, npm: string }>} */ (ARCHES)[target];
  if (!names) throw new Error(`no architecture names for ${target}`);
  return names;
}

/**
 * Runs a tool; its own message (stderr) is the error's, in one line.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv }} [opts]
 */
function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  } catch (e) {
    const { stderr, message } = /** @type {{ stderr?: string, message?: string }} */ (e);
    const why = (stderr || message || '').trim().split('\n').filter(Boolean).at(-1);
    throw new Error(`${cmd} ${args.slice(0, 2).join(' ')}: ${why}`, { cause: e });
  }
}

/**
 * Every file and folder under dir dated epoch (tar and dpkg-deb read the dates).
 * @param {string} dir
 * @param {string} epoch
 */
function dateTree(dir, epoch) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = resolve(dir, e.name);
    if (e.isDirectory()) dateTree(p, epoch);
    utimesSync(p, Number(epoch), Number(epoch));
  }
  utimesSync(dir, Number(epoch), Number(epoch));
}

/**
 * A reproducible tar of dir's contents: names sorted, owner root, one date, modes as set.
 * @param {string} dir
 * @param {string} out
 * @param {string} epoch
 */
function tarTree(dir, out, epoch) {
  run('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    `--mtime=@${epoch}`,
    '--format=gnu',
    '-cf',
    out,
    '-C',
    dir,
    '.',
  ]);
}

/**
 * tsinit:<version> as an OCI image layout archive: one image per architecture, FROM scratch
 * with /tsinit (mode 755, root) and nothing else, built and joined into one index by buildah
 * (its storage under stage: vfs, nothing of the machine's), pushed as a layout and tarred here
 * (buildah's own oci-archive dates its files now). Returns the index's digest.
 * @param {{ version: string, epoch: string, binaries: Binaries, out: string, stage: string }} options
 */
export function writeOciImage({ version, epoch, binaries, out, stage }) {
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const buildah = (/** @type {string[]} */ ...args) =>
    run('buildah', ['--root', `${stage}/root`, '--runroot', `${stage}/run`, '--storage-driver', 'vfs', ...args]).trim();
  const list = `localhost/tsinit:${version}`;
  buildah('manifest', 'create', list);
  for (const [target, file] of Object.entries(binaries)) {
    const arch = archOf(target).oci;
    const ctx = `${stage}/ctx-${arch}`;
    mkdirSync(ctx);
    copyFileSync(file, `${ctx}/tsinit`);
    chmodSync(`${ctx}/tsinit`, 0o755);
    dateTree(ctx, epoch);
    const c = buildah('from', '--quiet', '--arch', arch, '--os', 'linux', '--name', `tsinit-${arch}`, 'scratch');
    buildah('copy', '--quiet', '--chown', '0:0', c, `${ctx}/tsinit`, '/tsinit');
    // `docker run tsinit:<version>` alone prints the version; as an init it is copied or mounted.
    buildah(
      'config',
      '--arch',
      arch,
      '--os',
      'linux',
      '--entrypoint',
      '["/tsinit"]',
      '--cmd',
      '--version',
      '--created-by',
      'COPY tsinit /tsinit',
      '--label',
      `org.opencontainers.image.version=${version}`,
      '--label',
      'org.opencontainers.image.title=tsinit',
      c,
    );
    const image = `localhost/tsinit-${arch}:${version}`;
    buildah('commit', '--quiet', '--timestamp', epoch, '--identity-label=false', '--rm', c, image);
    buildah('manifest', 'add', list, `containers-storage:${image}`);
  }
  const layout = `${stage}/layout`;
  buildah('manifest', 'push', '--quiet', '--all', list, `oci:${layout}:tsinit:${version}`);
  run('chmod', ['-R', 'u=rwX,go=rX', layout]);
  tarTree(layout, out, epoch);
  const index = JSON.parse(run('tar', ['-xOf', out, './index.json']));
  return index.manifests[0].digest;
}

/**
 * The man page from src/core/cli.ts (the table --help reads), bundled here and called.
 * @param {string} version
 * @param {string} epoch
 * @returns {Promise<string>}
 */
export async function manPage(version, epoch) {
  const r = await build({
    entryPoints: ['src/core/cli.ts'],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    logLevel: 'warning',
  });
  const [script] = r.outputFiles; // one entry, one output
  if (!script) throw new Error('esbuild wrote nothing for src/core/cli.ts');
  const cli = await import(`data:text/javascript;base64,${Buffer.from(script.text).toString('base64')}`);
  return cli.formatManPage(version, new Date(Number(epoch) * 1000).toISOString().slice(0, 10));
}

const DEB_DESCRIPTION = `container init (PID 1) that forwards signals and reaps zombies
 tsinit runs a command as its child in its own process group, forwards every
 catchable signal to that group, reaps every zombie, and exits with the
 child's exit code. When the child exits it gives what is left a bounded
 chance to finish (--drain) before it stops.
 .
 This is the static executable (musl, no shared library): use it as the
 ENTRYPOINT of a container image, or copy it into images that lack an init.`;

/**
 * A Debian changelog (native package): one entry, dated from the commit.
 * @param {string} version
 * @param {string} epoch
 */
function debChangelog(version, epoch) {
  const date = run('date', ['-u', '-R', '-d', `@${epoch}`]).trim();
  return `tsinit (${version}) unstable; urgency=medium\n\n  * Release ${version}.\n\n -- ${MAINTAINER}  ${date}\n`;
}

const DEB_COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: tsinit

Files: *
Copyright: tsinit developers
License: MIT

Files: duktape
Copyright: 2013-2022 Duktape authors (see AUTHORS.rst in the Duktape distribution)
Comment: Duktape 2.7 is linked statically into /usr/bin/tsinit.
License: MIT

Files: musl
Copyright: 2005-2020 Rich Felker, et al.
Comment: musl libc is linked statically into /usr/bin/tsinit.
License: MIT

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
 THE SOFTWARE.
`;

/** The file names writeDebs gives each architecture. */
export const debName = (/** @type {string} */ version, /** @type {string} */ target) =>
  `tsinit_${version}_${archOf(target).deb}.deb`;

/**
 * One .deb per architecture, built by dpkg-deb from a tree staged here (owner root, dated epoch).
 * @param {{ version: string, epoch: string, binaries: Binaries, man: string, dir: string, stage: string }} options
 */
export function writeDebs({ version, epoch, binaries, man, dir, stage }) {
  /** @type {string[]} */
  const names = [];
  for (const [target, file] of Object.entries(binaries)) {
    const arch = archOf(target).deb;
    const root = `${stage}/deb-${arch}`;
    rmSync(root, { recursive: true, force: true });
    for (const d of ['DEBIAN', 'usr/bin', 'usr/share/man/man1', 'usr/share/doc/tsinit', 'usr/share/lintian/overrides'])
      mkdirSync(`${root}/${d}`, { recursive: true, mode: 0o755 });
    copyFileSync(file, `${root}/usr/bin/tsinit`);
    chmodSync(`${root}/usr/bin/tsinit`, 0o755);
    const put = (/** @type {string} */ path, /** @type {string | Buffer} */ data) => {
      writeFileSync(`${root}/${path}`, data);
      chmodSync(`${root}/${path}`, 0o644);
    };
    put('usr/share/man/man1/tsinit.1.gz', gzipSync(man, { level: 9 }));
    put('usr/share/doc/tsinit/changelog.gz', gzipSync(debChangelog(version, epoch), { level: 9 }));
    put('usr/share/doc/tsinit/copyright', DEB_COPYRIGHT);
    // Static on purpose: an init copied into images must not need their libraries.
    put('usr/share/lintian/overrides/tsinit', 'tsinit: statically-linked-binary [usr/bin/tsinit]\n');
    const files = readdirRecursive(`${root}/usr`).sort();
    const kb = Math.ceil(files.reduce((n, f) => n + statSync(f).size, 0) / 1024);
    // dpkg --verify and debsums read it (dh_md5sums writes it in Debian's own packages).
    put(
      'DEBIAN/md5sums',
      files
        .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${f.slice(root.length + 1)}\n`)
        .join(''),
    );
    put(
      'DEBIAN/control',
      [
        'Package: tsinit',
        `Version: ${version}`,
        `Architecture: ${arch}`,
        `Maintainer: ${MAINTAINER}`,
        `Installed-Size: ${kb}`,
        'Section: admin',
        'Priority: optional',
        'Homepage: https://www.npmjs.com/package/tsinit',
        `Description: ${DEB_DESCRIPTION}`,
        '',
      ].join('\n'),
    );
    run('chmod', ['-R', 'go-w', root]);
    dateTree(root, epoch);
    const out = `${dir}/${debName(version, target)}`;
    run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, out], {
      env: { ...process.env, SOURCE_DATE_EPOCH: epoch },
    });
    names.push(out);
  }
  return names;
}

/**
 * Every file under dir, as absolute paths.
 * @param {string} dir
 * @returns {string[]}
 */
function readdirRecursive(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? readdirRecursive(resolve(dir, e.name)) : [resolve(dir, e.name)],
  );
}

/**
 * The launcher `node_modules/.bin/tsinit` runs until install.cjs puts the executable in its
 * place (or forever, under --ignore-scripts): sh finds the platform package's tsinit and execs
 * it, so no Node and no sh is left between the caller and tsinit (PID 1 stays tsinit).
 */
const NPM_LAUNCHER = `#!/bin/sh
# tsinit's npm launcher: execs the static executable of @tsinit/linux-<cpu> (no Node stays running).
here=$(dirname "$(readlink -f "$0")")
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) pkg=linux-arm64 ;;
  *) echo "tsinit: error: no tsinit executable for $(uname -s) $(uname -m) (supported: Linux x86_64 and aarch64)" >&2; exit 1 ;;
esac
for bin in "$here/../node_modules/@tsinit/$pkg/tsinit" "$here/../../@tsinit/$pkg/tsinit"; do
  [ -x "$bin" ] && exec "$bin" "$@"
done
echo "tsinit: error: the package @tsinit/$pkg is not installed (it is an optional dependency of tsinit: install without --omit=optional)" >&2
exit 1
`;

/**
 * postinstall, in syntax every Node parses: finds the platform package and copies its
 * executable over bin/tsinit, so node_modules/.bin/tsinit IS the static executable (esbuild's
 * way). A platform without one, or the package missing, is one line and exit 1.
 */
const NPM_INSTALL = `'use strict';
// tsinit's postinstall: node_modules/.bin/tsinit becomes the static executable of @tsinit/linux-<cpu>.
var fs = require('fs');
var path = require('path');
var pkgs = { 'linux x64': '@tsinit/linux-x64', 'linux arm64': '@tsinit/linux-arm64' };
var name = pkgs[process.platform + ' ' + process.arch];
function fail(msg) { process.stderr.write('tsinit: error: ' + msg + '\\n'); process.exit(1); }
if (!name) fail('no tsinit executable for ' + process.platform + ' ' + process.arch + ' (supported: linux x64 and arm64)');
var exe;
try { exe = path.join(path.dirname(require.resolve(name + '/package.json')), 'tsinit'); }
catch (e) { fail('the package ' + name + ' is not installed (it is an optional dependency of tsinit: install without --omit=optional)'); }
var bin = path.join(__dirname, 'bin', 'tsinit');
var tmp = bin + '.' + process.pid;
try {
  fs.copyFileSync(exe, tmp);
  fs.chmodSync(tmp, 493);
  fs.renameSync(tmp, bin);
} catch (e) { try { fs.unlinkSync(tmp); } catch (_) {} fail('cannot put ' + exe + ' in place of ' + bin + ': ' + e.message); }
`;

/**
 * The npm packages' staged folders, packed by npm into dir; returns the tarballs' names.
 * @param {{ pkg: import('./common.mjs').Package, binaries: Binaries, bundle: string, dir: string, stage: string }} options
 */
export function writeNpmPackages({ pkg, binaries, bundle, dir, stage }) {
  const { version } = pkg;
  const common = { version, license: pkg.license, ...(pkg.repository ? { repository: pkg.repository } : {}) };
  /** @type {string[]} */
  const folders = [];
  /**
   * @param {string} folder
   * @param {object} manifest
   * @param {Record<string, { data?: string, from?: string, mode: number }>} files
   */
  const stageOne = (folder, manifest, files) => {
    const root = `${stage}/npm-${folder}`;
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    writeFileSync(`${root}/package.json`, JSON.stringify(manifest, null, 2) + '\n');
    for (const [path, { data, from, mode }] of Object.entries(files)) {
      mkdirSync(resolve(root, path, '..'), { recursive: true });
      if (from) copyFileSync(from, `${root}/${path}`);
      else writeFileSync(`${root}/${path}`, data ?? '');
      chmodSync(`${root}/${path}`, mode);
    }
    folders.push(root);
  };
  /** @type {Record<string, string>} */
  const optional = {};
  for (const [target, file] of Object.entries(binaries)) {
    const name = `@tsinit/${target}`;
    optional[name] = version;
    stageOne(
      target,
      {
        name,
        ...common,
        description: `The tsinit static executable for ${target} (installed by the tsinit package).`,
        os: ['linux'],
        cpu: [archOf(target).npm],
        files: ['tsinit'],
        preferUnplugged: true,
      },
      { tsinit: { from: file, mode: 0o755 } },
    );
  }
  stageOne(
    'tsinit',
    {
      name: 'tsinit',
      ...common,
      description: pkg.description,
      bin: { tsinit: 'bin/tsinit' },
      files: ['bin/tsinit', 'install.cjs'],
      scripts: { postinstall: 'node install.cjs' },
      optionalDependencies: optional,
    },
    { 'bin/tsinit': { data: NPM_LAUNCHER, mode: 0o755 }, 'install.cjs': { data: NPM_INSTALL, mode: 0o644 } },
  );
  stageOne(
    'node',
    {
      name: '@tsinit/node',
      ...common,
      description: 'tsinit on the Node it is run by (the Node-host build; needs Node >= 26.9 for node:ffi).',
      engines: { node: '>=26.9.0' },
      bin: { tsinit: 'tsinit.cjs' },
      files: ['tsinit.cjs'],
    },
    { 'tsinit.cjs': { from: bundle, mode: 0o755 } },
  );
  /** @type {string[]} */
  const names = [];
  for (const root of folders) {
    // npm dates every entry 1985-10-26 and sorts them: the same files give the same tarball.
    const out = JSON.parse(
      run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', resolve(dir), root], { cwd: stage }),
    );
    names.push(out[0].filename);
  }
  return names;
}
