// Builds tsinit from one TypeScript policy (src/core) on two hosts, one module of build/ each:
//   static   dist/tsinit       build/static.mjs: Duktape bytecode in src/static/host.c, musl static
//   node     dist/tsinit-node  build/node.mjs: Node's own Single Executable Application of src/node
//   release  dist/release/     build/release.mjs (and packages.mjs: the OCI image, .debs, npm packages)
// `node build.mjs` builds both for x64; --arm64 adds both for arm64; --release also writes
// dist/release/; --npm writes only the @tsinit/node package's bin. Each step fails with one line.
// Intermediates are cached in dist/build/. Debian packages come from .ci/install alone.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { WORK } from './build/common.mjs';
import { buildTarget, bundle, NODE_BUNDLE, NODE_VERSION, writeNpmBin } from './build/node.mjs';
import { requireReleaseTools, writeRelease } from './build/release.mjs';
import { buildStatic } from './build/static.mjs';

/** @typedef {import('./build/common.mjs').Target} Target */

const OPTIONS = ['--arm64', '--release', '--npm'];

/**
 * One step of the build: its result, or one line naming the step and exit 1.
 * @template T
 * @param {string} name
 * @param {() => T} fn
 * @returns {T}
 */
function step(name, fn) {
  /** @param {unknown} e @returns {never} */
  const fail = (e) => {
    console.error(`build: ${name} failed: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  };
  try {
    const r = fn();
    return r instanceof Promise ? /** @type {T} */ (r.catch(fail)) : r;
  } catch (e) {
    return fail(e);
  }
}

/** A file's size for the build's lines: KB or MB. */
function size(/** @type {string} */ f) {
  const n = statSync(f).size;
  return n < 1e6 ? `${(n / 1e3).toFixed(1)} KB` : `${(n / 1e6).toFixed(1)} MB`;
}

const flags = new Set(process.argv.slice(2));
const unknown = [...flags].filter((f) => !OPTIONS.includes(f));
if (unknown.length > 0) {
  console.error(`build: unknown option ${unknown.join(' ')} (expected --arm64, --release or --npm)`);
  process.exit(2);
}
mkdirSync('dist', { recursive: true });
// Before a minute of building: the release's own tools, installed or named in one line.
if (flags.has('--release')) step('release tools', () => requireReleaseTools());
step('type-check', () => {
  execFileSync('node_modules/.bin/tsc', ['-p', '.'], { stdio: 'inherit' });
  execFileSync('node_modules/.bin/tsc', ['-p', 'build'], { stdio: 'inherit' });
});
if (flags.has('--npm')) {
  const bin = await step('bundle (npm)', () => writeNpmBin());
  console.log(`build: ${bin} (${size(bin)}, runs on the Node on PATH)`);
  process.exit(0);
}
/** @type {Target[]} */
const targets = flags.has('--arm64') || flags.has('--release') ? ['linux-x64', 'linux-arm64'] : ['linux-x64'];
for (const t of targets) {
  const { output, bytecode, functions, constructors } = await step(`static ${t}`, () => buildStatic(t));
  console.log(
    `build: ${output} (${size(output)}, static musl, Duktape bytecode ${(bytecode / 1e3).toFixed(1)} KB, ${constructors} of ${functions} functions constructable, ${t})`,
  );
}
mkdirSync(WORK, { recursive: true });
await step('bundle (node)', () => bundle(NODE_BUNDLE));
for (const t of targets) {
  const out = step(`node ${t}`, () => buildTarget(t));
  console.log(`build: ${out} (${size(out)}, node ${NODE_VERSION} ${t})`);
}
if (flags.has('--release')) {
  const dir = await step('release', () => writeRelease());
  for (const f of readdirSync(dir)) console.log(`build: ${dir}/${f} (${size(`${dir}/${f}`)})`);
}
