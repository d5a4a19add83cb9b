// The core's unit tests, collected by the shim (test/static/vitest-shim.ts) in place of vitest.
// Every file that tests src/core alone belongs here (test/unit/in-engine.test.ts checks): the engine test runs them on both engines.
import '../unit/cli.test.ts';
import '../unit/signals.test.ts';
import '../unit/status.test.ts';
import '../unit/log.test.ts';
import '../unit/supervisor.test.ts';
import '../unit/proc.test.ts';
import '../unit/terminal.test.ts';
import '../unit/setup.test.ts';
import '../unit/entry.test.ts';
import '../unit/collections.test.ts';
