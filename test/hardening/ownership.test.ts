// What tsinit signals is its own: a pid it read from /proc and that another process took
// before the signal, a /proc of another pid namespace, a kernel without pidfds, a signal that
// is not the stop request, a parent that forks during the final sweep, no /proc at all. Each
// bad case is forced, not hoped for: the reuse of a pid is made with the namespace's
// ns_last_pid while gdb holds tsinit at the very call that would signal the number.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HOST, killAll, Pid1Run, Run, signalNumber } from '../helpers/pid1.ts';
import { childrenOf, descendantsOf, isRunning } from '../helpers/proc.ts';
import { buildFixture, hfixture, record, until, usePrivateInit } from './harness.ts';

const init = usePrivateInit();
afterEach(killAll);

let dir = '';
/** The seccomp wrapper that makes pidfd_open and pidfd_send_signal fail with ENOSYS (a kernel before 5.3). */
let noPidfd = '';
/** The fixture that forks N children that ignore TERM and wait, for the walk's timing. */
let fanOut = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsinit-ownership-'));
  noPidfd = join(dir, 'no-pidfd');
  execFileSync('gcc', ['-O2', '-o', noPidfd, hfixture('no-pidfd.c')]);
  fanOut = buildFixture('fan-out.c', dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh scratch directory for one case's files. */
function scratch(): string {
  return mkdtempSync(join(dir, 'case-'));
}

/** The contents of a file, '' while it does not exist. */
function read(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/**
 * tsinit as PID 1 of a new pid namespace, or (pid1 false) as a subreaper below a shell that is
 * PID 1 there and forks nothing while tsinit runs: either way the namespace's ns_last_pid
 * decides the next pid, and nothing else forks in it.
 */
class NsRun extends Pid1Run {
  constructor(
    readonly pid1: boolean,
    args: readonly string[],
    wrap: readonly string[] = [],
  ) {
    super(
      'unshare',
      pid1
        ? ['--pid', '--fork', '--mount-proc', ...wrap, init.bin, ...args]
        : ['--pid', '--fork', '--mount-proc', 'sh', '-c', '"$@"; echo "EXIT $?" >&2', 'sh', ...wrap, init.bin, ...args],
      {},
    );
  }

  /** tsinit's pid on the host. */
  override async initPid(timeoutMs = 5000): Promise<number> {
    const first = await super.initPid(timeoutMs);
    if (this.pid1) return first;
    let pid: number | undefined;
    await until(`no tsinit below sh ${first}`, () => (pid = childrenOf(first)[0]) !== undefined, timeoutMs, 5);
    return pid!;
  }

  /** The exit status of tsinit (as PID 1: unshare's; below sh: the code sh reports). */
  async status(): Promise<number | null> {
    const e = await this.exit();
    if (this.pid1) return e.code;
    const m = /^EXIT (\d+)$/m.exec(this.stderr);
    return m ? Number(m[1]) : null;
  }
}

/** Runs a shell inside tsinit's pid namespace (and mount namespace: its /proc) that is not below tsinit, as `docker exec` would. */
function execInside(init: number, script: string): string {
  return execFileSync('nsenter', ['-t', String(init), '-p', '-m', 'sh', '-c', script], {
    encoding: 'utf8',
    timeout: 10_000,
  });
}

/** x86-64 numbers of the calls that could signal a pid read from /proc. */
const SYSCALLS = { kill: 62, pidfd_open: 434 };

/**
 * Holds tsinit (gdb) at the first kill() or pidfd_open() whose first argument is pid, runs the
 * shell script `then` there, and lets tsinit go on. Resolves when gdb is done.
 */
function holdAtSignalOf(
  init: number,
  pid: number,
  then: string,
  files: string,
): { ready: Promise<void>; done: Promise<string> } {
  const cmds = join(files, 'gdb.cmd');
  const script = join(files, 'then.sh');
  writeFileSync(script, then);
  writeFileSync(
    cmds,
    [
      'set pagination off',
      `catch syscall ${SYSCALLS.kill} ${SYSCALLS.pidfd_open}`,
      `condition 1 $rdi == ${pid}`,
      'commands 1',
      `shell sh ${script}`,
      'delete 1',
      'detach',
      'quit',
      'end',
      'echo ATTACHED\\n',
      'continue',
    ].join('\n'),
  );
  const gdb = spawn('gdb', ['-q', '-batch', '-nx', '-p', String(init), '-x', cmds], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((res) => {
    onReady = res;
  });
  gdb.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ATTACHED')) onReady();
  });
  gdb.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<string>((res) =>
    gdb.on('close', () => {
      onReady();
      res(out);
    }),
  );
  return { ready, done };
}

describe.each([true, false])('pid 1: %s', (pid1) => {
  it("a descendant's pid taken by an unrelated process between the walk and the signal: the newcomer gets nothing", async () => {
    if (process.arch !== 'x64') throw new Error('this test reads x86-64 registers in gdb');
    const files = scratch();
    // The child's background job P ignores TERM, so it outlives the drain's TERM and reaps X (its
    // sleep) when X is killed: X's pid is then free for the newcomer, made inside the namespace
    // by a process that is not below tsinit.
    const p = `trap "" TERM; sleep 1000 & echo $! > ${files}/x; wait; exec sleep 1000`;
    const r = new NsRun(pid1, [
      '-v',
      '--drain',
      '1s',
      '--',
      'sh',
      '-c',
      `sh -c '${p}' & echo READY; read line; exit 0`,
    ]);
    await r.waitFor(/^READY/m);
    await until('X written', () => read(`${files}/x`).trim() !== '');
    const x = Number(read(`${files}/x`));
    const tsinit = await r.initPid();
    // Inside the namespace: X is killed and reaped by P, the next pid is set to X, and a newcomer
    // is started whose parent is nsenter, outside: like a `docker exec`, never below tsinit.
    const newcomer = `trap "echo TERM >> ${files}/newcomer" TERM; echo $$ > ${files}/newcomer.pid; while :; do sleep 0.05; done`;
    const hold = holdAtSignalOf(
      tsinit,
      x,
      `nsenter -t ${tsinit} -p -m sh -c 'kill -9 ${x}; while [ -e /proc/${x} ]; do :; done; echo ${x - 1} > /proc/sys/kernel/ns_last_pid'
      nsenter -t ${tsinit} -p -m sh -c '${newcomer}' > /dev/null 2>&1 &
      until [ -s ${files}/newcomer.pid ]; do sleep 0.01; done`,
      files,
    );
    await hold.ready;
    r.closeStdin();
    const gdbOut = await hold.done;
    expect(await r.status(), `${r.output}\n--- gdb:\n${gdbOut}`).toBe(0);
    // The newcomer took X's number (else the case was not made) and never got a signal from tsinit.
    expect(Number(read(`${files}/newcomer.pid`)), gdbOut).toBe(x);
    expect(read(`${files}/newcomer`), r.output).toBe('');
    expect(r.stderr).toMatch(
      /draining 2 process\(es\) for up to 1s \(1 sent SIGTERM, 0 already stopping, 1 no longer tsinit's\)/,
    );
    spawnSync('pkill', ['-KILL', '-f', `^sh -c trap "echo TERM >> ${files}/newcomer"`]);
  });

  it('the child handles Ctrl-C and carries on, then starts a helper: when the child exits the helper gets its SIGTERM, not only a SIGKILL', async () => {
    const files = scratch();
    const helper = `trap "echo TERM >> ${files}/helper; exit 0" TERM; echo $$ > ${files}/helper.pid; while :; do sleep 0.05; done`;
    // Files, not reads of stdin, pace the child: a read that the INT interrupts returns at once,
    // which would start the helper and end the child before the helper sets its trap.
    const wait = (name: string) => `until [ -e ${files}/${name} ]; do sleep 0.05; done`;
    const r = new NsRun(pid1, [
      '--drain',
      '2s',
      '--',
      'sh',
      '-c',
      `trap "echo INT-HANDLED" INT; echo READY; ${wait('go')}; sh -c '${helper}' & ${wait('end')}; exit 0`,
    ]);
    await r.waitFor(/^READY/m);
    await r.signal('SIGINT');
    await r.waitFor(/INT-HANDLED/);
    writeFileSync(`${files}/go`, '');
    await until('the helper runs', () => read(`${files}/helper.pid`) !== '');
    writeFileSync(`${files}/end`, '');
    expect(await r.status(), r.output).toBe(0);
    expect(read(`${files}/helper`)).toBe('TERM\n');
  });

  it("kill -QUIT (a JVM's thread dump) is forwarded and is not a shutdown: --kill-after stays unarmed", async () => {
    const files = scratch();
    const r = new NsRun(pid1, [
      '--kill-after',
      '1s',
      '--',
      'sh',
      '-c',
      `trap "echo QUIT-HANDLED" QUIT; echo READY; until [ -e ${files}/end ]; do sleep 0.05; done; echo STILL-HERE`,
    ]);
    await r.waitFor(/^READY/m);
    await r.signal('SIGQUIT');
    await r.waitFor(/QUIT-HANDLED/);
    const tsinit = await r.initPid();
    // Past --kill-after and a margin: nothing was killed.
    await new Promise((res) => setTimeout(res, 1500));
    expect(isRunning(tsinit)).toBe(true);
    writeFileSync(`${files}/end`, '');
    expect(await r.status(), r.output).toBe(0);
    expect(r.stdout).toContain('STILL-HERE');
  });

  it('--stop-signal QUIT (an image with STOPSIGNAL SIGQUIT): QUIT starts the shutdown and arms --kill-after', async () => {
    const r = new NsRun(pid1, [
      '--stop-signal',
      'QUIT',
      '--kill-after',
      '1s',
      '--',
      'sh',
      '-c',
      'trap "echo QUIT-HANDLED" QUIT; echo READY; while :; do sleep 0.05; done',
    ]);
    await r.waitFor(/^READY/m);
    await r.signal('SIGQUIT');
    expect(await r.status(), r.output).toBe(137);
    expect(r.stdout).toContain('QUIT-HANDLED');
  });

  it('a parent that keeps forking during the final sweep leaves no process behind', async () => {
    const files = scratch();
    const marker = 4000 + Math.floor(Math.random() * 1000);
    // A TERM-proof loop in a session of its own forks sleeps as fast as it can; the child then exits.
    const bomb = `trap "" TERM; while :; do sleep ${marker} & done`;
    const args = ['--drain', '500ms', '--', 'sh', '-c', `setsid sh -c '${bomb}' & sleep 0.5; echo $! > ${files}/bomb`];
    // Not PID 1: on the host itself, not below a namespace's PID 1 whose end would take the
    // escapees with it and hide them.
    let status: number | null;
    if (pid1) {
      const r = new NsRun(true, args);
      status = await r.status();
    } else {
      const r = new Run(init.bin, args, {});
      // tsinit's own exit: an escapee would hold its stdout open.
      status = await new Promise<number | null>((res) => r.proc.on('exit', (code) => res(code)));
    }
    expect(status).toBe(0);
    const left = (): number =>
      Number(spawnSync('pgrep', ['-c', '-f', `^sleep ${marker}$`], { encoding: 'utf8' }).stdout.trim() || '0');
    // SIGKILLed processes take a moment to go; a survivor never does.
    await until(
      () => `${left()} 'sleep ${marker}' outlived tsinit`,
      () => left() === 0,
      5000,
    );
  });
});

describe.each([true, false])('a /proc of another pid namespace, pid 1: %s', (pid1) => {
  it('is not read: tsinit warns once, signals no number from it, and the group still gets its SIGTERM', async () => {
    const files = scratch();
    // No --mount-proc: /proc is the host's. The leftover L (in the child's group) has a host pid;
    // a process inside the namespace (not below tsinit) is given that number as its pid here.
    // Not PID 1: a shell is PID 1 of the namespace and tsinit its child (never exec'd into).
    const leftover = `trap "echo TERM >> ${files}/leftover; exit 0" TERM; echo READY-L; while :; do sleep 0.05; done`;
    const command = [init.bin, '-v', '--drain', '2s', '--', 'sh', '-c', `sh -c '${leftover}' & read a; exit 0`];
    const r = new Run(
      'unshare',
      ['--pid', '--fork', ...(pid1 ? command : ['sh', '-c', '"$@"; echo "EXIT $?" >&2', 'sh', ...command])],
      {},
    );
    await r.waitFor(/^READY-L/m);
    let tsinit = 0;
    await until('tsinit below unshare', () => {
      const first = childrenOf(r.proc.pid!)[0] ?? 0;
      tsinit = pid1 || first === 0 ? first : (childrenOf(first)[0] ?? 0);
      return tsinit !== 0;
    });
    const l = descendantsOf(tsinit).find(
      (p) => p.ppid !== tsinit && readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').startsWith('sh\0-c\0trap'),
    );
    expect(l).toBeDefined();
    // Inside: the pid that L has outside, for a process tsinit does not own.
    execInside(
      tsinit,
      `echo ${l!.pid - 1} > /proc/sys/kernel/ns_last_pid; (exec sh -c 'echo $$ > ${files}/decoy.pid; trap "echo TERM >> ${files}/decoy" TERM; while :; do sleep 0.05; done') > /dev/null 2>&1 &`,
    );
    await until('the decoy runs', () => read(`${files}/decoy.pid`) !== '');
    r.closeStdin();
    await r.exit();
    expect(Number(read(`${files}/decoy.pid`)), "the decoy must hold the leftover's host pid inside").toBe(l!.pid);
    expect(read(`${files}/decoy`), r.output).toBe('');
    expect(read(`${files}/leftover`), r.output).toBe('TERM\n');
    expect(r.stderr.match(/warning: \/proc shows another pid namespace/g), r.stderr).toHaveLength(1);
    if (!pid1) expect(r.stderr).toMatch(/^EXIT 0$/m);
    spawnSync('pkill', ['-KILL', '-f', `^sh -c echo \\$\\$ > ${files}/decoy.pid`]);
  });
});

describe.each([true, false])('a kernel without pidfds (ENOSYS), pid 1: %s', (pid1) => {
  it('signals only its own children by number; a grandchild gets its TERM once it is re-parented to tsinit', async () => {
    const files = scratch();
    // P dies of the drain's TERM after a moment; its child G then belongs to tsinit.
    const g = `trap "echo TERM >> ${files}/g; exit 0" TERM; while :; do sleep 0.05; done`;
    const p = `trap "sleep 0.3; exit 0" TERM; sh -c '"'"'${g}'"'"' & echo READY; while :; do sleep 0.05; done`;
    const r = new NsRun(pid1, ['-v', '--drain', '3s', '--', 'sh', '-c', `sh -c '${p}' & read a; exit 0`], [noPidfd]);
    await r.waitFor(/^READY/m);
    r.closeStdin();
    expect(await r.status(), r.output).toBe(0);
    expect(read(`${files}/g`), r.output).toBe('TERM\n');
    expect(r.stderr).toMatch(
      /draining \d+ process\(es\) for up to 3s \(1 sent SIGTERM, 0 already stopping, \d+ not tsinit's children, left until they are \(no pidfd\)\)/,
    );
    expect(r.stderr).not.toMatch(/SIGKILL/);
  });
});

describe('no /proc, not PID 1', () => {
  it("SIGKILLs the child's group and says so; says what it cannot name instead of claiming it", async () => {
    const files = scratch();
    const stubborn = `trap "" TERM; echo $$ > ${files}/stubborn; while :; do sleep 0.05; done`;
    const r = new Run(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        'umount -l /proc && exec "$@"',
        'sh',
        init.bin,
        '--drain',
        '500ms',
        '--',
        'sh',
        '-c',
        `sh -c '${stubborn}' & read a; exit 0`,
      ],
      {},
    );
    await until('the stubborn one runs', () => read(`${files}/stubborn`) !== '');
    const stubbornPid = Number(read(`${files}/stubborn`));
    r.closeStdin();
    const e = await r.exit();
    expect(e.code, r.output).toBe(0);
    expect(r.stderr).toMatch(
      /warning: SIGKILL to the child's group \d+ \(no \/proc: the rest cannot be named\): still running at the end of the 500ms drain/,
    );
    await until('the stubborn one is gone', () => !isRunning(stubbornPid), 3000);
  });
});

describe('the walk', () => {
  /**
   * ms from the child's end to the drain's line (JSON log times): the walk of n descendants,
   * and with told false their SIGTERMs too (a pidfd opened, a stat read and a signal each).
   * With told true the TERM went to the group first, so the drain only walks.
   */
  async function drainStart(n: number, told: boolean): Promise<number> {
    const r = new NsRun(true, ['--log-format', 'json', '-v', '--drain', '10s', '--', fanOut, String(n)]);
    await r.waitFor(/^READY/m, 60_000);
    // The group's record is the clock tick of the stop signal, and a member born in that same
    // tick counts as untold (it gets a second TERM, never none): fan-out forks hundreds per
    // 10 ms tick, so the TERM waits out two ticks after the last fork.
    if (told) {
      await new Promise((res) => setTimeout(res, 30));
      await r.signal('SIGTERM');
    }
    r.closeStdin();
    await r.waitFor(/"event":"drain"/, 60_000, 'stderr');
    const lines = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string; time: string; signalled?: number });
    const ms =
      Date.parse(lines.find((l) => l.event === 'drain')!.time) -
      Date.parse(lines.find((l) => l.event === 'child-exit')!.time);
    expect(lines.find((l) => l.event === 'drain')!.signalled).toBe(told ? 0 : n);
    process.kill(await r.initPid(), signalNumber('SIGKILL'));
    await r.exit();
    return ms;
  }

  it('is linear, and 4000 descendants take under 350 ms to walk on the static host', async () => {
    const walk = { 1000: await drainStart(1000, true), 4000: await drainStart(4000, true) };
    const withTerm = { 1000: await drainStart(1000, false), 4000: await drainStart(4000, false) };
    record(
      `drain's walk of 1000 / 4000 descendants (${HOST})`,
      `${walk[1000]} / ${walk[4000]} ms; with a SIGTERM each: ${withTerm[1000]} / ${withTerm[4000]} ms`,
    );
    expect(walk[4000] / Math.max(walk[1000], 10)).toBeLessThanOrEqual(4.5);
    expect(withTerm[4000] / Math.max(withTerm[1000], 10)).toBeLessThanOrEqual(4.5);
    if (HOST === 'static') expect(walk[4000]).toBeLessThan(350);
  });
});
