// What else PID 1 owes a container, shown on a real engine: orphans re-parented to it are
// reaped (a burst of 1000, counted from /proc with `docker exec`, beside a container without
// an init where they pile up), `docker run -t` hands the terminal to the child, and the
// child's exit code (or 128+signal, or tsinit's own 126/127) is what `docker run` returns.
import { afterAll, describe, expect, it } from 'vitest';
import { Container, INIT_HOST, docker, orphanBurst, removeAll, saveRows, type Procs, type Row } from './docker.ts';

const rows: Row[] = [];
afterAll(async () => {
  await removeAll();
  saveRows('2-container', rows);
});

describe('zombies', () => {
  it('tsinit as PID 1 reaps a burst of 1000 orphans: none is left', async () => {
    const ct = await Container.run('tsinit-matrix-sleep-exec-tsinit');
    await ct.waitProcess('sleep 1000');
    const { after, seconds } = await orphanBurst(ct, 20_000, (p) => p.sleeps === 0 && p.zombies === 0);
    rows.push({
      table: 'Zombies: 1000 orphans re-parented to PID 1',
      cells: {
        'PID 1': 'tsinit',
        'zombies left': String(after.zombies),
        'processes left': String(after.total),
        note: `all reaped ${seconds.toFixed(1)} s after the burst (each orphan sleeps 0.5 s)`,
      },
    });
    // Left: PID 1, its `sleep 1000` child, and procs.py itself.
    expect(after).toEqual({ total: 3, zombies: 0, sleeps: 0 } satisfies Procs);
    await ct.remove();
  });

  it('without an init (sleep is PID 1) the same burst leaves 1000 zombies: the test can tell', async () => {
    const ct = await Container.run('tsinit-matrix-sleep-exec-none');
    await ct.waitProcess('sleep 1000');
    // Every orphan has ended once no sleep but PID 1 runs; their zombies stay, PID 1 never waits.
    const { after } = await orphanBurst(ct, 20_000, (p) => p.sleeps === 0);
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

describe('docker run -t', () => {
  it.each([
    ['ENTRYPOINT tsinit', 'tsinit-matrix-sleep-exec-tsinit', undefined],
    ['docker run --init (tsinit)', 'tsinit-matrix-sleep-exec-none', INIT_HOST],
  ] as const)('%s: the child holds the terminal as its foreground process group', async (_, image, host) => {
    const r = await docker(['run', '--rm', '-t', ...(host ? ['--init'] : []), image, '/tty.py'], { host });
    rows.push({
      table: '`docker run -t`: who holds the terminal',
      cells: { init: _, 'child output': `\`${r.stdout.trim()}\``, exit: String(r.code) },
    });
    expect(r.stdout, r.stderr).toMatch(/tty: isatty=True foreground=True/);
    expect(r.code).toBe(0);
  });
});

describe('exit codes through docker run', () => {
  // prettier-ignore
  const CASES = [
    { cmd: ['sh', '-c', 'exit 0'],             exit: 0,   why: 'the child\'s code' },
    { cmd: ['sh', '-c', 'exit 42'],            exit: 42,  why: 'the child\'s code' },
    { cmd: ['sh', '-c', 'exit 255'],           exit: 255, why: 'the child\'s code' },
    { cmd: ['sh', '-c', 'kill -USR1 $$'],      exit: 138, why: '128 + SIGUSR1 (10): the child was killed by it' },
    { cmd: ['sh', '-c', 'kill -KILL $$'],      exit: 137, why: '128 + SIGKILL (9)' },
    { cmd: ['/no/such/command'],               exit: 127, why: 'tsinit: command not found' },
    { cmd: ['/etc/hostname'],                  exit: 126, why: 'tsinit: command not executable' },
  ];
  it.each(
    CASES.flatMap((c) => [
      {
        ...c,
        init: 'ENTRYPOINT tsinit',
        image: 'tsinit-matrix-sleep-exec-tsinit',
        host: undefined as string | undefined,
      },
      { ...c, init: 'docker run --init (tsinit)', image: 'tsinit-matrix-sleep-exec-none', host: INIT_HOST },
    ]),
  )('$init: $cmd → $exit', async ({ cmd, exit, why, init, image, host }) => {
    const r = await docker(['run', '--rm', ...(host ? ['--init'] : []), image, ...cmd], { host });
    if (init === 'ENTRYPOINT tsinit')
      rows.push({
        table: 'Exit codes through `docker run` (same with `docker run --init`)',
        cells: {
          command: `\`${cmd.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}\``,
          'docker run exit': String(r.code),
          why,
        },
      });
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(exit);
  });
});
