import { suiteConfig } from './vitest.shared.ts';

// The hardening suite (test/hardening): floods of signals and orphans, fork bombs, faults,
// unusual environments, against the init in TSINIT_BIN (default dist/tsinit; `npm run
// test:node` runs it again on dist/tsinit-node). One file at a time: a flood takes both cores,
// and the other files bound kill-after and forwarding times.
/**
 * Files about the static host alone, left out (not skipped) when TSINIT_BIN is the Node build:
 * memory.test.ts holds the static build to address-space limits of a few MB, which V8 cannot
 * start under (README, Known limits).
 */
const STATIC_ONLY = ['test/hardening/memory.test.ts'];
const nodeHost = /tsinit-node[^/]*$/.test(process.env.TSINIT_BIN ?? '');

export default suiteConfig({
  include: ['test/hardening/**/*.test.ts'],
  exclude: nodeHost ? STATIC_ONLY : [],
  globalSetup: ['test/helpers/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
  serial: true,
});
