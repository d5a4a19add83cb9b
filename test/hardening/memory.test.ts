// Out of memory, shown the way a container shows it: an address-space limit (RLIMIT_AS, what
// `ulimit -v` sets). Before the child runs, tsinit either runs or writes one line and exits 1
// at every limit from what the kernel needs to load it up to a few MB, and is never killed by a
// signal; a SIGSEGV sent by kill() meanwhile is still the child's. After the spawn, a limit set
// on the running tsinit (prlimit --pid) may cost log lines and walks of /proc, never its life:
// it keeps reaping, and exits with the child's status. With every allocation refused once the
// child runs (gdb empties malloc and the engine's free blocks under that limit), the 64 kB
// host.c holds back from the spawn on lets it forward signals and exit with the child's status,
// no error line. The engine allocator's spare large blocks: reused before the spawn (strace
// counts the munmap calls), all given back once the child runs (gdb reads them).
//
// The static host only: the hardening project (vitest.config.ts) leaves this file out when the suite runs
// again with TSINIT_BIN=dist/tsinit-node. The Node executable alone maps 117 MB, and V8 then
// reserves its cage and code range. Measured with `prlimit --as=N dist/tsinit-node -- /bin/true`: below
// 117 MB the kernel cannot load it (SIGSEGV), from 150 MB to 1100 MB V8 aborts at start-up with
// "Fatal process out of memory" and a 20-line native stack trace (SIGTRAP, exit 133), from
// 1200 MB it runs. With 3000 orphans and `prlimit --pid` at its VmSize (1.2 GB) + 64 kB, it died
// of SIGILL (Fatal process out of memory: Worklist::Segment::Create) when the child exited.
// Those are known limits of the Node host (README, Known limits), not promises to test here.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { importStaticBuild } from '../helpers/build.ts';
import { killAll, ROOT, runInit, signalNumber } from '../helpers/pid1.ts';
import { childrenOf, statusKb, zombiesUnder } from '../helpers/proc.ts';
import { buildFixture, record, until, usePrivateInit } from './harness.ts';

const init = usePrivateInit();
afterEach(killAll);

const KB = 1024;
const PAGE = 4096;
/** The environment of every limited run: PATH alone, so that the arguments and environment fit in one page of the stack (execFloorKb). */
const ENV = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
/** The limits tried: every page up to 1600 kB (tsinit's start-up fails in every way there), then 64 kB steps to 4 MB. */
const LIMITS_KB = [...steps(256, 1600, 4), ...steps(1664, 4096, 64)];

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/**
 * The address space the kernel maps to exec bin, in kB; below it execve fails past its point of
 * no return and the kernel kills the process with SIGSEGV before any instruction of tsinit runs.
 * That is the PT_LOAD segments, page by page, and the stack: setup_arg_pages' 128 kB
 * (stack_expand in fs/exec.c) above one page of argument and environment strings.
 */
function execFloorKb(bin: string): number {
  const elf = readFileSync(bin);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1)
    throw new Error(`${bin} is not a little-endian ELF64 file`);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const pages = new Set<number>();
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 1) continue; // PT_LOAD
    const vaddr = Number(elf.readBigUInt64LE(ph + 0x10));
    const memsz = Number(elf.readBigUInt64LE(ph + 0x28));
    for (let p = Math.floor(vaddr / PAGE); p < Math.ceil((vaddr + memsz) / PAGE); p++) pages.add(p);
  }
  return (pages.size * PAGE + 128 * KB + PAGE) / KB;
}

interface Outcome {
  limitKb: number;
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** tsinit with args under RLIMIT_AS = limitKb, directly or as PID 1 (unshare re-raises a signal that killed it). */
function runLimited(limitKb: number, args: readonly string[], pid1: boolean): Outcome {
  const limited = ['prlimit', `--as=${limitKb * KB}`, init.bin, ...args];
  const argv = pid1 ? ['unshare', '--pid', '--fork', '--mount-proc', ...limited] : limited;
  const r = spawnSync(argv[0]!, argv.slice(1), { env: ENV, encoding: 'latin1', timeout: 20_000 });
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  return { limitKb, code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function describeOutcome(o: Outcome): string {
  const how = o.signal !== null ? `killed by ${o.signal}` : `exit ${o.code}`;
  return `${o.limitKb} kB: ${how}, stdout ${JSON.stringify(o.stdout.slice(0, 100))}, stderr ${JSON.stringify(o.stderr.slice(0, 200))}`;
}

/** One line on stderr, nothing on stdout, exit 1: tsinit failed before its child, and said so. */
function isOneLineFailure(o: Outcome): boolean {
  return o.signal === null && o.code === 1 && o.stdout === '' && /^tsinit: error: [^\n]+\n$/.test(o.stderr);
}

/**
 * Every limit from LIMITS_KB with the check for a run that tsinit could start: the outcomes that
 * break the promise, each as a line, and a tally of what happened. Below the floor only the
 * kernel's SIGSEGV, with no output at all, is expected (nothing of tsinit ran).
 */
function sweep(
  args: readonly string[],
  pid1: boolean,
  ran: (o: Outcome) => boolean,
): { broken: string[]; tally: Map<string, number>; firstRun: number | null } {
  const floor = execFloorKb(init.bin);
  const broken: string[] = [];
  const tally = new Map<string, number>();
  let firstRun: number | null = null;
  // The two pages around the floor pin the formula: a floor set too high would hide crashes.
  for (const limitKb of [floor - 4, floor, ...LIMITS_KB]) {
    const o = runLimited(limitKb, args, pid1);
    let kind: string;
    if (limitKb < floor) {
      kind = 'the kernel refused the exec';
      if (o.signal !== 'SIGSEGV' || o.stdout !== '' || o.stderr !== '')
        broken.push(`below the floor of ${floor} kB, not the kernel's SIGSEGV: ${describeOutcome(o)}`);
    } else if (ran(o)) {
      kind = 'ran';
      firstRun ??= limitKb;
    } else if (isOneLineFailure(o)) {
      kind = `exit 1 "${o.stderr.trim()}"`;
    } else {
      kind = 'broken';
      broken.push(describeOutcome(o));
    }
    tally.set(kind, (tally.get(kind) ?? 0) + 1);
  }
  return { broken, tally, firstRun };
}

function describeTally(t: Map<string, number>): string {
  return [...t].map(([k, n]) => `${n}× ${k}`).join('; ');
}

describe('the static host under an address-space limit at start-up', () => {
  let exit0 = '';
  beforeAll(() => {
    exit0 = buildFixture('exit0.c', init.dir);
  });

  it.each([
    ['directly (subreaper)', false],
    ['as PID 1', true],
  ])(
    '`tsinit -- exit0` %s: runs or writes one line and exits 1 at every limit, never a signal',
    (name, pid1) => {
      const ran = (o: Outcome): boolean => o.signal === null && o.code === 0 && o.stdout === '' && o.stderr === '';
      const { broken, tally, firstRun } = sweep(['--', exit0], pid1, ran);
      expect(broken).toEqual([]);
      // The range holds both ends of the promise: one line and exit 1 at the floor, a run at the top.
      expect(runLimited(execFloorKb(init.bin), ['--', exit0], pid1).code).toBe(1);
      expect(ran(runLimited(LIMITS_KB.at(-1)!, ['--', exit0], pid1))).toBe(true);
      // Among the limits some fail inside the engine itself (README: "An engine fault (out of
      // memory) is one line and exit 1"): Duktape's fatal handler in host.c says so and why.
      expect([...tally.keys()], describeTally(tally)).toContainEqual(
        expect.stringMatching(/^exit 1 "tsinit: error: fatal engine error: uncaught: 'alloc failed'"$/),
      );
      record(
        `RLIMIT_AS sweep, tsinit -- exit0, ${name}`,
        `floor ${execFloorKb(init.bin)} kB; runs from ${firstRun} kB; ${describeTally(tally)}`,
      );
    },
    300_000,
  );

  it('`tsinit --version`: prints the version or writes one line and exits 1 at every limit, never a signal', () => {
    const ran = (o: Outcome): boolean =>
      o.signal === null && o.code === 0 && /^tsinit version \S+ - duktape /.test(o.stdout) && o.stderr === '';
    const { broken, tally, firstRun } = sweep(['--version'], false, ran);
    expect(broken).toEqual([]);
    expect(ran(runLimited(LIMITS_KB.at(-1)!, ['--version'], false))).toBe(true);
    record('RLIMIT_AS sweep, tsinit --version', `runs from ${firstRun} kB; ${describeTally(tally)}`);
  }, 300_000);

  it.each([
    ['SIGSEGV', 'as PID 1', true],
    ['SIGBUS', 'as PID 1', true],
    ['SIGSEGV', 'directly (subreaper)', false],
    ['SIGBUS', 'directly (subreaper)', false],
  ])('a %s sent by kill() before the spawn is forwarded to the child, %s', async (sig, _name, pid1) => {
    // The fault signals are caught, not blocked, until the child runs. This one is sent to a
    // wrapper that blocks it and is still pending when the wrapper execs tsinit: tsinit takes it
    // the moment it unblocks it, before its child exists. It is no fault of tsinit's: tsinit must
    // neither die nor exit 1 but forward it once the child runs. The child (sleep, default
    // dispositions) dies of it at once: tsinit exits 128 + its number.
    const wrapper = [
      '-c',
      [
        'import os, signal, sys',
        `signal.pthread_sigmask(signal.SIG_BLOCK, {signal.${sig}})`,
        `os.kill(os.getpid(), signal.${sig})`,
        'os.execv(sys.argv[1], sys.argv[1:])',
      ].join('\n'),
      init.bin,
      '--',
      'sleep',
      '100',
    ];
    const r = runInit(wrapper, { init: 'python3', pid1 });
    expect(await r.exit(), r.output).toEqual({ code: 128 + signalNumber(sig), signal: null });
    expect(r.stderr).toBe('');
  });
});

describe('an address-space limit set on the running tsinit', () => {
  /** Orphans that stay alive: the drain's walk of /proc lists and signals every one, and that takes memory. */
  const ORPHANS = 3000;
  /** Orphans that exit on their own after the limit: tsinit must still reap them. */
  const EXITING = 50;
  /** What the limit leaves above tsinit's VmSize: less than the walk of 3000 processes takes (VmRSS grew 1 -> 5 MB). */
  const HEADROOM_KB = 64;
  /** The drain (5 s), the grace after its SIGKILL (2 s), and the walk, on 2 loaded cores. */
  const EXIT_BOUND_MS = 30_000;
  // The child: ORPHANS orphans that block reading a FIFO held open (orphan-burst, in a session of
  // their own: one kill -9 to the group ends them), then, on a line from stdin, EXITING orphans
  // that exit after 0.2 s; exits 7 when stdin closes.
  const CHILD = [
    'fifo="$1/held.fifo"; rm -f "$fifo"; mkfifo "$fifo" || exit 99; exec 3<>"$fifo"',
    'setsid "$1/orphan-burst" "$2" & group=$!; wait "$group" || exit 98',
    'echo "READY $group"',
    `while read -r _line; do i=0; while [ $i -lt ${EXITING} ]; do (sleep 0.2 &); i=$((i+1)); done; echo SPAWNED; done`,
    'exit 7',
  ].join('\n');

  beforeAll(() => {
    buildFixture('orphan-burst.c', init.dir);
  });

  it.each([
    ['as PID 1', true],
    ['directly (subreaper)', false],
  ])(
    "%s: keeps reaping, and exits with the child's status when it exits",
    async (_name, pid1) => {
      const r = runInit(['--', 'sh', '-c', CHILD, 'child', init.dir, String(ORPHANS)], { init: init.bin, pid1 });
      // tsinit's own exit, not the end of its output: in subreaper mode orphans the failed walks
      // could not name outlive it and hold its stdout and stderr open.
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
        r.proc.on('exit', (code, signal) => res({ code, signal })),
      );
      let group = 0;
      try {
        group = Number((await r.waitFor(/^READY (\d+)$/m, 60_000))[1]);
        const pid = await r.initPid();
        await until(`${ORPHANS} orphans below tsinit`, () => childrenOf(pid).length === ORPHANS + 1, 60_000, 200);
        const vmKb = statusKb(pid, 'VmSize');
        execFileSync('prlimit', ['--pid', String(pid), `--as=${(vmKb + HEADROOM_KB) * KB}`]);
        r.proc.stdin!.write('go\n');
        await r.waitFor(/^SPAWNED$/m);
        await until(
          `the ${EXITING} orphans that exit are reaped\n${r.output}`,
          () => childrenOf(pid).length === ORPHANS + 1 && zombiesUnder(pid).length === 0,
          30_000,
          200,
        );
        const t0 = performance.now();
        r.closeStdin();
        const e = await Promise.race([
          exited,
          new Promise((_, rej) =>
            setTimeout(() => rej(new Error(`no exit within ${EXIT_BOUND_MS} ms\n${r.output}`)), EXIT_BOUND_MS),
          ),
        ]);
        const ms = performance.now() - t0;
        expect(e, r.output).toEqual({ code: 7, signal: null });
        record(
          `RLIMIT_AS set on the running tsinit (${_name})`,
          `VmSize ${vmKb} kB + ${HEADROOM_KB} kB; ${EXITING} exiting orphans reaped; exit 7 ${ms.toFixed(0)} ms after the child's end; stderr ${JSON.stringify(r.stderr.slice(0, 300))}`,
        );
      } finally {
        // In subreaper mode what the drain could not reach outlives tsinit: the orphans are one group.
        if (group > 0)
          try {
            process.kill(-group, 'SIGKILL');
          } catch {
            /* gone with the namespace */
          }
      }
    },
    180_000,
  );
});

/** tsinit as dist/tsinit is built, with its symbols: gdb finds malloc and the engine allocator's lists by name. Built once. */
let symbolsBuild: Promise<string> | null = null;
function buildWithSymbols(): Promise<string> {
  symbolsBuild ??= (async () => {
    process.chdir(ROOT); // build.mjs resolves its inputs from the checkout
    const build = await importStaticBuild();
    const output = join(init.dir, 'tsinit-symbols');
    await build.buildStatic('linux-x64', { output, strip: false });
    return output;
  })();
  return symbolsBuild;
}

describe("the engine allocator's large blocks", () => {
  it('before the spawn a freed one is reused: `tsinit -- true` unmaps at most 12 regions (musl unmapped 21 when each was its own)', () => {
    const trace = join(init.dir, 'munmap.trace');
    const r = spawnSync('strace', ['-qq', '-e', 'trace=munmap', '-o', trace, init.bin, '--', 'true'], {
      encoding: 'utf8',
      env: ENV,
    });
    expect(r.status, r.stderr).toBe(0);
    const calls = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('munmap('));
    record('munmap calls of `tsinit -- true`', String(calls.length));
    expect(calls.length).toBeGreaterThan(0); // the trace saw the process: the spares at least go back
    expect(calls.length).toBeLessThanOrEqual(12);
  });

  it("once the child runs none is kept back: gdb reads host.c's spares, every one NULL", async () => {
    if (process.arch !== 'x64') throw new Error('this test builds and debugs the x86-64 static host');
    const withSymbols = await buildWithSymbols();
    const r = runInit(['--', 'sh', '-c', 'echo READY; read -r _line'], { init: withSymbols, pid1: false });
    try {
      await r.waitFor(/^READY$/m);
      const pid = await r.initPid();
      const out = execFileSync(
        'gdb',
        ['-q', '-batch', '-nx', '-p', String(pid), '-ex', 'print (void *[4]) spares', '-ex', 'detach'],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      expect(out).toMatch(/^\$1 = \{0x0, 0x0, 0x0, 0x0\}$/m);
    } finally {
      r.proc.stdin!.write('go\n');
      expect(await r.exit(10_000)).toEqual({ code: 0, signal: null });
    }
  }, 120_000);
});

describe('out of memory forced on the running tsinit once its child runs', () => {
  let withSymbols = '';
  beforeAll(async () => {
    withSymbols = await buildWithSymbols();
  }, 120_000);

  /**
   * Leaves tsinit (pid) no memory to allocate: RLIMIT_AS at its VmSize (no new mapping), then
   * gdb takes every block malloc still has and drops the engine allocator's free blocks and the
   * rest of its current mapping. From then on every allocation that needs more than what a
   * later free gives back fails. What remains is what host.c holds back for after the spawn.
   */
  function exhaust(pid: number): string {
    execFileSync('prlimit', ['--pid', String(pid), `--as=${statusKb(pid, 'VmSize') * KB}`]);
    const freeListBytes = Number.parseInt(
      /^\S+ (\S+) b free_list$/m.exec(execFileSync('nm', ['-S', withSymbols], { encoding: 'utf8' }))![1]!,
      16,
    );
    const script = join(init.dir, `exhaust-${pid}.py`);
    writeFileSync(
      script,
      [
        'import gdb',
        'n = 0',
        'for size in (1 << 20, 1 << 16, 4096, 1024, 256, 64, 16):',
        '    while int(gdb.parse_and_eval("((void *(*)(unsigned long)) malloc)(%d)" % size)) != 0:',
        '        n += 1',
        `for i in range(${freeListBytes / 8}):`,
        '    gdb.execute("set var ((void **) &free_list)[%d] = 0" % i)',
        'gdb.execute("set var *(char **) &mapped_next = *(char **) &mapped_end")',
        'print("EXHAUSTED after %d blocks from malloc" % n)',
      ].join('\n'),
    );
    const out = execFileSync(
      'gdb',
      ['-q', '-batch', '-nx', '-p', String(pid), '-ex', `source ${script}`, '-ex', 'detach'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(out).toMatch(/^EXHAUSTED after \d+ blocks from malloc$/m);
    return out;
  }

  /** utime + stime of pid in clock ticks, or null once it is gone. */
  function cpuTicks(pid: number): number | null {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return null;
    }
  }

  // The child ignores the two signals (they are forwarded to it all the same), says READY, and
  // exits 7 on a line from stdin.
  const CHILD = ['-c', 'trap "" HUP USR1; echo READY; read -r _line; exit 7'];

  it.each([
    ['as PID 1', true, []],
    ['directly (subreaper), -v', false, ['-v']],
  ])(
    "%s: signals go through, the child's end is reaped, and tsinit exits with its status, at once and with no error",
    async (name, pid1, flags) => {
      if (process.arch !== 'x64') throw new Error('this test builds and debugs the x86-64 static host');
      const r = runInit([...flags, '--', 'sh', ...CHILD], { init: withSymbols, pid1 });
      await r.waitFor(/^READY$/m);
      const pid = await r.initPid();
      exhaust(pid);
      const ticks0 = cpuTicks(pid)!;
      process.kill(pid, 'SIGHUP');
      process.kill(pid, 'SIGUSR1');
      r.proc.stdin!.write('go\n');
      const t0 = performance.now();
      let ticks = 0;
      const done = r.exit(10_000);
      // tsinit's CPU time until it is gone: a spin of the loop would show here.
      for (let t = cpuTicks(pid); t !== null; t = cpuTicks(pid)) {
        ticks = t - ticks0;
        if (ticks > 50) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      expect(await done, r.output).toEqual({ code: 7, signal: null });
      const ms = performance.now() - t0;
      expect(ticks, r.output).toBeLessThanOrEqual(50); // half a second of CPU
      // What the exit path needed, it had: no error line (a report of a failed allocation), and with -v the exit's own line.
      if (flags.length === 0) expect(r.stderr).toBe('');
      else
        expect(r.stderr, r.output).toMatch(
          /^(tsinit: (?!error)[^\n]*\n)*tsinit: child \d+ exited with 7\n(tsinit: (?!error)[^\n]*\n)*tsinit: exiting with 7\n$/,
        );
      record(
        `out of memory forced after the spawn (${name})`,
        `exit 7 ${ms.toFixed(0)} ms after the child's go, ${ticks} ticks of CPU; stderr ${JSON.stringify(r.stderr.slice(0, 300))}`,
      );
    },
    60_000,
  );
});
