// With a terminal on stdin, the child's process group becomes the terminal's foreground
// group: Ctrl-C reaches it, Ctrl-Z stops it (tsinit stays up), and bash -i has job control.
// Each test runs the executable under test (TSINIT_BIN: dist/tsinit; dist/tsinit-node in
// `npm run test:node`, the arm64 build in `npm run test:arm64`) as PID 1 on a pseudo-terminal made by test/fixtures/pty_run.py.
import { afterEach, describe, expect, it } from 'vitest';
import { expectForwarded, expectInitAnswers } from '../helpers/expect.ts';
import { fixture, killAll, Run, TSINIT } from '../helpers/pid1.ts';
import { childrenOf, readStat, stateOf, until } from '../helpers/proc.ts';

afterEach(killAll);

function onTerminal(args: string[]): Run {
  return new Run(fixture('pty_run.py'), ['unshare', '--pid', '--fork', '--mount-proc', TSINIT, ...args], {});
}

function type(run: Run, bytes: string): void {
  run.proc.stdin!.write(Buffer.from(bytes, 'latin1').toString('hex') + '\n');
}

/** The first child of pid on the host: pty_run → unshare → tsinit → child. */
function childOf(pid: number): number {
  const kid = childrenOf(pid)[0];
  if (kid === undefined) throw new Error(`no child under ${pid}`);
  return kid;
}

/** Until pid's group is the terminal's foreground group, where Ctrl-Z must land: a failure says which group holds it instead. */
async function untilForeground(pid: number, run: Run): Promise<void> {
  await until(
    () => `${pid} in the foreground (${JSON.stringify(readStat(pid))})\n${run.output}`,
    () => {
      const s = readStat(pid);
      return s !== null && s.tpgid === s.pgrp;
    },
  );
}

describe('a terminal on stdin, tsinit not PID 1 (the session leader of the terminal)', () => {
  it('the child reads and writes the terminal: tac', async () => {
    const r = new Run(fixture('pty_run.py'), [TSINIT, 'tac'], {});
    type(r, '1\n2\n3\n');
    await r.waitFor(/3\r?\n/);
    type(r, '\x04\x04');
    expect((await r.exit()).code).toBe(0);
    expect(r.stdout).toMatch(/3\r\n2\r\n1\r\n/);
  });

  it('bash -m has job control', async () => {
    const r = new Run(fixture('pty_run.py'), [TSINIT, 'bash', '--norc', '-m'], {});
    type(r, 'echo "flags are: [[$-]]"\n');
    const m = await r.waitFor(/flags are: \[\[([a-zA-Z]+)\]\]/);
    expect(m[1]).toContain('m');
    type(r, 'exit 0\n');
    expect((await r.exit()).code).toBe(0);
    expect(r.stdout).not.toMatch(/cannot set terminal process group|no job control/);
  });
});

describe('a terminal on stdin', () => {
  it('the child group is the foreground group of the terminal', async () => {
    const r = onTerminal(['--', fixture('report.sh')]);
    r.closeStdin();
    expect((await r.exit()).code).toBe(0);
    const m = /PGRP (\d+) SID (\d+) TPGID (\d+)/.exec(r.stdout);
    expect(m, r.output).not.toBeNull();
    expect(m![3]).toBe(m![1]);
  });

  it('Ctrl-C reaches the child; tsinit stays up', async () => {
    const r = onTerminal(['--', fixture('signals.py')]);
    await r.waitFor(/READY/);
    type(r, '\x03');
    await expectForwarded(r, 'SIGINT');
    type(r, '\x04'); // EOF: the fixture exits 0
    expect((await r.exit()).code).toBe(0);
  });

  it('Ctrl-Z stops the child, tsinit stays up, SIGCONT to tsinit resumes it', async () => {
    // The child execs sleep rather than looping over it: a Ctrl-Z that lands while dash waits
    // for a vforked sleep stops that sleep and leaves dash in D, never T (seen under load).
    const r = onTerminal([
      '-vv',
      '--',
      'sh',
      '-c',
      'echo "READY tpgid=$(cut -d" " -f8 /proc/$$/stat) pgrp=$(cut -d" " -f5 /proc/$$/stat)"; exec sleep 1000',
    ]);
    await r.waitFor(/READY/);
    const tsinit = childOf(childOf(r.proc.pid!));
    const child = childOf(tsinit);
    await untilForeground(child, r);
    type(r, '\x1a');
    await until(
      () => `child stopped (state ${stateOf(child)})\n${r.output}`,
      () => stateOf(child) === 'T',
    );
    // tsinit still handles signals (a stopped one could not log this), after the Ctrl-Z.
    await expectInitAnswers(r, tsinit, 'stdout');
    expect(stateOf(tsinit)).not.toBe('T');
    expect(stateOf(child)).toBe('T');
    process.kill(tsinit, 'SIGCONT');
    await until('child running again', () => stateOf(child) !== 'T');
    process.kill(tsinit, 'SIGTERM');
    expect((await r.exit()).code).toBe(143);
  });

  it('run from an interactive shell: Ctrl-Z stops the child, tsinit stays up, the shell gets no prompt (as tini, catatonit)', async () => {
    // bash -i is the terminal's session leader and tsinit its foreground job; tsinit hands the
    // terminal to the child's group, so Ctrl-Z reaches the child alone. (dumb-init stops itself
    // too, and bash reports "[1]+ Stopped" with a new prompt.)
    const r = new Run(fixture('pty_run.py'), ['bash', '--norc', '--noprofile', '-i'], {});
    type(r, 'PS1="PROMPT> "\n');
    await r.waitFor(/PROMPT> /);
    // -v: tsinit's log, on the terminal, is how the test sees it still handling signals.
    // exec sleep, not a loop over it: see 'Ctrl-Z stops the child' above.
    type(r, `${TSINIT} -v -- sh -c 'echo "CHILD $$"; exec sleep 1000'\n`);
    const child = Number((await r.waitFor(/CHILD (\d+)/))[1]);
    const tsinit = readStat(child)!.ppid;
    await untilForeground(child, r);
    const shown = r.stdout.length;
    type(r, '\x1a');
    await until(
      () => `child stopped (state ${stateOf(child)})\n${r.output}`,
      () => stateOf(child) === 'T',
    );
    // tsinit still handles signals after the Ctrl-Z: a stopped one could not log this.
    await expectInitAnswers(r, tsinit, 'stdout');
    expect(stateOf(tsinit)).not.toBe('T');
    expect(r.stdout.slice(shown)).not.toMatch(/Stopped|PROMPT> /);
    // The way out, from elsewhere: CONT to tsinit resumes the child; TERM ends it and the prompt returns.
    process.kill(tsinit, 'SIGCONT');
    await until('child running again', () => stateOf(child) !== 'T');
    process.kill(tsinit, 'SIGTERM');
    await r.waitFor(/PROMPT> [^]*$/);
    await until('tsinit gone', () => stateOf(tsinit) === '?');
    expect(r.stdout.slice(shown)).not.toMatch(/Stopped/);
    type(r, 'exit 0\n');
    expect((await r.exit()).code).toBe(0);
  });

  it('bash -i has job control', async () => {
    const r = onTerminal(['--', 'bash', '--norc', '--noprofile', '-i']);
    type(r, 'PS1="PROMPT> "\n');
    await r.waitFor(/PROMPT> /);
    type(r, 'sleep 30 &\n');
    await r.waitFor(/\[1\] \d+/);
    // `wait %1` right after the KILL can still find the job stopped (bash has not taken the
    // SIGCHLD yet): it warns and returns, and `exit` then refuses ("There are stopped jobs").
    // So poll the job table until bash has reported the death and dropped the job.
    type(
      r,
      'kill -STOP %1; until jobs -l | grep -q Stopped; do sleep 0.05; done; jobs -l; kill -KILL %1; while jobs %1 >/dev/null 2>&1; do sleep 0.05; done; echo DO""NE\n',
    );
    await r.waitFor(/^DONE/m);
    expect(r.stdout).toMatch(/\[1\]\+\s+\d+ Stopped/);
    type(r, 'exit 5\n');
    expect((await r.exit()).code).toBe(5);
    expect(r.stdout).not.toMatch(/cannot set terminal process group|no job control/);
  });
});
