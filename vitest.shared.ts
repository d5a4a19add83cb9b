import { defineConfig } from 'vitest/config';
import type { ViteUserConfig } from 'vitest/config';

// What every suite's config shares: separate processes (each test file spawns and signals real
// processes) and the default reporter. A suite names its files, its global setup (what it needs
// built, installed or started) and its time limits; `serial` runs one file at a time, for
// suites that assert wall times or flood the 2 cores.
type Test = NonNullable<ViteUserConfig['test']>;

export function suiteConfig(test: Test & { serial?: boolean }): ViteUserConfig {
  const { serial = false, ...rest } = test;
  return defineConfig({
    test: {
      pool: 'forks',
      reporters: ['default'],
      ...(serial ? { maxWorkers: 1, fileParallelism: false } : { maxWorkers: 2 }),
      ...rest,
    },
  });
}
