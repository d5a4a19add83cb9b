import { defineConfig } from 'vitest/config';

// Unit tests (also inside the static engine) and integration tests (dist/tsinit, the static
// host, as PID 1 through unshare); vitest.node.config.ts runs the PID 1 suites on
// dist/tsinit-node. The docker suite (vitest.docker.config.ts: an engine), the rollout suite
// (vitest.rollout.config.ts: the engine and HAProxy) and the shipping suite
// (vitest.arm64.config.ts: qemu, release artifacts, the npm package) have their own configs;
// `npm test` runs them all.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/docker/**', 'test/podman/**', 'test/rollout/**', 'test/arm64/**', 'test/release/**', 'node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
