// The release, dist/release/: the four executables and a .tar.gz of each, the packages
// (packages.mjs: the OCI image, the .debs, the npm packages) and SHA256SUMS over all of them.
// Every file is dated SOURCE_DATE_EPOCH (the commit's date): two runs give the same bytes.
// Its tools are installed by `.ci/install release` or named in one line before the build starts.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { install, pkg, WORK } from './common.mjs';
import { TARGETS, writeNpmBin } from './node.mjs';
import { manPage, OCI_ARCHIVE, writeDebs, writeNpmPackages, writeOciImage } from './packages.mjs';
import { STATIC_TARGETS } from './static.mjs';

/** The recipe every tarball carries beside the executable. */
const INSTALL_TEXT = `# tsinit ${pkg.version}: in a Dockerfile, any base image (FROM scratch too):
COPY tsinit /tsinit
ENTRYPOINT ["/tsinit", "--"]
`;

/**
 * A gzip'd tarball of `tsinit` (the executable) and INSTALL, reproducible (fixed owner and date, no gzip name).
 * @param {string} file
 * @param {string} out
 * @param {string} epoch
 */
function tarOne(file, out, epoch) {
  const stage = `${out}.d`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage);
  copyFileSync(file, `${stage}/tsinit`);
  chmodSync(`${stage}/tsinit`, 0o755);
  writeFileSync(`${stage}/INSTALL`, INSTALL_TEXT);
  chmodSync(`${stage}/INSTALL`, 0o644);
  execFileSync('tar', [
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    `--mtime=@${epoch}`,
    '-I',
    'gzip -n',
    '-cf',
    out,
    '-C',
    stage,
    'tsinit',
    'INSTALL',
  ]);
  rmSync(stage, { recursive: true });
}

/** What dist/release/ ships: the static executables as tsinit-*, the Node ones as tsinit-node-*. */
export const RELEASE_NAMES = {
  'tsinit-linux-x64': STATIC_TARGETS['linux-x64'].output,
  'tsinit-linux-arm64': STATIC_TARGETS['linux-arm64'].output,
  'tsinit-node-linux-x64': TARGETS['linux-x64'].output,
  'tsinit-node-linux-arm64': TARGETS['linux-arm64'].output,
};

/** What the release runs: buildah from `.ci/install release`, the rest from dpkg, Node and the base system. */
const RELEASE_TOOLS = {
  buildah: '.ci/install release installs it',
  'dpkg-deb': 'it comes with dpkg',
  npm: 'it comes with Node',
  tar: 'GNU tar',
  git: 'the release is dated at the commit',
};

/** Installs what is missing (.ci/install release), then fails naming the first tool not on PATH. */
export function requireReleaseTools() {
  install('release');
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const [tool, why] of Object.entries(RELEASE_TOOLS)) {
    if (!dirs.some((d) => existsSync(`${d}/${tool}`))) throw new Error(`${tool} is not on PATH (${why})`);
  }
}

/** The date every release file carries: SOURCE_DATE_EPOCH, else the commit's, else now. */
export function releaseEpoch() {
  let epoch = process.env.SOURCE_DATE_EPOCH;
  if (!epoch) {
    try {
      epoch = execFileSync('git', ['log', '-1', '--format=%ct'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      /* not a git checkout: the time now */
    }
  }
  return epoch || String(Math.floor(Date.now() / 1000));
}

/**
 * dist/release/: the four executables and a .tar.gz of each, the OCI image archive, a .deb per
 * architecture, the npm packages, and SHA256SUMS (`sha256sum -c` reads it) over all of them.
 */
export async function writeRelease(dir = 'dist/release') {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const epoch = releaseEpoch();
  for (const [name, output] of Object.entries(RELEASE_NAMES)) {
    copyFileSync(output, `${dir}/${name}`);
    chmodSync(`${dir}/${name}`, 0o755);
    tarOne(output, `${dir}/${name}.tar.gz`, epoch);
  }
  const stage = resolve(`${WORK}/release`);
  const binaries = Object.fromEntries(Object.entries(STATIC_TARGETS).map(([t, s]) => [t, s.output]));
  const digest = writeOciImage({
    version: pkg.version,
    epoch,
    binaries,
    out: `${dir}/${OCI_ARCHIVE}`,
    stage: `${stage}/oci`,
  });
  console.log(`build: ${dir}/${OCI_ARCHIVE} holds tsinit:${pkg.version}, index ${digest}`);
  writeDebs({ version: pkg.version, epoch, binaries, man: await manPage(pkg.version, epoch), dir, stage });
  const bundle = await writeNpmBin();
  writeNpmPackages({ pkg, binaries, bundle, dir, stage });
  rmSync(stage, { recursive: true, force: true });
  const sums = readdirSync(dir)
    .filter((f) => f !== 'SHA256SUMS')
    .sort()
    .map(
      (f) =>
        `${createHash('sha256')
          .update(readFileSync(`${dir}/${f}`))
          .digest('hex')}  ${f}\n`,
    );
  writeFileSync(`${dir}/SHA256SUMS`, sums.join(''));
  return dir;
}
