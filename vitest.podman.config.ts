import { suiteConfig } from './vitest.shared.ts';

// The podman suite (test/podman): real containers on Debian's podman 4.3, rootful, with its
// state under TSINIT_PODMAN_DIR (docker/podman.sh). globalSetup builds the images and fails the
// run if the engine cannot come up. One file at a time, as in the docker suite: wall times are
// asserted and the 2 cores are all there is.
export default suiteConfig({
  include: ['test/podman/**/*.test.ts'],
  globalSetup: ['test/podman/global-setup.ts'],
  testTimeout: 120_000,
  hookTimeout: 900_000,
  serial: true,
});
