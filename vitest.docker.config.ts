import { suiteConfig } from './vitest.shared.ts';

// The docker suite (test/docker): real containers on a real dockerd that docker/engine.sh
// starts and keeps (state under TSINIT_DOCKER_DIR). globalSetup builds the images and fails
// the run if the engine cannot come up. One file at a time: wall times are asserted (docker
// stop under 1 s, servers stopping gracefully before 10 s) and the 2 cores are all there is;
// four Python workers booting in one file starved the next file's cases on CI.
export default suiteConfig({
  include: ['test/docker/**/*.test.ts', 'test/release/**/*.docker.test.ts'],
  globalSetup: ['test/docker/global-setup.ts'],
  testTimeout: 120_000,
  hookTimeout: 900_000,
  serial: true,
});
