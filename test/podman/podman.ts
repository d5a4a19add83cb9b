// The podman suite's engine: Debian's podman 4.3, rootful, runc, every bit of state under
// TSINIT_PODMAN_DIR as docker/podman.sh sets it up (its containers.conf, storage.conf and
// registries.conf are passed on each call). Containers, logs and results go through the
// docker suite's helpers (test/docker/docker.ts): only the client and `top` differ.
import { resolve } from 'node:path';
import { runClient, type Engine } from '../docker/docker.ts';

export const PODMAN_DIR = process.env.TSINIT_PODMAN_DIR ?? '/tmp/tsinit-podman';
/** Where each test file saves its rows for docker/PODMAN.md. */
export const RESULTS_DIR = resolve(PODMAN_DIR, 'results');
/** The copy of dist/tsinit that `podman run --init --init-path=` mounts (a rebuild mid-run cannot disturb it). */
export const TSINIT_INIT = resolve(PODMAN_DIR, 'init/tsinit');
/** Debian's catatonit, Podman's default `--init` (a link to /usr/bin/catatonit). */
export const CATATONIT = '/usr/libexec/podman/catatonit';
/** Podman asks runc for limits this machine refuses; builds get the same as containers.conf. */
export const ULIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=16384:16384'];

export const CONF_ENV = {
  CONTAINERS_CONF: resolve(PODMAN_DIR, 'containers.conf'),
  CONTAINERS_STORAGE_CONF: resolve(PODMAN_DIR, 'storage.conf'),
  CONTAINERS_REGISTRIES_CONF: resolve(PODMAN_DIR, 'registries.conf'),
};

/** podman with the suite's configuration; `extraEnv` e.g. another CONTAINERS_CONF. */
export function podmanEngine(extraEnv: Record<string, string> = {}): Engine {
  const env = { ...CONF_ENV, ...extraEnv };
  return {
    name: 'podman',
    cli: (args, opts) => runClient('/usr/bin/podman', env, args, opts),
    // podman top takes descriptors; its `state` is ps's `stat`.
    topArgs: (id, columns) => ['top', id, ...columns.split(',').map((c) => (c === 'stat' ? 'state' : c))],
  };
}

export const podman = podmanEngine();
