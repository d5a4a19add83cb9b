import { defineConfig } from 'vitest/config';

// The rollout suite (test/rollout): rolling restarts behind HAProxy on the real engine of
// docker/engine.sh. One file; its runs are paced inside it (ROLLOUT_CONCURRENCY, default 2).
// CI runs a subset once each (8 runs: 6 min at load average 15-40, 8.7 min at 60, on 2 shared
// cores); ROLLOUT_FULL=1 every case 3 times (60 runs; ~55 min at that load, by the 35 runs that
// fitted in 31 min) and writes docker/ROLLOUT.md.
export default defineConfig({
  test: {
    include: ['test/rollout/**/*.test.ts'],
    globalSetup: ['test/rollout/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 3 * 3600_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    reporters: ['default'],
  },
});
