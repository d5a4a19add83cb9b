import { suiteConfig } from './vitest.shared.ts';

// The hardening suite (test/hardening): floods of signals and orphans, fork bombs, faults,
// unusual environments, against the init in TSINIT_BIN (default dist/tsinit; `npm run
// test:node` runs it again on dist/tsinit-node). One file at a time: a flood takes both cores,
// and the other files bound kill-after and forwarding times.
export default suiteConfig({
  include: ['test/hardening/**/*.test.ts'],
  globalSetup: ['test/helpers/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
  serial: true,
});
