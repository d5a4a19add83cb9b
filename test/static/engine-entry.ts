// The program of dist/build/static/tsinit-unit: the static host (host.c, the same bridge and
// polyfill as dist/tsinit) running the core's unit tests and the bridge's constants check.
import '../../src/static/polyfill.ts';
import './unit-tests.ts';
import './bridge.engine.ts';
import './loop.engine.ts';
import './constructors.engine.ts';
import { runInEngine } from './run-in-engine.ts';

runInEngine();
