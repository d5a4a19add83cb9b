import { resolve } from 'node:path';
import { suiteConfig } from './vitest.shared.ts';

// The PID 1 suites that matter for the Node host (core, shutdown, terminal, and the tsinit row
// of the peers comparison; `npm run test:node` runs the hardening suite after it with the same
// TSINIT_BIN) against
// dist/tsinit-node: the same policy, the other host. Set before the workers start, so the
// global setup and every test file see it (test/helpers/pid1.ts reads TSINIT_BIN).
process.env.TSINIT_BIN = resolve(import.meta.dirname, 'dist/tsinit-node');

export default suiteConfig({
  include: ['test/core.test.ts', 'test/shutdown.test.ts', 'test/terminal.test.ts', 'test/peers.test.ts'],
  globalSetup: ['test/helpers/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
});
