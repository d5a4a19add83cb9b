import { defineConfig } from 'vitest/config';

// The podman suite (test/podman): real containers on Debian's podman 4.3, rootful, with its
// state under TSINIT_PODMAN_DIR (docker/podman.sh). globalSetup builds the images and fails the
// run if the engine cannot come up. Two files at a time: timings are asserted, 2 cores.
export default defineConfig({
  test: {
    include: ['test/podman/**/*.test.ts'],
    globalSetup: ['test/podman/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default'],
  },
});
