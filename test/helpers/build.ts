// Whether a built executable is what the sources say now: suites that reuse dist/ (docker,
// rollout, release) rebuild when any input of the build is newer than the file, so a run never
// tests an executable that an edit of src/ has left behind. Tests that build a host around their
// own bundle get build/static.mjs through importStaticBuild, typed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './pid1.ts';

/** Newest mtime among the inputs of a build: src/**, build.mjs, build/** (its steps), package.json. */
export function newestInput(): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = resolve(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(resolve(ROOT, 'src'));
  walk(resolve(ROOT, 'build'));
  for (const f of ['build.mjs', 'package.json']) newest = Math.max(newest, statSync(resolve(ROOT, f)).mtimeMs);
  return newest;
}

/** True when file exists and is newer than every input of the build. */
export function isUpToDate(file: string): boolean {
  return existsSync(file) && statSync(file).mtimeMs > newestInput();
}

/**
 * What the tests call of build/static.mjs, as its JSDoc declares it: the build is JavaScript
 * outside tsconfig.json (no allowJs), so an import of it is untyped without this.
 */
export interface StaticBuild {
  /** dist/tsinit's host around entry's bundle, written to output (stripped unless strip is false). */
  buildStatic(
    target: 'linux-x64' | 'linux-arm64',
    options?: { entry?: string; output?: string; alias?: Record<string, string>; strip?: boolean },
  ): Promise<{ output: string; bytecode: number }>;
  /** entry bundled and lowered to the ES5 Duktape parses, minified. */
  bundleEs5(entry: string, alias?: Record<string, string>): Promise<string>;
  /** js as the bytecode dist/tsinit embeds: functions that are not constructors marked so (build/constructors.mjs). */
  compileProgram(js: string): { bytecode: Buffer; functions: number; cleared: number };
}

/** build/static.mjs, loaded when a test needs it (esbuild and TypeScript load with it). */
export async function importStaticBuild(): Promise<StaticBuild> {
  return (await import(resolve(ROOT, 'build/static.mjs'))) as StaticBuild;
}
