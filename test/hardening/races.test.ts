// Races forced, not hoped for: gdb holds tsinit at a known point so that each case happens
// on every run. A signal that reaches tsinit before its child exists (held at the very system
// call that makes the child) is delivered to the child right after the spawn; a SIGCHLD that
// never wakes tsinit (gdb hides it) still ends in the reaping, by the one-second backstop.
// x86-64 only (gdb reads its registers), both hosts.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HOST, killAll, Run, runDirect, signalNumber, TIMER_SLACK_MS } from '../helpers/pid1.ts';
import { childrenOf, readStat, stateOf } from '../helpers/proc.ts';
import { record, until, usePrivateInit } from './harness.ts';

const init = usePrivateInit();
afterEach(killAll);

/** How often a host's reaper runs without any SIGCHLD (src/static/loop.ts BACKSTOP_MS, src/node/main.ts BACKSTOP_REAP_MS). */
const BACKSTOP_MS = 1000;

/** gdb attached to pid with the commands cmds; resolves `ready` once they are in place, `done` with gdb's output when it quits. */
function gdbOn(
  pid: number,
  cmds: string[],
  dir: string,
  name: string,
): { ready: Promise<void>; done: Promise<string>; stop(): void } {
  const file = join(dir, `${name}.gdb`);
  writeFileSync(file, ['set pagination off', 'set confirm off', ...cmds].join('\n'));
  const gdb = spawn('gdb', ['-q', '-batch', '-nx', '-p', String(pid), '-x', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((res) => {
    onReady = res;
  });
  const take = (d: Buffer): void => {
    out += d.toString();
    if (out.includes('ATTACHED')) onReady();
  };
  gdb.stdout.on('data', take);
  gdb.stderr.on('data', take);
  const done = new Promise<string>((res) =>
    gdb.on('close', () => {
      onReady();
      res(out);
    }),
  );
  return {
    ready,
    done,
    stop: () => {
      try {
        gdb.kill('SIGKILL');
      } catch {
        /* gone */
      }
    },
  };
}

describe('a signal that arrives before the child exists', () => {
  // SIGUSR2; and 32, 33, 34 (glibc's SIGRTMIN is 34), the numbers musl keeps for itself: musl's
  // posix_spawn gives its caller the mask back without them, and one pending then killed tsinit
  // (the reason the static host's spawn is its own clone). The Node host runs on glibc, which
  // keeps 32 and 33 for its threads: they are never a signal for it to forward.
  const early: [string, number][] = [
    ['SIGUSR2', signalNumber('SIGUSR2')],
    ...(HOST === 'static'
      ? ([
          ['32', 32],
          ['33', 33],
        ] as [string, number][])
      : []),
    ['34', 34],
  ];
  it.each(early)(
    'held at the system call that makes the child, %s reaches tsinit first and the child right after the spawn: it dies of it (exit 128 + its number)',
    async (_name, sig) => {
      if (process.arch !== 'x64') throw new Error('this test reads x86-64 registers in gdb');
      // The shell waits for a line, gdb attaches, and the shell execs tsinit: gdb is then waiting
      // at tsinit's spawn (static: clone with CLONE_VM|CLONE_VFORK; Node: posix_spawn's clone3 with CLONE_VFORK, not a thread).
      const r = new Run('sh', ['-c', 'read x; exec "$0" "$@"', init.bin, '--', 'sleep', '10'], {});
      const pid = r.proc.pid!;
      await until('the shell waits for its line', () => stateOf(pid) === 'S');
      const spawnCall =
        HOST === 'static'
          ? ['catch syscall fork clone']
          : ['catch syscall clone3', 'condition 1 (*(unsigned long long *)$rdi & 0x4000) != 0'];
      const gdb = gdbOn(
        pid,
        [
          ...spawnCall,
          'commands 1',
          // tsinit is at the entry of the call: no child yet. The signal is queued for tsinit now.
          `python import os; os.kill(gdb.selected_inferior().pid, ${sig}); print("SENT children=" + open("/proc/%d/task/%d/children" % (gdb.selected_inferior().pid, gdb.selected_inferior().pid)).read().strip() + ".")`,
          'detach',
          'quit',
          'end',
          'echo ATTACHED\\n',
          'continue',
        ],
        init.dir,
        'spawn',
      );
      try {
        await gdb.ready;
        r.proc.stdin!.write('go\n');
        const out = await gdb.done;
        expect(out, out).toMatch(/^SENT children=\.$/m);
        const e = await r.exit();
        expect(e.code, `${r.output}\n--- gdb:\n${out}`).toBe(128 + sig);
      } finally {
        gdb.stop();
      }
    },
  );
});

/** A pids cgroup of our own (v1 layout here, v2 elsewhere), and its removal; a missing controller fails the test. */
function makePidsCgroup(): { dir: string; remove(): void } {
  const v1 = '/sys/fs/cgroup/pids';
  const base = existsSync(join(v1, 'cgroup.procs')) ? v1 : '/sys/fs/cgroup';
  if (base !== v1 && !readFileSync(join(base, 'cgroup.controllers'), 'latin1').includes('pids'))
    throw new Error('no pids cgroup controller on this machine');
  const dir = join(base, `tsinit-races-${process.pid}-${Date.now()}`);
  mkdirSync(dir);
  return {
    dir,
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        /* still busy: the test already failed */
      }
    },
  };
}

describe('tsinit itself fails before its child: exit 1', () => {
  it("the kernel refuses the child's process (a pids cgroup filled at that very call): one error line, exit 1", async () => {
    if (process.arch !== 'x64') throw new Error('this test reads x86-64 registers in gdb');
    const cg = makePidsCgroup();
    try {
      const r = new Run('sh', ['-c', 'read x; exec "$0" "$@"', init.bin, '--', 'true'], {});
      const pid = r.proc.pid!;
      await until('the shell waits for its line', () => stateOf(pid) === 'S');
      // At the spawn's system call tsinit (with its threads) moves into the cgroup, whose limit
      // becomes what it already holds: the new process is refused (EAGAIN), as in a full container.
      const fill = join(init.dir, 'fill.sh');
      writeFileSync(
        fill,
        `echo ${pid} > ${cg.dir}/cgroup.procs && cat ${cg.dir}/pids.current > ${cg.dir}/pids.max && echo FILLED\n`,
      );
      const spawnCall =
        HOST === 'static'
          ? ['catch syscall fork clone']
          : ['catch syscall clone3', 'condition 1 (*(unsigned long long *)$rdi & 0x4000) != 0'];
      const gdb = gdbOn(
        pid,
        [...spawnCall, 'commands 1', `shell sh ${fill}`, 'detach', 'quit', 'end', 'echo ATTACHED\\n', 'continue'],
        init.dir,
        'fill',
      );
      try {
        await gdb.ready;
        r.proc.stdin!.write('go\n');
        const out = await gdb.done;
        expect(out, out).toMatch(/^FILLED$/m);
        const e = await r.exit();
        expect({ code: e.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
          code: 1,
          stdout: '',
          stderr: "tsinit: error: cannot run 'true': Resource temporarily unavailable (EAGAIN)\n",
        });
      } finally {
        gdb.stop();
      }
    } finally {
      cg.remove();
    }
  });
});

describe('a SIGCHLD that never wakes tsinit', () => {
  it('every orphan is still reaped within the one-second backstop', async () => {
    if (process.arch !== 'x64') throw new Error('this test reads x86-64 registers in gdb');
    // Subreaper mode: the orphans' pids are the host's, and their parent is tsinit once re-parented.
    const r = runDirect(['--', 'sh', '-c', 'echo READY; while read x; do sh -c "sleep 0.3 & echo ORPHAN \\$!"; done'], {
      init: init.bin,
    });
    await r.waitFor(/^READY$/m);
    const pid = r.proc.pid!;
    // Static: every sigtimedwait is entered with SIGCHLD taken out of its set, so only its
    // timeout (the backstop) wakes the loop. Node: gdb swallows each SIGCHLD before libuv's
    // handler sees it, so only the backstop's setInterval reaps.
    const hide =
      HOST === 'static'
        ? [
            'catch syscall rt_sigtimedwait',
            'commands 1',
            'silent',
            'set var *(unsigned char *)($rdi + 2) = *(unsigned char *)($rdi + 2) & 0xfe',
            'continue',
            'end',
          ]
        : ['handle SIGCHLD nostop noprint nopass'];
    const gdb = gdbOn(pid, [...hide, 'echo ATTACHED\\n', 'continue'], init.dir, 'sigchld');
    try {
      await gdb.ready;
      const lags: number[] = [];
      for (let round = 0; round < 3; round++) {
        r.proc.stdin!.write('go\n');
        await until('the orphan started', () => (r.stdout.match(/^ORPHAN \d+$/gm) ?? []).length > round);
        const orphan = Number(r.stdout.match(/^ORPHAN (\d+)$/gm)![round]!.slice('ORPHAN '.length));
        // The orphan's sleep ends 0.3 s after it starts: a zombie whose parent is tsinit.
        await until(`orphan ${orphan} a zombie of tsinit`, () => {
          const s = readStat(orphan);
          return s === null || (s.state === 'Z' && s.ppid === pid);
        });
        expect(readStat(orphan), 'reaped before the zombie was seen: SIGCHLD was not hidden').not.toBeNull();
        const t0 = performance.now();
        await until(
          `orphan ${orphan} reaped by the backstop`,
          () => readStat(orphan) === null,
          BACKSTOP_MS + TIMER_SLACK_MS,
        );
        lags.push(Math.round(performance.now() - t0));
      }
      expect(childrenOf(pid).length).toBe(1);
      record(`hidden SIGCHLD (${HOST})`, `orphans reaped ${lags.join('/')} ms after they became zombies`);
    } finally {
      gdb.stop();
    }
  });
});
