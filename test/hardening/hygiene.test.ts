// The hygiene items of issue 19, against the built tsinit (either host), as PID 1 and as a
// subreaper: fds 0-2 closed at start are opened on /dev/null before anything else; a TSINIT_*
// variable given twice counts with its first value; the text log escapes the control
// characters of the argv it repeats; a usage error cuts a long value and refuses a duration
// that rounds to 0 ms; the child starts with all 64 signals at their default action, also
// 32-34, which musl's sigaction refuses.
import type { SpawnOptions } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { expectErrorLine, expectUsageError } from '../helpers/expect.ts';
import { cleanEnv, DirectRun, fixture, killAll, Pid1Run, runToEnd, type InitRun } from '../helpers/pid1.ts';

const FIXTURES_SIGNALS = fixture('signals.py');
import { hfixture, usePrivateInit } from './harness.ts';

const init = usePrivateInit();
afterEach(killAll);

const MODES = [
  ['as PID 1', true],
  ['as a subreaper', false],
] as const;
const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc'];

/** wrapper (a fixture that sets something up, then execs the rest) → tsinit, as PID 1 or directly. */
function runWrapped(
  wrapper: string,
  wrapperArgs: readonly string[],
  initArgs: readonly string[],
  pid1: boolean,
  opts: SpawnOptions = {},
): InitRun {
  const args = [...wrapperArgs, '--', ...(pid1 ? UNSHARE : []), init.bin, ...initArgs];
  return pid1 ? new Pid1Run(hfixture(wrapper), args, opts) : new DirectRun(hfixture(wrapper), args, opts);
}

describe('tsinit started with fds 0, 1 and 2 closed', () => {
  // The child reports on fd 3, an inherited descriptor both hosts pass on.
  const REPORT = [
    'import json, os',
    "fds = [os.readlink(f'/proc/self/fd/{n}') if os.path.lexists(f'/proc/self/fd/{n}') else 'closed' for n in range(3)]",
    "first = os.open('/etc/hostname', os.O_RDONLY)",
    "os.write(3, (json.dumps({'fds': fds, 'first': first}) + '\\n').encode())",
  ].join('\n');

  it.each(MODES)(
    '%s: the child finds /dev/null on 0, 1 and 2, and its first open() gets none of them',
    async (_mode, pid1) => {
      const r = runWrapped('stdio-wrap.py', ['closed', 'closed', 'closed'], ['--', 'python3', '-c', REPORT], pid1, {
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      });
      let fd3 = '';
      r.proc.stdio[3]!.on('data', (d: Buffer) => {
        fd3 += d.toString();
      });
      expect((await r.exit()).code, `${r.output}\n--- fd 3:\n${fd3}`).toBe(0);
      const report = JSON.parse(fd3) as { fds: string[]; first: number };
      expect(report.fds).toEqual(['/dev/null', '/dev/null', '/dev/null']);
      expect(report.first).toBeGreaterThan(2);
    },
  );
});

describe('a TSINIT_* variable given twice counts once, with its first value (as getenv)', () => {
  const PATH = `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`;
  it.each(MODES)('%s', async (_mode, pid1) => {
    const CASES: { env: string[]; command: string[]; code: number; stderr: RegExp }[] = [
      // The child exits 3; only the first value remaps it to 0.
      { env: ['TSINIT_REMAP_EXIT=3', 'TSINIT_REMAP_EXIT=4'], command: ['sh', '-c', 'exit 3'], code: 0, stderr: /^$/ },
      { env: ['TSINIT_REMAP_EXIT=4', 'TSINIT_REMAP_EXIT=3'], command: ['sh', '-c', 'exit 3'], code: 3, stderr: /^$/ },
      // A bad first value is the usage error, whatever follows it.
      {
        env: ['TSINIT_DRAIN=soon', 'TSINIT_DRAIN=1s'],
        command: ['true'],
        code: 2,
        stderr: /^tsinit: error: invalid value for TSINIT_DRAIN: 'soon' .*\n$/,
      },
      {
        env: ['TSINIT_VERBOSITY=1', 'TSINIT_VERBOSITY=0'],
        command: ['true'],
        code: 0,
        stderr: /^tsinit: spawned pid \d+: true$/m,
      },
      { env: ['TSINIT_VERBOSITY=0', 'TSINIT_VERBOSITY=1'], command: ['true'], code: 0, stderr: /^$/ },
    ];
    for (const c of CASES) {
      const r = runWrapped('exec-env.py', [...c.env, PATH], ['--', ...c.command], pid1);
      const e = await r.exit();
      expect({ env: c.env, code: e.code, stderr: r.stderr }).toEqual({
        env: c.env,
        code: c.code,
        stderr: expect.stringMatching(c.stderr),
      });
    }
  });
});

describe('the text log escapes control characters in the argv it repeats', () => {
  it.each(MODES)(
    '%s: an argument with "\\ntsinit: error: forged" stays inside the -v spawn line',
    async (_mode, pid1) => {
      const r = await runToEnd(['-v', '--', 'true', 'x\ntsinit: error: forged', 'bell\u0007'], {
        init: init.bin,
        pid1,
      });
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stderr.split('\n');
      expect(
        lines.filter((l) => l.startsWith('tsinit: error:')),
        r.stderr,
      ).toEqual([]);
      expect(
        lines.filter((l) => l.startsWith('tsinit: spawned pid ')),
        r.stderr,
      ).toEqual([expect.stringMatching(/^tsinit: spawned pid \d+: true x\\ntsinit: error: forged bell\\x07$/)]);
    },
  );

  it.each(MODES)('%s: a command that cannot run, named with a newline, is one error line', async (_mode, pid1) => {
    const r = await runToEnd(['--', './no\ntsinit: error: forged'], { init: init.bin, pid1 });
    expectErrorLine(r, 127, "cannot run './no\\ntsinit: error: forged': No such file or directory (ENOENT)");
  });
});

describe('usage errors', () => {
  const LONG = 'z'.repeat(100_000);
  const CUT = `'${'z'.repeat(64)}...' (100000 characters)`;

  it.each(MODES)('%s: a 100 kB value is repeated cut to 64 characters, with its length', async (_mode, pid1) => {
    const cases: [string[], Record<string, string>, string][] = [
      [['--drain', LONG, 'true'], {}, `invalid value for --drain: ${CUT} (expected e.g.`],
      [[`--${LONG}`, 'true'], {}, `unknown option '--${'z'.repeat(62)}...' (100002 characters) (try 'tsinit --help')`],
      [['true'], { TSINIT_KILL_AFTER: LONG }, `invalid value for TSINIT_KILL_AFTER: ${CUT} (expected e.g.`],
    ];
    for (const [args, env, message] of cases) {
      const r = await runToEnd(args, { init: init.bin, pid1, env: cleanEnv(env) });
      expectUsageError(r, message);
      expect(r.stderr.length).toBeLessThan(300);
    }
  });

  it.each(MODES)('%s: a duration that rounds to 0 ms is refused, and the command never runs', async (_mode, pid1) => {
    const reason = '(rounds to 0ms: expected 0 or at least 1ms)';
    const cases: [string[], Record<string, string>, string][] = [
      [['--drain', '0.0001'], {}, `invalid value for --drain: '0.0001' ${reason}`],
      [['--kill-after=0.4ms'], {}, `invalid value for --kill-after: '0.4ms' ${reason}`],
      [['--term-delay', '0.0000001h'], {}, `invalid value for --term-delay: '0.0000001h' ${reason}`],
      [[], { TSINIT_DRAIN: '0.0004s' }, `invalid value for TSINIT_DRAIN: '0.0004s' ${reason}`],
    ];
    for (const [opts, env, message] of cases) {
      // expectUsageError checks stdout is empty: the command's RAN never came.
      const r = await runToEnd([...opts, '--', 'echo', 'RAN'], { init: init.bin, pid1, env: cleanEnv(env) });
      expectUsageError(r, message);
    }
    // 0 itself still means "none": the drain ends at once.
    const zero = await runToEnd(['--drain', '0', '--', 'echo', 'RAN'], { init: init.bin, pid1 });
    expect({ code: zero.code, stdout: zero.stdout }).toEqual({ code: 0, stdout: 'RAN\n' });
  });
});

describe('the child starts with every signal at its default action', () => {
  // 32 and 33 are glibc's, 34 musl's: each libc's sigaction refuses its own. 40 and 64 stand for
  // the other realtime signals; the wrapper (Python) also leaves SIGPIPE and SIGXFSZ ignored.
  // The kernel never discards a blocked signal as ignored (sig_ignored() in kernel/signal.c):
  // the static host, which blocks every signal from its first instruction, gets these in its
  // sigtimedwait; the Node host installs its own handlers over the inherited SIG_IGN.
  it.each(MODES)(
    "%s: HUP, INT and RTMIN+6 ignored by tsinit's parent (nohup, a shell's background job) still reach the child",
    async (_mode, pid1) => {
      const r = runWrapped('ignore-exec.py', ['1,2,40'], ['--', FIXTURES_SIGNALS, '0'], pid1);
      await r.waitFor(/^READY/m);
      for (const sig of [1, 2, 40]) {
        process.kill(await r.initPid(), sig);
        await r.waitFor(new RegExp(`^child got ${sig}$`, 'm'));
      }
      r.closeStdin();
      expect((await r.exit()).code, r.output).toBe(0);
    },
  );

  it.each(MODES)(
    "%s: signals 32, 33, 34, 40 and 64 ignored by tsinit's parent are not ignored in the child",
    async (_mode, pid1) => {
      const r = runWrapped('ignore-exec.py', ['32,33,34,40,64'], ['--', 'grep', '^SigIgn:', '/proc/self/status'], pid1);
      expect((await r.exit()).code, r.output).toBe(0);
      expect(r.stdout, r.output).toBe('SigIgn:\t0000000000000000\n');
    },
  );
});
