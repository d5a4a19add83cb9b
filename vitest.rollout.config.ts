import { suiteConfig } from './vitest.shared.ts';

// The rollout suite (test/rollout): rolling restarts behind HAProxy on the real engine of
// docker/engine.sh. One file; its runs are paced inside it (ROLLOUT_CONCURRENCY: 1 in CI, 2
// in the full variant). CI runs a subset once each (12 runs); ROLLOUT_FULL=1 every case 3 times
// (72 runs) and writes docker/ROLLOUT.md, which states how long it took.
export default suiteConfig({
  include: ['test/rollout/**/*.test.ts'],
  globalSetup: ['test/rollout/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 3 * 3600_000,
  serial: true,
});
