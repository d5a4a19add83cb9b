import { defineConfig } from 'vitest/config';

// Unit and integration tests (dist/tsinit as PID 1 through unshare). The docker suite has
// its own config (vitest.docker.config.ts) because it needs an engine and runs serially.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/docker/**', 'test/arm64/**', 'node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
