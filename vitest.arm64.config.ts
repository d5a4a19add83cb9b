import { suiteConfig } from './vitest.shared.ts';

// The shipping suite (npm run test:arm64): dist/tsinit-linux-arm64 under qemu-user as PID 1,
// the release artifacts and the npm package. Its global setup installs qemu and the arm64
// libraries and builds what is missing. The guides need a Docker engine: the docker suite runs them;
// the packages on engines are the packages suite's.
export default suiteConfig({
  include: ['test/arm64/**/*.test.ts', 'test/release/**/*.test.ts'],
  exclude: ['test/release/**/*.docker.test.ts', 'test/release/**/*.engines.test.ts', 'node_modules/**'],
  globalSetup: ['test/arm64/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 600_000,
});
