// What else PID 1 owes a container, on Podman: a burst of 1000 orphans is reaped (tsinit as
// ENTRYPOINT and as `--init`, catatonit as `--init`; without an init they pile up), `podman
// run -t` hands the terminal to the child, exit codes pass through `podman run`, and
// containers.conf's init_path makes tsinit the `--init` of every container.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Container, orphanBurst, removeAll, saveRows, type Procs, type Row } from '../docker/docker.ts';
import { CATATONIT, CONF_ENV, PODMAN_DIR, RESULTS_DIR, TSINIT_INIT, podman, podmanEngine } from './podman.ts';

const rows: Row[] = [];
afterAll(async () => {
  await removeAll();
  saveRows('2-container', rows, RESULTS_DIR);
});

const INITS = {
  'ENTRYPOINT tsinit': { image: 'tsinit-matrix-sleep-exec-tsinit', runArgs: [] as string[] },
  '`podman run --init` (tsinit)': {
    image: 'tsinit-matrix-sleep-exec-none',
    runArgs: ['--init', `--init-path=${TSINIT_INIT}`],
  },
  '`podman run --init` (catatonit)': {
    image: 'tsinit-matrix-sleep-exec-none',
    runArgs: ['--init', `--init-path=${CATATONIT}`],
  },
  none: { image: 'tsinit-matrix-sleep-exec-none', runArgs: [] as string[] },
};
type InitName = keyof typeof INITS;

// One burst at a time: four thousand forks at once on 2 shared cores only measure the load.
// Each burst may take minutes on loaded cores (100 s seen at load average 30).
describe('zombies', { timeout: 360_000 }, () => {
  it.each(['ENTRYPOINT tsinit', '`podman run --init` (tsinit)', '`podman run --init` (catatonit)'] as const)(
    '%s as PID 1 reaps a burst of 1000 orphans: none is left',
    async (init) => {
      const ct = await Container.run(INITS[init].image, { engine: podman, runArgs: INITS[init].runArgs });
      await ct.waitProcess('sleep 1000', 30_000);
      const { after, seconds } = await orphanBurst(ct, 30_000, (p) => p.sleeps === 0 && p.zombies === 0);
      rows.push({
        table: 'Zombies: 1000 orphans re-parented to PID 1',
        cells: {
          'PID 1': init,
          'zombies left': String(after.zombies),
          'processes left': String(after.total),
          note: `all reaped ${seconds.toFixed(1)} s after the burst (each orphan sleeps 0.5 s)`,
        },
      });
      // Left: PID 1, its `sleep 1000` child, and procs.py itself.
      expect(after).toEqual({ total: 3, zombies: 0, sleeps: 0 } satisfies Procs);
      await ct.remove();
    },
  );

  it('without an init (sleep is PID 1) the same burst leaves 1000 zombies: the test can tell', async () => {
    const ct = await Container.run(INITS.none.image, { engine: podman });
    await ct.waitProcess('sleep 1000', 30_000);
    const { after } = await orphanBurst(ct, 30_000, (p) => p.sleeps === 0);
    rows.push({
      table: 'Zombies: 1000 orphans re-parented to PID 1',
      cells: {
        'PID 1': '`sleep 1000` (no init)',
        'zombies left': String(after.zombies),
        'processes left': String(after.total),
        note: 'nobody reaps them',
      },
    });
    expect(after.zombies).toBe(1000);
    await ct.remove();
  });
});

describe.concurrent('podman run -t', () => {
  it.each(['ENTRYPOINT tsinit', '`podman run --init` (tsinit)', '`podman run --init` (catatonit)'] as const)(
    '%s: the child holds the terminal as its foreground process group',
    async (init) => {
      const r = await podman.cli(['run', '--rm', '-t', ...INITS[init].runArgs, INITS[init].image, '/tty.py']);
      rows.push({
        table: '`podman run -t`: who holds the terminal',
        cells: { init, 'child output': `\`${r.stdout.trim()}\``, exit: String(r.code) },
      });
      expect(r.stdout, r.stderr).toMatch(/tty: isatty=True foreground=True/);
      expect(r.code).toBe(0);
    },
  );
});

describe.concurrent('exit codes through podman run', () => {
  // tsinit: the same with ENTRYPOINT and --init. catatonit: 1 for a command it cannot start,
  // without naming it in the code. No init: Podman itself maps runc's start failure to 127/126,
  // and a shell that is PID 1 survives its own kill.
  // prettier-ignore
  const CASES = [
    { cmd: ['sh', '-c', 'exit 0'],        tsinit: 0,   catatonit: 0,   none: 0,   why: 'the child\'s code' },
    { cmd: ['sh', '-c', 'exit 42'],       tsinit: 42,  catatonit: 42,  none: 42,  why: 'the child\'s code' },
    { cmd: ['sh', '-c', 'exit 255'],      tsinit: 255, catatonit: 255, none: 255, why: 'the child\'s code' },
    { cmd: ['sh', '-c', 'kill -USR1 $$'], tsinit: 138, catatonit: 138, none: 0,   why: '128 + SIGUSR1 (10): the child was killed by it. No init: sh is PID 1, the kernel drops the signal, sh goes on and exits 0' },
    { cmd: ['sh', '-c', 'kill -KILL $$'], tsinit: 137, catatonit: 137, none: 0,   why: '128 + SIGKILL (9). No init: even SIGKILL from inside the container cannot kill its PID 1' },
    { cmd: ['/no/such/command'],          tsinit: 127, catatonit: 1,   none: 127, why: 'tsinit: command not found; catatonit: 1 ("failed to exec pid1"); no init: Podman\'s own 127' },
    { cmd: ['/etc/hostname'],             tsinit: 126, catatonit: 1,   none: 126, why: 'tsinit: command not executable; catatonit: 1; no init: Podman\'s own 126' },
  ];
  const show = (cmd: string[]) => `\`${cmd.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}\``;
  const cell = new Map<string, Record<string, string>>();

  it.each(CASES.flatMap((c) => (Object.keys(INITS) as InitName[]).map((init) => ({ ...c, init }))))(
    '$init: $cmd',
    async (c) => {
      const expected = c.init === 'none' ? c.none : c.init.includes('catatonit') ? c.catatonit : c.tsinit;
      const r = await podman.cli(['run', '--rm', ...INITS[c.init].runArgs, INITS[c.init].image, ...c.cmd]);
      const row = cell.get(show(c.cmd)) ?? {};
      cell.set(show(c.cmd), row);
      row[c.init] = String(r.code);
      if (Object.keys(row).length === Object.keys(INITS).length) {
        rows.push({
          table: 'Exit codes through `podman run`',
          cells: {
            command: show(c.cmd),
            'tsinit (ENTRYPOINT)': row['ENTRYPOINT tsinit']!,
            '`--init` tsinit': row['`podman run --init` (tsinit)']!,
            '`--init` catatonit': row['`podman run --init` (catatonit)']!,
            'no init': row.none!,
            why: c.why,
          },
        });
      }
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(expected);
    },
  );
});

describe('containers.conf init_path', () => {
  it("makes tsinit the --init of every container: PID 1 is tsinit, stop is fast, the exit code the child's", async () => {
    // The suite's containers.conf with the README's init_path line in place of catatonit's.
    const conf = resolve(PODMAN_DIR, 'init-path.conf');
    const suite = readFileSync(CONF_ENV.CONTAINERS_CONF, 'utf8');
    expect(suite).toMatch(/^init_path = .*$/m);
    writeFileSync(conf, suite.replace(/^init_path = .*$/m, `init_path = "${TSINIT_INIT}"`));
    const engine = podmanEngine({ CONTAINERS_CONF: conf });
    const ct = await Container.run('tsinit-matrix-sleep-exec-none', { engine, runArgs: ['--init'] });
    await ct.waitProcess('sleep 1000', 30_000);
    const version = await ct.exec(['/run/podman-init', '--version']);
    expect(version.stdout).toMatch(/^tsinit version /);
    const stopS = await ct.stop();
    expect((await ct.state()).ExitCode).toBe(143);
    // As in the matrix: "did not wait for the 10 s timeout", with room for podman on loaded cores.
    expect(stopS).toBeLessThan(5);
    await ct.remove();
  });
});
