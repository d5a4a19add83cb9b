// Bad command lines and TSINIT_* values, each with the whole message tsinit must give, written
// by hand from the README and STYLE.md (the option, the value repeated, what is valid), never by
// calling the parser. One table for both sides: the parser's unit tests (test/unit/cli.test.ts,
// also run inside Duktape: plain data only) and the built executables (test/hardening/cli-errors.test.ts),
// where each row is exit USAGE_EXIT and exactly the line `tsinit: error: <message>`.

/** tsinit's exit code for a bad command line or variable (README, Exit codes). */
export const USAGE_EXIT = 2;

/** argv after tsinit's own name, the TSINIT_* variables set, the whole message (no `tsinit: error: `, no newline). */
export type UsageErrorRow = [args: string[], env: Record<string, string>, message: string];

// What each kind of value accepts, as the messages say it.
const DURATION = '(expected e.g. 500ms, 10s, 2m, 1h or a number of seconds)';
const ROUNDS_TO_0 = '(rounds to 0ms: expected 0 or at least 1ms)';
const TOO_LONG = '(too long: at most 24 days)';
const SIGNAL = '(expected a signal name or number 1..31 or 34..64, e.g. TERM, SIGTERM, 15)';
const RESERVED =
  '(signals 32 and 33 are reserved by glibc for its threads; expected 1..31 or 34..64, e.g. TERM, 15, RTMIN+1)';
const PAIR = '(expected FROM:TO, e.g. TERM:QUIT or 15:0)';
const EXIT_CODE = '(expected an exit code 0..255)';
const LOG_FORMAT = '(expected text or json)';
const SWITCH = '(expected 1/0, true/false, yes/no, on/off)';
const VERBOSITY = '(expected 0, 1 or 2 (higher counts as 2))';
const TRY_HELP = "(try 'tsinit --help')";
const NO_COMMAND = 'no command given (usage: tsinit [options] [--] command [args...])';

// A value is repeated up to 64 characters; past that, cut, with its whole length.
const X64 = 'x'.repeat(64);

export const USAGE_ERRORS: readonly UsageErrorRow[] = [
  [[], {}, NO_COMMAND],
  [['-v'], {}, NO_COMMAND],
  [['--'], {}, NO_COMMAND],
  [['-v', '--'], {}, NO_COMMAND],

  [['--bogus', 'true'], {}, `unknown option '--bogus' ${TRY_HELP}`],
  [['-x', 'true'], {}, `unknown option '-x' ${TRY_HELP}`],
  [['-vx', 'true'], {}, `unknown option '-x' ${TRY_HELP}`],
  [['--tini-g', 'true'], {}, `unknown option '--tini-g' ${TRY_HELP}`],
  [['--inspect=0.0.0.0:9229', 'true'], {}, `unknown option '--inspect' ${TRY_HELP}`],
  [['--drain'], {}, "option '--drain' needs a value: DURATION"],
  [['-r'], {}, "option '-r' needs a value: FROM:TO"],
  [['-v', '-e'], {}, "option '-e' needs a value: CODE"],
  [['--help=1'], {}, "option '--help' takes no value (got '1')"],
  [['--wait-all=yes', 'true'], {}, "option '--wait-all' takes no value (got 'yes')"],
  [['--wait-all=1', 'true'], {}, "option '--wait-all' takes no value (got '1')"],

  [['--drain', '10x', 'true'], {}, `invalid value for --drain: '10x' ${DURATION}`],
  [['--drain=', 'true'], {}, `invalid value for --drain: '' ${DURATION}`],
  [['--kill-after', '-1', 'true'], {}, `invalid value for --kill-after: '-1' ${DURATION}`],
  [['--kill-after=-1', 'true'], {}, `invalid value for --kill-after: '-1' ${DURATION}`],
  [['--term-delay', '', 'true'], {}, `invalid value for --term-delay: '' ${DURATION}`],
  [['--term-delay', '1e3', 'true'], {}, `invalid value for --term-delay: '1e3' ${DURATION}`],
  [['--drain', '30d', 'true'], {}, `invalid value for --drain: '30d' ${DURATION}`],
  [['--drain', '999999999', 'true'], {}, `invalid value for --drain: '999999999' ${TOO_LONG}`],
  [['--drain', '600h', 'true'], {}, `invalid value for --drain: '600h' ${TOO_LONG}`],
  // A duration that rounds to 0 would silently mean "none" (--drain 0 exits at once).
  [['--drain', '0.0001', 'true'], {}, `invalid value for --drain: '0.0001' ${ROUNDS_TO_0}`],
  [['--kill-after=0.4ms', 'true'], {}, `invalid value for --kill-after: '0.4ms' ${ROUNDS_TO_0}`],
  [['--term-delay', '0.0000001h', 'true'], {}, `invalid value for --term-delay: '0.0000001h' ${ROUNDS_TO_0}`],

  [['-p', 'NOPE', 'true'], {}, `invalid value for -p: 'NOPE' ${SIGNAL}`],
  [['-p', '0', 'true'], {}, `invalid value for -p: '0' ${SIGNAL}`],
  [['--pdeath-signal', '0', 'true'], {}, `invalid value for --pdeath-signal: '0' ${SIGNAL}`],
  [['-p', '65', 'true'], {}, `invalid value for -p: '65' ${SIGNAL}`],
  [['-p', 'RTMIN+31', 'true'], {}, `invalid value for -p: 'RTMIN+31' ${SIGNAL}`],
  [
    ['--pdeath-signal', '99999999999999999999', 'true'],
    {},
    `invalid value for --pdeath-signal: '99999999999999999999' ${SIGNAL}`,
  ],
  // glibc reserves 32 and 33: as -p tsinit would die of its parent's death; as -r it never arrives.
  [['-p', '32', 'true'], {}, `invalid value for -p: '32' ${RESERVED}`],
  [['--pdeath-signal=33', 'true'], {}, `invalid value for --pdeath-signal: '33' ${RESERVED}`],
  [['-r', '32:15', 'true'], {}, `invalid value for -r: '32' ${RESERVED}`],
  [['-r', 'TERM:33', 'true'], {}, `invalid value for -r: '33' ${RESERVED}`],
  [['--rewrite', '33:0', 'true'], {}, `invalid value for --rewrite: '33' ${RESERVED}`],

  // A FROM:TO pair is named whole when its shape is wrong, by its wrong half otherwise.
  [['-r', 'TERM', 'true'], {}, `invalid value for -r: 'TERM' ${PAIR}`],
  [['-r', 'TERM:QUIT:HUP', 'true'], {}, `invalid value for -r: 'TERM:QUIT:HUP' ${PAIR}`],
  [['-r', ':TERM', 'true'], {}, `invalid value for -r: ':TERM' ${PAIR}`],
  [['-r', 'FOO:QUIT', 'true'], {}, `invalid value for -r: 'FOO' ${SIGNAL}`],
  [['-r', 'TERM:FOO', 'true'], {}, `invalid value for -r: 'FOO' ${SIGNAL}`],
  [['--rewrite', 'TERM:99', 'true'], {}, `invalid value for --rewrite: '99' ${SIGNAL}`],
  [
    ['-r', 'KILL:TERM', 'true'],
    {},
    "invalid value for -r: 'KILL:TERM' (SIGKILL never reaches tsinit as a request to forward)",
  ],
  [
    ['--rewrite=STOP:TERM', 'true'],
    {},
    "invalid value for --rewrite: 'STOP:TERM' (SIGSTOP never reaches tsinit as a request to forward)",
  ],
  [
    ['-r', 'CHLD:HUP', 'true'],
    {},
    "invalid value for -r: 'CHLD:HUP' (SIGCHLD never reaches tsinit as a request to forward)",
  ],

  [['-e', '256', 'true'], {}, `invalid value for -e: '256' ${EXIT_CODE}`],
  [['-e', '-1', 'true'], {}, `invalid value for -e: '-1' ${EXIT_CODE}`],
  [['-e1.5', 'true'], {}, `invalid value for -e: '1.5' ${EXIT_CODE}`],
  [['--remap-exit', 'abc', 'true'], {}, `invalid value for --remap-exit: 'abc' ${EXIT_CODE}`],
  [['--log-format', 'xml', 'true'], {}, `invalid value for --log-format: 'xml' ${LOG_FORMAT}`],

  // Control characters are escaped, so the message stays one line and cannot drive a terminal.
  [['--drain', '1\nx', 'true'], {}, `invalid value for --drain: '1\\x0ax' ${DURATION}`],
  [['-p', '\u001b[31mRED', 'true'], {}, `invalid value for -p: '\\x1b[31mRED' ${SIGNAL}`],
  [['--bo\rgus', 'true'], {}, `unknown option '--bo\\x0dgus' ${TRY_HELP}`],
  [['--drain', X64, 'true'], {}, `invalid value for --drain: '${X64}' ${DURATION}`],
  [
    ['--drain', 'x'.repeat(100_000), 'true'],
    {},
    `invalid value for --drain: '${X64}...' (100000 characters) ${DURATION}`,
  ],
  [[`--${'y'.repeat(200)}`, 'true'], {}, `unknown option '--${'y'.repeat(62)}...' (202 characters) ${TRY_HELP}`],
  [
    [`--wait-all=${'z'.repeat(65)}`, 'true'],
    {},
    `option '--wait-all' takes no value (got '${'z'.repeat(64)}...' (65 characters))`,
  ],
  // Cut first, then escaped.
  [['-p', '\n'.repeat(100), 'true'], {}, `invalid value for -p: '${'\\x0a'.repeat(64)}...' (100 characters) ${SIGNAL}`],

  [['true'], { TSINIT_DRAIN: 'soon' }, `invalid value for TSINIT_DRAIN: 'soon' ${DURATION}`],
  [['true'], { TSINIT_KILL_AFTER: 'forever' }, `invalid value for TSINIT_KILL_AFTER: 'forever' ${DURATION}`],
  [['true'], { TSINIT_KILL_AFTER: '0.4ms' }, `invalid value for TSINIT_KILL_AFTER: '0.4ms' ${ROUNDS_TO_0}`],
  [['true'], { TSINIT_TERM_DELAY: '0.0001' }, `invalid value for TSINIT_TERM_DELAY: '0.0001' ${ROUNDS_TO_0}`],
  [['true'], { TSINIT_VERBOSITY: 'loud' }, `invalid value for TSINIT_VERBOSITY: 'loud' ${VERBOSITY}`],
  [['true'], { TSINIT_SINGLE_CHILD: 'maybe' }, `invalid value for TSINIT_SINGLE_CHILD: 'maybe' ${SWITCH}`],
  [['true'], { TSINIT_WAIT_ALL: '2' }, `invalid value for TSINIT_WAIT_ALL: '2' ${SWITCH}`],
  [['true'], { TSINIT_WARN_ON_REAP: 'perhaps' }, `invalid value for TSINIT_WARN_ON_REAP: 'perhaps' ${SWITCH}`],
  [['true'], { TSINIT_REWRITE: 'TERM' }, `invalid value for TSINIT_REWRITE: 'TERM' ${PAIR}`],
  [['true'], { TSINIT_REWRITE: 'TERM:BAD' }, `invalid value for TSINIT_REWRITE: 'BAD' ${SIGNAL}`],
  [['true'], { TSINIT_REWRITE: 'HUP:1,33:TERM' }, `invalid value for TSINIT_REWRITE: '33' ${RESERVED}`],
  [['true'], { TSINIT_REWRITE: 'TERM:32' }, `invalid value for TSINIT_REWRITE: '32' ${RESERVED}`],
  [['true'], { TSINIT_REMAP_EXIT: '143,300' }, `invalid value for TSINIT_REMAP_EXIT: '300' ${EXIT_CODE}`],
  [['true'], { TSINIT_PDEATH_SIGNAL: 'X' }, `invalid value for TSINIT_PDEATH_SIGNAL: 'X' ${SIGNAL}`],
  [['true'], { TSINIT_PDEATH_SIGNAL: '33' }, `invalid value for TSINIT_PDEATH_SIGNAL: '33' ${RESERVED}`],
  [['true'], { TSINIT_LOG_FORMAT: 'yaml' }, `invalid value for TSINIT_LOG_FORMAT: 'yaml' ${LOG_FORMAT}`],
  [
    ['true'],
    { TSINIT_LOG_FORMAT: 'x'.repeat(1000) },
    `invalid value for TSINIT_LOG_FORMAT: '${X64}...' (1000 characters) ${LOG_FORMAT}`,
  ],
];

/** A row's test title: its argv and variables as JSON, cut at 100 characters (one row's value is 100 kB). */
export function titleOf(args: readonly string[], env: Record<string, string>): string {
  const title = JSON.stringify(args) + (Object.keys(env).length ? ` ${JSON.stringify(env)}` : '');
  return title.length > 100 ? `${title.slice(0, 100)}...` : title;
}
