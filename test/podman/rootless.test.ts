// Rootless Podman: the same engine run by an unprivileged user (tsinit-podman, sub-ids from
// docker/podman.sh up-rootless, its own store with the same Debian image). PID 1 runs as that
// user's uid on the host; tsinit as `--init` (and as the entrypoint) behaves as rootful: fast
// stop, the shell-form app's handler runs to its end; catatonit, for comparison, cuts it off.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Container,
  ROOT,
  cliOk,
  removeAll,
  runClient,
  saveRows,
  stopAndObserve,
  type Engine,
  type Handler,
  type Row,
} from '../docker/docker.ts';
import { CATATONIT, PODMAN_DIR, RESULTS_DIR, TSINIT_INIT } from './podman.ts';

const USER = 'tsinit-podman';
const rootless: Engine = {
  name: 'podman (rootless)',
  cli: (args, opts) => runClient(resolve(ROOT, 'docker/podman.sh'), {}, ['rootless', ...args], opts),
  topArgs: (id, columns) => ['top', id, ...columns.split(',').map((c) => (c === 'stat' ? 'state' : c))],
};
// Only lo, no ulimits (an unprivileged runc keeps the user's own); the app and tsinit mounted
// read-only from the suite's state folder (the user cannot read the checkout).
const MOUNTS = ['-v', `${resolve(PODMAN_DIR, 'ctx/app.py')}:/app.py:ro`, '-v', `${TSINIT_INIT}:/tsinit:ro`];

const rows: Row[] = [];
afterAll(async () => {
  await removeAll();
  saveRows('4-rootless', rows, RESULTS_DIR);
});

// prettier-ignore
const CASES = [
  { init: '`--init` (tsinit)',    args: ['--init', `--init-path=${TSINIT_INIT}`], cmd: ['sleep', '1000'],          app: 'sleep', stop: 'fast', exit: 143, handler: 'no handler' },
  { init: '`--init` (tsinit)',    args: ['--init', `--init-path=${TSINIT_INIT}`], cmd: ['/bin/sh', '-c', '/app.py'], app: 'app',   stop: 'app',  exit: 143, handler: 'finished' },
  { init: 'tsinit as entrypoint', args: ['--entrypoint', '/tsinit'],              cmd: ['--', '/bin/sh', '-c', '/app.py'], app: 'app', stop: 'app', exit: 143, handler: 'finished' },
  { init: '`--init` (catatonit)', args: ['--init', `--init-path=${CATATONIT}`],   cmd: ['/bin/sh', '-c', '/app.py'], app: 'app',   stop: 'fast', exit: 143, handler: 'never ran' },
] as const;

describe(`rootless podman as ${USER}`, () => {
  it.each(CASES.map((c) => [`${c.init}: ${c.cmd.join(' ')}`, c] as const))('%s', async (_, c) => {
    const ct = await Container.run('localhost/tsinit-debian', {
      engine: rootless,
      runArgs: [...MOUNTS, ...c.args],
      cmd: [...c.cmd],
    });
    // The container's PID 1 runs as the unprivileged user on the host (root only inside).
    const hostPid = (await cliOk(rootless, ['inspect', '-f', '{{.State.Pid}}', ct.id])).stdout.trim();
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'))![1];
    expect(uid).toBe(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
    const o = await stopAndObserve(ct, c.app, 60_000);
    rows.push({
      table: `Rootless Podman (user ${USER}, sub-ids, its own store): \`podman stop\``,
      cells: {
        init: c.init,
        command: `\`${c.cmd.join(' ')}\``,
        'PID 1 on the host runs as': `uid ${uid} (${USER})`,
        'stop s': o.stopS.toFixed(2),
        exit: String(o.exit),
        'app finished its handler':
          c.app === 'sleep' ? '— (no handler)' : o.handler === 'finished' ? 'yes' : `no (${o.handler})`,
      },
    });
    const detail = `stop ${o.stopS.toFixed(2)} s, exit ${o.exit}, handler ${o.handler}, PID 1 '${o.pid1}'\n${o.logs}`;
    expect(o.exit, detail).toBe(c.exit);
    expect(o.handler, detail).toBe(c.handler satisfies Handler);
    // As in the matrix: 'fast' is "did not wait for the 10 s timeout" on loaded cores.
    if (c.stop === 'fast') expect(o.stopS, detail).toBeLessThan(5);
    else expect(o.stopS, detail).toBeGreaterThan(0.9);
  });
});
