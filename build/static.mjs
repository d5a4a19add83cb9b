// The static host, dist/tsinit: esbuild's bundle of src/static, lowered to ES5 by TypeScript,
// compiled to Duktape bytecode and embedded in src/static/host.c, linked statically with musl.
// The unit tests (test/static/engine.test.ts) and the bench build the same host around their own
// bundle with buildStatic. Duktape and musl come from .ci/install; nothing is vendored.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { build, transform } from 'esbuild';
import ts from 'typescript';
import { elfMachine, install, moveInto, pkg, WORK } from './common.mjs';

/** @typedef {import('./common.mjs').Target} Target */

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
const CFLAGS = [
  '-std=gnu99',
  '-Os',
  '-ffunction-sections',
  '-fdata-sections',
  '-fno-asynchronous-unwind-tables',
  '-fno-unwind-tables',
  `-I${DUKTAPE}`,
];
const LDFLAGS = ['-static', '-Wl,--gc-sections', '-s', '-lm'];

/**
 * The stamp of a build input: a cached output is reused only while it matches.
 * @param {unknown[]} parts
 */
function stampOf(parts) {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * Runs make(tmp) unless output exists and was made from the same stamp; returns output.
 * @param {string} output
 * @param {string} stamp
 * @param {(tmp: string) => void} make
 */
function cached(output, stamp, make) {
  try {
    if (readFileSync(`${output}.from`, 'utf8') === stamp && existsSync(output)) return output;
  } catch {
    // no stamp yet: make it
  }
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
 * @param {string} entry
 * @param {Record<string, string>} [alias]
 */
export async function bundleEs5(entry, alias = {}) {
  const bundled = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'neutral',
    format: 'iife',
    target: 'es2020',
    write: false,
    minify: true,
    legalComments: 'none',
    alias,
    logLevel: 'warning',
    define: { TSINIT_VERSION: JSON.stringify(pkg.version) },
  });
  const [script] = bundled.outputFiles; // one entry, one output
  if (!script) throw new Error(`esbuild wrote nothing for ${entry}`);
  const lowered = ts.transpileModule(script.text, {
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES5,
      module: ts.ModuleKind.CommonJS,
      downlevelIteration: true,
      removeComments: true,
    },
  });
  const [diagnostic] = lowered.diagnostics ?? [];
  if (diagnostic) throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  return (await transform(lowered.outputText, { minify: true, target: 'es5', legalComments: 'none' })).code;
}

/**
 * Duktape's amalgamated source (Debian's duktape-dev, read in place) compiled once per architecture.
 * @param {Target} target
 */
function duktapeObject(target) {
  const { cc } = STATIC_TARGETS[target];
  const src = `${DUKTAPE}/duktape.c`;
  const st = statSync(src);
  return cached(`${WORK}/static/duktape-${target}.o`, stampOf([cc, CFLAGS, st.size, st.mtimeMs]), (tmp) =>
    execFileSync(cc, [...CFLAGS, '-c', src, '-o', tmp], { stdio: 'inherit' }),
  );
}

/** The build-time compiler: host.c with -DTSINIT_COMPILER, run here to turn JavaScript into bytecode. */
function bytecodeCompiler() {
  const obj = duktapeObject('linux-x64');
  return cached(
    `${WORK}/static/duk-compile`,
    stampOf([readFileSync('src/static/host.c', 'utf8'), readFileSync(`${obj}.from`, 'utf8')]),
    (tmp) =>
      execFileSync('musl-gcc', [...CFLAGS, '-DTSINIT_COMPILER', 'src/static/host.c', obj, '-o', tmp, ...LDFLAGS], {
        stdio: 'inherit',
      }),
  );
}

/**
 * A static executable: the bundle of entry as Duktape bytecode (made at build time: loading
 * it costs a tenth of parsing the source), embedded in host.c, linked with musl. The default
 * entry is tsinit; the unit tests build the same host around their own bundle. strip false
 * keeps the symbols (the bench's flame summary).
 * @param {Target} target
 * @param {{ entry?: string, output?: string, alias?: Record<string, string>, strip?: boolean }} [options]
 */
export async function buildStatic(
  target,
  { entry = 'src/static/main.ts', output = STATIC_TARGETS[target].output, alias = {}, strip = true } = {},
) {
  install('build');
  if (target !== 'linux-x64') install('arm64');
  const { cc, elfMachine: machine } = STATIC_TARGETS[target];
  const js = await bundleEs5(entry, alias);
  const bytecode = execFileSync(bytecodeCompiler(), { input: js, maxBuffer: 64 << 20 });
  const name = output.replaceAll('/', '_');
  const header = resolve(`${WORK}/static/${name}.h`);
  writeFileSync(header, `static const unsigned char program[] = {${[...bytecode].join(',')}};\n`);
  mkdirSync(dirname(output), { recursive: true });
  execFileSync(
    cc,
    [
      ...CFLAGS,
      `-DPROGRAM_HEADER="${header}"`,
      'src/static/host.c',
      duktapeObject(target),
      '-o',
      `${output}.tmp`,
      ...LDFLAGS.filter((f) => strip || f !== '-s'),
    ],
    { stdio: 'inherit' },
  );
  moveInto(`${output}.tmp`, output);
  const got = elfMachine(output);
  if (got !== machine) throw new Error(`${output} has ELF machine ${got}, expected ${machine}`);
  return { output, bytecode: bytecode.length };
}
