// Inside the static engine only: the build marks which functions are constructors
// (build/constructors.mjs). A class still constructs; a function that is not one has no
// prototype object and refuses to be constructed (a TypeError, never an object without its
// methods); one whose way the build cannot follow by name stays as Duktape made it.
// Reflect.construct, not `new`: a `new` here would name its target a constructor.
import { describe, expect, it } from './vitest-shim.ts';

class Counter {
  n = 0;
  add(): number {
    return ++this.n;
  }
}

function helper(x: number): number {
  return x + 1;
}

const arrow = (x: number): number => x * 2;

function makeEscaping(): () => void {
  return function () {
    // returned: the build cannot tell where it goes
  };
}

/** Whether Reflect.construct(f) throws a TypeError. */
function refusesConstruct(f: unknown): boolean {
  try {
    Reflect.construct(f as () => void, []);
    return false;
  } catch (e) {
    return e instanceof TypeError;
  }
}

const hasPrototype = (f: unknown) => Object.prototype.hasOwnProperty.call(f, 'prototype');

describe('[static] constructors in the bytecode', () => {
  it('a class constructs, with its methods and instanceof', () => {
    const c = new Counter();
    expect(c.add()).toBe(1);
    expect(c instanceof Counter).toBe(true);
    expect(hasPrototype(Counter)).toBe(true);
  });

  it('a function declaration, an arrow function and a method have no prototype object and are not constructable', () => {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the method as a value is what is tested, never called
    for (const f of [helper, arrow, Counter.prototype.add]) {
      expect(hasPrototype(f)).toBe(false);
      expect(refusesConstruct(f)).toBe(true);
    }
    expect(helper(1) + arrow(2)).toBe(6);
  });

  it('a function returned as a value stays constructable', () => {
    const f = makeEscaping();
    expect(hasPrototype(f)).toBe(true);
    expect(refusesConstruct(f)).toBe(false);
  });
});
