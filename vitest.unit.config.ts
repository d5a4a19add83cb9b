import { suiteConfig } from './vitest.shared.ts';

// The unit tier: the core's tests (pure, a fake System) and the boundaries test. Any user, no
// build, no root, seconds: `npm run test:unit`. The main config runs them too, beside the
// PID 1 suites, and test/static/engine.test.ts runs the same files inside the static engine.
export default suiteConfig({
  include: ['test/unit/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
  // The property tests run 4000 cases each: seconds on a quiet machine, more on a shared one.
  testTimeout: 60_000,
});
