import { suiteConfig } from './vitest.shared.ts';

// The packages suite (npm run test:packages): the release's OCI image, .debs and npm packages
// installed the ways their users install them, on real engines: Docker (docker/engine.sh) and
// Podman (docker/podman.sh), whose state folders TSINIT_DOCKER_DIR and TSINIT_PODMAN_DIR name.
// Each file brings up what it needs in beforeAll. One file at a time: stop times are asserted.
export default suiteConfig({
  include: ['test/release/**/*.engines.test.ts'],
  testTimeout: 120_000,
  hookTimeout: 900_000,
  serial: true,
});
