// The build's marking of constructors (build/constructors.mjs), from the Node side: what it
// counts on a small program, and the two ways it refuses to guess (a `new` whose target is not
// a name; a dump whose functions do not match the source). Inside the engine the same marks are
// tested by what they do (test/static/constructors.engine.ts).
import { describe, expect, it } from 'vitest';
import { importStaticBuild } from '../helpers/build.ts';
import { ROOT } from '../helpers/pid1.ts';

process.chdir(ROOT); // the build resolves its inputs from the checkout

const PROGRAM = `
var C = (function () { function C() { this.n = 0; } C.prototype.add = function () { return ++this.n; }; return C; })();
function helper(x) { return [x].map(function (y) { return y + 1; }); }
var made = function () { return function () {}; };
new C().add(helper(1)[0], made());
`;

describe('build/constructors.mjs', () => {
  it('keeps the flag on the class and on the function returned as a value, clears it on the rest', async () => {
    const build = await importStaticBuild();
    const r = build.compileProgram(PROGRAM);
    // The IIFE, C, add, helper, its callback, made, the function made returns.
    expect(r.functions).toBe(7);
    // Cleared: the IIFE (a callee), add (a method), helper, the callback, made (var made: not a constructor's name).
    expect(r.cleared).toBe(5);
  });

  it('stops on a new whose target is not a name', async () => {
    const build = await importStaticBuild();
    expect(() => build.compileProgram('var o = { K: function () {} }; new o.K();')).toThrow(/new of o\.K: not a name/);
  });

  it('stops when the dump does not match the source it is said to come from', async () => {
    const build = await importStaticBuild();
    const { bytecode } = build.compileProgram('function a(x) {} a(1);');
    const { constructableFlag, markConstructors } = (await import(`${ROOT}/build/constructors.mjs`)) as {
      constructableFlag: (duktapeSource: string) => number;
      markConstructors: (js: string, b: Buffer, f: object) => unknown;
    };
    const flag = constructableFlag('/usr/share/duktape/duktape.c');
    const format = { flag, functionNames: true, fileNames: false, pc2line: false };
    expect(() => markConstructors('function b(x) {} b(1);', bytecode, format)).toThrow(
      /dump has a\/1 where the source has b\/1/,
    );
    expect(() => markConstructors('function a(x) {} function c() {} a(1);', bytecode, format)).toThrow(
      /1 inner functions in the dump, 2 in the source/,
    );
  });
});
