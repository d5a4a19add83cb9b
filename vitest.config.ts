import { suiteConfig } from './vitest.shared.ts';

// The main suite: unit tests (also inside the static engine) and the PID 1 integration suites
// (dist/tsinit, the static host, as PID 1 through unshare). Every other suite has its own
// config: hardening (floods and faults, one file at a time, after this one so they never share
// the 2 cores with its timing bounds), node (the PID 1 suites on dist/tsinit-node), docker,
// podman, rollout and arm64. `npm test` runs them all.
export default suiteConfig({
  include: ['test/**/*.test.ts'],
  exclude: ['test/hardening/**', 'test/docker/**', 'test/podman/**', 'test/rollout/**', 'test/arm64/**', 'test/release/**', 'node_modules/**'],
  globalSetup: ['test/helpers/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
});
