import { defineConfig } from 'vitest/config';
import type { TestProjectInlineConfiguration } from 'vitest/config';

// Every tier of the suite, one project each; the npm scripts name the projects (`npm test` runs
// them one tier after the other). A project names its files, its global setup (what it needs
// built, installed or started; vitest runs only the setups of the projects it runs) and its time
// limits. Test files run in separate processes (each spawns and signals real processes), two at
// a time, or one at a time (`serial`) in the tiers that assert wall times or flood the 2 cores.
// No project is run without `--project` by the scripts: a bare `vitest run` runs them all at once.

type Tier = NonNullable<TestProjectInlineConfiguration['test']> & { name: string; serial?: boolean };

function tier({ serial = false, ...test }: Tier): TestProjectInlineConfiguration {
  return {
    test: { pool: 'forks', ...(serial ? { maxWorkers: 1, fileParallelism: false } : { maxWorkers: 2 }), ...test },
  };
}

/** The init under test (test/helpers/pid1.ts reads the same variable): dist/tsinit unless set. */
const TSINIT_BIN = process.env.TSINIT_BIN ?? '';
/** `npm run test:node`: the Node build. */
const nodeHost = /tsinit-node[^/]*$/.test(TSINIT_BIN);
/** `npm run test:arm64`: dist/tsinit-linux-arm64 under qemu-user (test/arm64/qemu-tsinit). */
const qemuHost = TSINIT_BIN.endsWith('qemu-tsinit');

/**
 * Files about the static host alone, left out (not skipped) when TSINIT_BIN is the Node build:
 * memory.test.ts holds the static build to address-space limits of a few MB, which V8 cannot
 * start under (README, Known limits).
 */
const STATIC_ONLY = ['test/hardening/memory.test.ts'];

/**
 * Files of the pid1 project that do not depend on TSINIT_BIN, run once with dist/tsinit and left
 * out when the project runs again on another build: the helpers' own tests, and the core's unit
 * tests inside the static engine (built from the sources, not from TSINIT_BIN).
 */
const ONE_BUILD_ONLY = ['test/helpers/**/*.test.ts', 'test/static/**/*.test.ts'];

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      // The core's tests (pure, a fake System), its property tests and the boundaries test:
      // any user, no build, no root, seconds. test/static/engine.test.ts runs the same files
      // inside the static engine. The property tests run 4000 cases each: seconds on a quiet
      // machine, more on a shared one.
      tier({ name: 'unit', include: ['test/unit/**/*.test.ts', 'test/fuzz/**/*.test.ts'], testTimeout: 60_000 }),
      // The README's examples and manifests, checked offline.
      tier({ name: 'docs', include: ['test/docs/**/*.test.ts'], testTimeout: 60_000 }),
      // The built executable (TSINIT_BIN, default dist/tsinit) as PID 1 through unshare, the
      // helpers the suites share, and the core's unit tests inside the static engine.
      // `npm run test:node` runs it again on dist/tsinit-node, `npm run test:arm64` under qemu.
      tier({
        name: 'pid1',
        include: ['test/pid1/**/*.test.ts', ...ONE_BUILD_ONLY],
        exclude: nodeHost || qemuHost ? ONE_BUILD_ONLY : [],
        globalSetup: ['test/helpers/global-setup.ts'],
        testTimeout: 60_000,
        hookTimeout: 120_000,
      }),
      // Floods of signals and orphans, fork bombs, faults, unusual environments, against the
      // init in TSINIT_BIN. One file at a time: a flood takes both cores, and the other files
      // bound kill-after and forwarding times; `npm test` runs it after pid1, never beside it.
      tier({
        name: 'hardening',
        include: ['test/hardening/**/*.test.ts'],
        exclude: nodeHost ? STATIC_ONLY : [],
        globalSetup: ['test/helpers/global-setup.ts'],
        testTimeout: 60_000,
        hookTimeout: 120_000,
        serial: true,
      }),
      // Real containers on a real dockerd that docker/engine.sh starts and keeps (state under
      // TSINIT_DOCKER_DIR); the global setup builds the images and fails the run if the engine
      // cannot come up. One file at a time: wall times are asserted (docker stop under 1 s,
      // servers stopping gracefully before 10 s) and the 2 cores are all there is; four Python
      // workers booting in one file starved the next file's cases on CI.
      tier({
        name: 'docker',
        include: ['test/docker/**/*.test.ts', 'test/release/**/*.docker.test.ts'],
        globalSetup: ['test/docker/global-setup.ts'],
        testTimeout: 120_000,
        hookTimeout: 900_000,
        serial: true,
      }),
      // Real containers on Debian's podman 4.3, rootful, state under TSINIT_PODMAN_DIR
      // (docker/podman.sh). One file at a time, as in the docker tier.
      tier({
        name: 'podman',
        include: ['test/podman/**/*.test.ts'],
        globalSetup: ['test/podman/global-setup.ts'],
        testTimeout: 120_000,
        hookTimeout: 900_000,
        serial: true,
      }),
      // Rolling restarts behind HAProxy on the engine of docker/engine.sh. One file; its runs
      // are paced inside it (ROLLOUT_CONCURRENCY: 1 in CI, 2 in the full variant). CI runs a
      // subset once each (12 runs); ROLLOUT_FULL=1 every case 3 times (72 runs) and writes
      // docker/ROLLOUT.md, which states how long it took.
      tier({
        name: 'rollout',
        include: ['test/rollout/**/*.test.ts'],
        globalSetup: ['test/rollout/global-setup.ts'],
        testTimeout: 60_000,
        hookTimeout: 3 * 3600_000,
        serial: true,
      }),
      // The shipping tier: what is arm64's own (the executables under qemu-user), the release
      // artifacts and the npm package. Its global setup installs qemu and the arm64 libraries
      // and builds what is missing; `npm run test:arm64` then runs the pid1 project under qemu.
      // The guides need a Docker engine (the docker tier runs them); the packages on engines
      // are the packages tier's.
      tier({
        name: 'arm64',
        include: ['test/arm64/**/*.test.ts', 'test/release/**/*.test.ts'],
        exclude: ['test/release/**/*.docker.test.ts', 'test/release/**/*.engines.test.ts'],
        globalSetup: ['test/arm64/global-setup.ts'],
        testTimeout: 60_000,
        hookTimeout: 600_000,
      }),
      // The release's OCI image, .debs and npm packages installed the ways their users install
      // them, on Docker (docker/engine.sh) and Podman (docker/podman.sh). Each file brings up
      // what it needs in beforeAll. One file at a time: stop times are asserted.
      tier({
        name: 'packages',
        include: ['test/release/**/*.engines.test.ts'],
        testTimeout: 120_000,
        hookTimeout: 900_000,
        serial: true,
      }),
    ],
  },
});
