// What the shipping tests share: where the release artifacts are, rebuilding them when the
// sources are newer (one `node build.mjs --release`), and reading an ELF header. Builds nothing
// else and never skips: a failed build fails the suite with the build's own message.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { newestInput } from '../helpers/build.ts';
import { ROOT } from '../helpers/pid1.ts';

export const PKG = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  description: string;
  devDependencies: Record<string, string>;
};
export const NODE_VERSION = PKG.devDependencies['node-linux-x64']!;
export const RELEASE = resolve(ROOT, 'dist/release');
export const ARM64_BIN = resolve(ROOT, 'dist/tsinit-linux-arm64');
/** The executables of a release: the static ones (tsinit-*) and the Node ones (tsinit-node-*). */
export const RELEASE_EXECUTABLES = [
  'tsinit-linux-arm64',
  'tsinit-linux-x64',
  'tsinit-node-linux-arm64',
  'tsinit-node-linux-x64',
];
/** The packages beside them: the OCI image archive, a .deb per architecture, the npm tarballs. */
export const OCI_ARCHIVE = 'tsinit-oci.tar';
export const DEBS = {
  'linux-x64': `tsinit_${PKG.version}_amd64.deb`,
  'linux-arm64': `tsinit_${PKG.version}_arm64.deb`,
} as const;
export const NPM_TARBALLS = {
  main: `tsinit-${PKG.version}.tgz`,
  'linux-x64': `tsinit-linux-x64-${PKG.version}.tgz`,
  'linux-arm64': `tsinit-linux-arm64-${PKG.version}.tgz`,
  node: `tsinit-node-${PKG.version}.tgz`,
} as const;
export const RELEASE_FILES = [
  'SHA256SUMS',
  OCI_ARCHIVE,
  ...Object.values(DEBS),
  ...Object.values(NPM_TARBALLS),
  ...RELEASE_EXECUTABLES.flatMap((f) => [f, `${f}.tar.gz`]),
].sort();
export const ELF_MACHINE = { 'linux-x64': 62, 'linux-arm64': 183 } as const;

/** Runs `node build.mjs --release` unless dist/release is complete and newer than every input. */
export function ensureRelease(): void {
  const sums = resolve(RELEASE, 'SHA256SUMS');
  const complete = RELEASE_FILES.every((f) => existsSync(resolve(RELEASE, f))) && existsSync(ARM64_BIN);
  if (complete && statSync(sums).mtimeMs > newestInput()) return;
  // The Node running the tests is the pinned one (npm scripts put node_modules/.bin first).
  execFileSync(process.execPath, ['build.mjs', '--release'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 600_000,
  });
}

/** e_machine of an ELF file (offset 18, little-endian on both targets). */
export function elfMachine(file: string): number {
  const head = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (head.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
  return head.readUInt16LE(18);
}
