// What the build's steps share: the package's manifest, where intermediates go, the one way to
// get Debian packages (.ci/install), moving a finished file into place, and the ELF check.
// Paths are relative to the checkout: build.mjs and the tests run the steps from its root.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, readSync, renameSync } from 'node:fs';

/** @typedef {'linux-x64' | 'linux-arm64'} Target */

/** @typedef {{ version: string, description: string, license: string, repository?: unknown, devDependencies: Record<string, string> }} Package */

/** package.json. @type {Package} */
export const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

/**
 * The build's intermediates (bundles, objects, the stripped Nodes, the release's staging), cached
 * between runs: inside dist/, so deleting dist/ is a clean build, and never shipped.
 */
export const WORK = 'dist/build';

/** Runs a step of the project's own set-up: .ci/install GROUP (packages missing are installed, as root). */
export function install(/** @type {string} */ group) {
  execFileSync('.ci/install', [group], { stdio: 'inherit' });
}

/** Moves a finished file into place by rename: a running copy of the old one is never overwritten (ETXTBSY). */
export function moveInto(/** @type {string} */ tmp, /** @type {string} */ dest, mode = 0o755) {
  chmodSync(tmp, mode);
  renameSync(tmp, dest);
}

/**
 * e_machine of an ELF file (62 x86-64, 183 aarch64): the build checks what it made.
 * @param {string} file
 */
export function elfMachine(file) {
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
