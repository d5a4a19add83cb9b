// What tsinit does before it spawns, decided once for both hosts: the logger and its first
// line, a subreaper when tsinit is not PID 1, the parent-death signal. A host passes its libc
// calls in; nothing here touches the system itself, and nothing here may end tsinit.
import { describeConfig, type Config } from './cli.ts';
import { createLogger, type Logger, type LogSink } from './log.ts';
import type { ProcReader, SetupCalls } from './host.ts';
import { checkProcView } from './proc.ts';

export type { SetupCalls };

/** The logger the config asks for, writing through write; its first line (debug) is the config. */
export function createLog(config: Config, write: LogSink): Logger {
  const log = createLogger(config.logFormat, config.verbosity, write);
  // Described only when the line is written (-vv): on the static host the text took 40 µs of every start.
  if (log.enabled('config')) log.log('config', describeConfig(config));
  return log;
}

/** Not PID 1: become a subreaper so orphans still come to us (before the spawn, so none slips by). */
export function configureReaping(calls: SetupCalls, log: Logger): void {
  const pid = calls.getpid();
  if (pid === 1) return;
  const err = calls.becomeSubreaper();
  if (err === 0) log.log('subreaper', `not PID 1 (pid ${pid}): registered as a child subreaper`);
  else
    log.log(
      'warning',
      `not PID 1 and cannot become a subreaper: ${calls.describeErrno(err)}; orphans will not be reaped`,
    );
}

/** --pdeath-signal: the kernel sends it to tsinit when tsinit's parent dies. */
export function configureParentDeath(calls: SetupCalls, config: Config, log: Logger): void {
  if (config.pdeathSignal === null) return;
  const err = calls.setParentDeathSignal(config.pdeathSignal);
  if (err !== 0) log.log('warning', `cannot set the parent-death signal: ${calls.describeErrno(err)}`);
}

/**
 * Whether tsinit may read process numbers from /proc: only a /proc of its own pid namespace.
 * One of another namespace (unshare --pid without --mount-proc, a bind of the host's procfs)
 * is treated as absent, with one warning: its numbers name other processes here.
 */
export function configureProc(proc: ProcReader, calls: Pick<SetupCalls, 'getpid'>, log: Logger): boolean {
  const view = checkProcView(proc, calls.getpid());
  if (view === 'foreign')
    log.log(
      'warning',
      "/proc shows another pid namespace than tsinit's: not reading it (mount a proc of this namespace for the drain to see every descendant)",
    );
  if (view === 'absent') log.log('config', "no /proc: the drain can name only the child's group");
  return view === 'ours';
}
