// The same unit tests through the same shim and the same ES5 lowering, run by Node: the
// engine test compares the two runs line by line.
import './unit-tests.ts';
import { runCollected } from './vitest-shim.ts';

declare const console: { log(line: string): void };
runCollected((line) => console.log(line));
