import { defineConfig } from 'vitest/config';

// The docker suite (test/docker): real containers on a real dockerd that docker/engine.sh
// starts and keeps (state under TSINIT_DOCKER_DIR). globalSetup builds the images and fails
// the run if the engine cannot come up. Two files at a time: timings are asserted, 2 cores.
export default defineConfig({
  test: {
    include: ['test/docker/**/*.test.ts', 'test/release/**/*.docker.test.ts'],
    globalSetup: ['test/docker/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default'],
  },
});
