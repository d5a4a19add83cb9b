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
import { constructableFlag, markConstructors } from './constructors.mjs';

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
 * Duktape's options that differ from Debian's duk_config.h, for start-up and memory (issue 20).
 * Duktape is configured by an edited duk_config.h; here the build writes a header that includes
 * Debian's and changes these lines, and both C files are compiled with it first (-include), so
 * the engine, the build-time compiler and host.c agree. Measured on tsinit -- /bin/true and as
 * an idle PID 1 (bench/NATIVE.md):
 * - LIGHTFUNC_BUILTINS: a built-in function (Math.max, Array.prototype.push, ...) is a plain
 *   value, not an object with its own properties; the heap starts with about 600 objects fewer.
 * - no PC2LINE: no table from bytecode to source line per function (an error's line number,
 *   which tsinit never shows: an internal error is one line of message); 6 KB less bytecode.
 * - no FUNC_FILENAME_PROPERTY: no fileName on each function (always "tsinit.js").
 * Tried and dropped: no FUNC_NAME_PROPERTY (the loader then leaves functions without their
 * environment: tsinit crashed at start).
 */
const DUKTAPE_OPTIONS = [
  '#define DUK_USE_LIGHTFUNC_BUILTINS',
  '#undef DUK_USE_PC2LINE',
  '#undef DUK_USE_FUNC_FILENAME_PROPERTY',
];

/**
 * Whether Duktape is built with option (DUK_USE_...): the last line of DUKTAPE_OPTIONS that
 * names it, else Debian's duk_config.h.
 * @param {string} option
 */
function duktapeHas(option) {
  const line = DUKTAPE_OPTIONS.findLast((l) => l.split(/\s+/)[1] === option);
  if (line !== undefined) return line.startsWith('#define');
  return new RegExp(`^#define ${option}\\b`, 'm').test(readFileSync(`${DUKTAPE}/duk_config.h`, 'utf8'));
}

/**
 * The header that configures Duktape: Debian's duk_config.h, then DUKTAPE_OPTIONS. duktape.c is
 * compiled as Duktape compiles itself (DUK_COMPILING_DUKTAPE), host.c as an application
 * (_GNU_SOURCE, as host.c defines it, for clone).
 * @param {'duktape' | 'host'} unit
 */
function optionsHeader(unit) {
  const file = resolve(`${WORK}/static/duk-options-${unit}.h`);
  const first = unit === 'duktape' ? '#define DUK_COMPILING_DUKTAPE' : '#define _GNU_SOURCE';
  const text = [first, `#include "${DUKTAPE}/duk_config.h"`, ...DUKTAPE_OPTIONS, ''].join('\n');
  mkdirSync(dirname(file), { recursive: true });
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  return file;
}

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
  return cached(
    `${WORK}/static/duktape-${target}.o`,
    stampOf([cc, CFLAGS, st.size, st.mtimeMs, DUKTAPE_OPTIONS]),
    (tmp) =>
      execFileSync(cc, [...CFLAGS, '-include', optionsHeader('duktape'), '-c', src, '-o', tmp], { stdio: 'inherit' }),
  );
}

/** The build-time compiler: host.c with -DTSINIT_COMPILER, run here to turn JavaScript into bytecode. */
function bytecodeCompiler() {
  const obj = duktapeObject('linux-x64');
  const args = ['-include', optionsHeader('host'), '-DTSINIT_COMPILER', 'src/static/host.c', obj];
  return cached(
    `${WORK}/static/duk-compile`,
    stampOf([readFileSync('src/static/host.c', 'utf8'), readFileSync(`${obj}.from`, 'utf8')]),
    (tmp) => execFileSync('musl-gcc', [...CFLAGS, ...args, '-o', tmp, ...LDFLAGS], { stdio: 'inherit' }),
  );
}

/**
 * js as Duktape bytecode, every function that is not a constructor marked so (build/constructors.mjs).
 * @param {string} js
 */
export function compileProgram(js) {
  const compiled = execFileSync(bytecodeCompiler(), { input: js, maxBuffer: 64 << 20 });
  return markConstructors(js, compiled, {
    flag: constructableFlag(`${DUKTAPE}/duktape.c`),
    functionNames: duktapeHas('DUK_USE_FUNC_NAME_PROPERTY'),
    fileNames: duktapeHas('DUK_USE_FUNC_FILENAME_PROPERTY'),
    pc2line: duktapeHas('DUK_USE_PC2LINE'),
  });
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
  const { bytecode, functions, cleared } = compileProgram(js);
  const name = output.replaceAll('/', '_');
  const header = resolve(`${WORK}/static/${name}.h`);
  // Page-aligned: host.c gives its pages back once the engine has loaded it.
  const array = `static const unsigned char program[] __attribute__((aligned(4096))) = {${[...bytecode].join(',')}};`;
  writeFileSync(header, `${array}\n`);
  mkdirSync(dirname(output), { recursive: true });
  execFileSync(
    cc,
    [
      ...CFLAGS,
      '-include',
      optionsHeader('host'),
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
  return { output, bytecode: bytecode.length, functions, constructors: functions - cleared };
}
