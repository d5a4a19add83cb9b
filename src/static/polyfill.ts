// What the core uses that Duktape 2.7 lacks (it has ES5.1 plus Symbol, Proxy, Reflect, typed
// arrays, Object.assign and string startsWith/endsWith/includes): Map and Set, Array
// find/includes, String padStart/padEnd. Each is put in only where missing, with the semantics
// the core relies on (insertion order, SameValueZero). Nothing else may be added: src/core must
// stay inside this list, and each piece must be one dist/tsinit calls (test/unit/boundaries.test.ts).

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument,
   @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call,
   @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return,
   @typescript-eslint/no-unnecessary-condition, @typescript-eslint/no-unnecessary-type-conversion
   -- the types describe ES2024, and this file runs where those builtins are missing: it works on
   untyped values (`this` of a method it installs, whatever a caller passed), tests for what the
   types say is always there (Symbol.iterator may be absent), and String() turns what it got (a
   String object as `this`, a number as the fill) into a primitive string. */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- no code is built: the ES5 way to reach the global object
const G = Function('return this')();

function sameValueZero(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}

/** Primitives get a keyed index (numbers and strings are what the core stores); objects a scan. */
function indexKey(key: unknown): string | null {
  if (typeof key === 'number') return key === 0 ? 'n0' : `n${key}`;
  if (typeof key === 'string') return `s${key}`;
  return null;
}

function makeIterator(items: unknown[]): any {
  let i = 0;
  const it: any = {
    next: () => (i < items.length ? { value: items[i++], done: false } : { value: undefined, done: true }),
  };
  if (typeof Symbol === 'function' && Symbol.iterator) it[Symbol.iterator] = () => it;
  return it;
}

/** Entries of an iterable (anything with Symbol.iterator) or an array-like. */
function toArray(source: any): any[] {
  if (source === null || source === undefined) return [];
  const iterate = typeof Symbol === 'function' && Symbol.iterator ? source[Symbol.iterator] : undefined;
  const out: any[] = [];
  if (typeof iterate === 'function') {
    const it = iterate.call(source);
    for (let r = it.next(); !r.done; r = it.next()) out.push(r.value);
    return out;
  }
  for (let i = 0; i < source.length; i++) out.push(source[i]);
  return out;
}

/** Marks a removed entry until the next compaction (deleting in place would be O(n) per delete). */
const HOLE = {};

class OrderedTable {
  keys: unknown[] = [];
  values: unknown[] = [];
  /** Live entries (keys.length counts holes too). */
  count = 0;
  private index: Record<string, number> = {};
  find(key: unknown): number {
    // An empty table (a Map of -r options when none were given, looked up on every signal)
    // answers before making the index's key: a string built per call is work for the interpreter.
    if (this.count === 0) return -1;
    const k = indexKey(key);
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- hasOwnProperty proved the key is there
    if (k !== null) return Object.prototype.hasOwnProperty.call(this.index, k) ? this.index[k]! : -1;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== HOLE && sameValueZero(this.keys[i], key)) return i;
    return -1;
  }
  put(key: unknown, value: unknown): void {
    const i = this.find(key);
    if (i >= 0) {
      this.values[i] = value;
      return;
    }
    const k = indexKey(key);
    if (k !== null) this.index[k] = this.keys.length;
    this.keys.push(key);
    this.values.push(value);
    this.count++;
  }
  /** Removes in O(1): the entry becomes a hole, and the holes go once they outnumber the entries. */
  remove(key: unknown): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    const k = indexKey(key);
    if (k !== null) delete this.index[k];
    this.keys[i] = HOLE;
    this.values[i] = undefined;
    this.count--;
    if (this.keys.length - this.count > 32 && this.keys.length - this.count > this.count) this.compact();
    return true;
  }
  /** Drops the holes (insertion order kept) and renumbers the index; iteration calls it first. */
  compact(): void {
    if (this.keys.length === this.count) return;
    const keys: unknown[] = [];
    const values: unknown[] = [];
    this.index = {};
    for (let j = 0; j < this.keys.length; j++) {
      if (this.keys[j] === HOLE) continue;
      const k = indexKey(this.keys[j]);
      if (k !== null) this.index[k] = keys.length;
      keys.push(this.keys[j]);
      values.push(this.values[j]);
    }
    this.keys = keys;
    this.values = values;
  }
  clear(): void {
    this.keys = [];
    this.values = [];
    this.index = {};
    this.count = 0;
  }
}

function defineCollection(kind: 'Map' | 'Set'): void {
  const isMap = kind === 'Map';
  function Collection(this: any, init?: unknown) {
    this._t = new OrderedTable();
    for (const item of toArray(init)) {
      if (isMap) this._t.put(item[0], item[1]);
      else this._t.put(item, item);
    }
  }
  const proto: any = Collection.prototype;
  Object.defineProperty(proto, 'size', {
    get(this: any) {
      return this._t.count;
    },
  });
  proto.has = function (this: any, k: unknown) {
    return this._t.find(k) >= 0;
  };
  proto.delete = function (this: any, k: unknown) {
    return this._t.remove(k);
  };
  proto.clear = function (this: any) {
    this._t.clear();
  };
  proto.forEach = function (this: any, fn: (v: unknown, k: unknown, c: unknown) => void, self?: unknown) {
    const t = this._t;
    t.compact();
    for (let i = 0; i < t.keys.length; i++) fn.call(self, t.values[i], t.keys[i], this);
  };
  proto.keys = function (this: any) {
    this._t.compact();
    return makeIterator(this._t.keys.slice());
  };
  proto.values = function (this: any) {
    this._t.compact();
    return makeIterator(this._t.values.slice());
  };
  proto.entries = function (this: any) {
    const t = this._t;
    t.compact();
    const out: unknown[] = [];
    for (let i = 0; i < t.keys.length; i++) out.push([t.keys[i], t.values[i]]);
    return makeIterator(out);
  };
  if (isMap) {
    proto.get = function (this: any, k: unknown) {
      const i = this._t.find(k);
      return i >= 0 ? this._t.values[i] : undefined;
    };
    proto.set = function (this: any, k: unknown, v: unknown) {
      this._t.put(k, v);
      return this;
    };
  } else {
    proto.add = function (this: any, v: unknown) {
      this._t.put(v, v);
      return this;
    };
  }
  if (typeof Symbol === 'function' && Symbol.iterator) proto[Symbol.iterator] = isMap ? proto.entries : proto.values;
  G[kind] = Collection;
}

if (typeof G.Map !== 'function') defineCollection('Map');
if (typeof G.Set !== 'function') defineCollection('Set');

function define(target: any, name: string, fn: unknown): void {
  if (typeof target[name] !== 'function')
    Object.defineProperty(target, name, { value: fn, writable: true, configurable: true });
}

define(Array.prototype, 'find', function (this: any[], pred: (v: any, i: number, a: any[]) => boolean, self?: unknown) {
  for (let i = 0; i < this.length; i++) if (pred.call(self, this[i], i, this)) return this[i];
  return undefined;
});
define(Array.prototype, 'includes', function (this: any[], value: unknown, from?: number) {
  for (let i = Math.max(0, from ?? 0); i < this.length; i++) if (sameValueZero(this[i], value)) return true;
  return false;
});
function pad(text: string, length: number, fill: string | undefined): string {
  const f = fill === undefined ? ' ' : String(fill);
  if (length <= text.length || f === '') return '';
  let out = '';
  while (out.length < length - text.length) out += f;
  return out.slice(0, length - text.length);
}
define(String.prototype, 'padStart', function (this: string, length: number, fill?: string) {
  return pad(String(this), length, fill) + this;
});
define(String.prototype, 'padEnd', function (this: string, length: number, fill?: string) {
  return String(this) + pad(String(this), length, fill);
});
