// Which functions of the static host's program are constructors, marked in its Duktape bytecode.
// Duktape makes every ES5 `function` constructable, and the loader and each closure give such a
// function a `prototype` object of its own (with `constructor` pointing back): about 500 objects
// at start, none of them ever used but a class's. TypeScript only lets `new` (and `instanceof`,
// and `.prototype`) reach what a class or a built-in is, so the build reads the program's own
// syntax tree, keeps the flag on every function that can be reached that way, and clears it on
// the rest: a `new` on one of those would throw a TypeError, never run with a missing prototype.
import ts from 'typescript';
import { readFileSync } from 'node:fs';

/**
 * Duktape's flag bit, read from the source it is compiled from (Debian's duktape-dev).
 * @param {string} duktapeSource
 */
export function constructableFlag(duktapeSource) {
  const text = readFileSync(duktapeSource, 'utf8');
  const start = /#define DUK_HEAPHDR_FLAGS_USER_START\s+\((\d+)\)|#define DUK_HEAPHDR_FLAGS_USER_START\s+(\d+)/.exec(
    text,
  );
  const bit = /#define DUK_HOBJECT_FLAG_CONSTRUCTABLE\s+DUK_HEAPHDR_USER_FLAG\((\d+)\)/.exec(text);
  if (!start || !bit) throw new Error(`${duktapeSource}: no DUK_HOBJECT_FLAG_CONSTRUCTABLE definition`);
  return 2 ** (Number(start[1] ?? start[2]) + Number(bit[1]));
}

/**
 * The names that reach a constructor: the target of every `new`, the right side of every
 * `instanceof`, and what `.prototype` is read from. Anything else there (`new a.b()`) is not a
 * form this program uses: the build stops rather than guess.
 * @param {ts.SourceFile} sf
 */
function constructorNames(sf) {
  /** @type {Set<string>} */
  const names = new Set();
  /** @type {(node: ts.Node, what: string) => void} */
  const need = (node, what) => {
    if (!ts.isIdentifier(node))
      throw new Error(`constructors: ${what} of ${node.getText(sf).slice(0, 60)}: not a name`);
    names.add(node.text);
  };
  /** @type {(n: ts.Node) => void} */
  const walk = (n) => {
    if (ts.isNewExpression(n)) need(n.expression, 'new');
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.InstanceOfKeyword)
      need(n.right, 'instanceof');
    if (ts.isPropertyAccessExpression(n) && n.name.text === 'prototype') need(n.expression, '.prototype');
    ts.forEachChild(n, walk);
  };
  walk(sf);
  return names;
}

/**
 * Whether a function node may be a constructor: named as one, or a value whose way cannot be followed by name.
 * @param {FunctionLike} fn
 * @param {Set<string>} names
 */
function mayConstruct(fn, names) {
  if (ts.isFunctionDeclaration(fn)) return fn.name === undefined || names.has(fn.name.text);
  if (!ts.isFunctionExpression(fn)) return false; // get/set accessors: never constructable
  if (fn.name && names.has(fn.name.text)) return true;
  /** @type {ts.Node} */
  let node = fn;
  while (ts.isParenthesizedExpression(node.parent)) node = node.parent;
  const p = node.parent;
  // A call's argument or callee (a callback, an IIFE), an object literal's property value.
  if (ts.isCallExpression(p)) return false;
  if (ts.isPropertyAssignment(p) && p.initializer === node) return false;
  // var n = function () {}: constructable if n is one of the names.
  if (ts.isVariableDeclaration(p) && p.initializer === node) return !ts.isIdentifier(p.name) || names.has(p.name.text);
  if (ts.isBinaryExpression(p) && p.right === node && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
    // n = function () {}: as var; x.prototype.m = function () {}: a method.
    if (ts.isIdentifier(p.left)) return names.has(p.left.text);
    if (ts.isPropertyAccessExpression(p.left) && ts.isPropertyAccessExpression(p.left.expression))
      return p.left.expression.name.text !== 'prototype';
  }
  return true; // returned, stored elsewhere, passed on: kept as Duktape made it
}

/** @typedef {ts.FunctionDeclaration | ts.FunctionExpression | ts.AccessorDeclaration} FunctionLike */
/** @typedef {{ node: FunctionLike, inner: Func[] }} Func */

/**
 * Every function-like node Duktape compiles, in the order its dump nests them (pre-order).
 * @param {ts.Node} sf
 * @returns {Func[]}
 */
function functionsInOrder(sf) {
  /** @type {Func[]} */
  const out = [];
  /** @type {(n: ts.Node) => void} */
  const walk = (n) => {
    if (ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isGetAccessor(n) || ts.isSetAccessor(n)) {
      /** @type {Func[]} */
      const inner = [];
      out.push({ node: n, inner });
      const saved = out.length;
      ts.forEachChild(n, walk);
      inner.push(...out.splice(saved));
      return;
    }
    ts.forEachChild(n, walk);
  };
  walk(sf);
  return out;
}

/** A reader of Duktape's dump format (duk_api_bytecode.c: big-endian, strings as u32 length + bytes). */
class Dump {
  /** @param {Buffer} buf */
  constructor(buf) {
    this.buf = buf;
    this.at = 0;
  }
  u8() {
    return this.buf[this.at++];
  }
  u16() {
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  u32() {
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  string() {
    const n = this.u32();
    const s = this.buf.toString('latin1', this.at, this.at + n);
    this.at += n;
    return s;
  }
}

/**
 * The bytecode with CONSTRUCTABLE cleared on every function that is not a constructor. js is the
 * source it was compiled from; each function of the dump is matched with its node (pre-order, its
 * name and its number of parameters) and the build stops on any mismatch.
 * @param {string} js
 * @param {Buffer} bytecode
 * @param {{ flag: number, functionNames: boolean, pc2line: boolean, fileNames: boolean }} format
 */
export function markConstructors(js, bytecode, format) {
  const sf = ts.createSourceFile('tsinit.js', js, ts.ScriptTarget.ES5, true);
  const names = constructorNames(sf);
  const out = Buffer.from(bytecode);
  const d = new Dump(out);
  const stats = { functions: 0, cleared: 0 };
  if (d.u8() !== 0xbf) throw new Error('constructors: not Duktape bytecode');
  /** @type {(node: Func | null) => void} */
  const readFunc = (node) => {
    const countInstr = d.u32();
    const countConst = d.u32();
    const countFuncs = d.u32();
    d.u16(); // nregs
    const nargs = d.u16();
    d.at += 8; // line info
    const flagsAt = d.at;
    const flags = d.u32();
    d.at += 4 * countInstr;
    for (let i = 0; i < countConst; i++) {
      const type = d.u8();
      if (type === 0) d.string();
      else if (type === 1) d.at += 8;
      else throw new Error(`constructors: constant type ${type}`);
    }
    const inner = node === null ? functionsInOrder(sf) : node.inner;
    if (inner.length !== countFuncs)
      throw new Error(`constructors: ${countFuncs} inner functions in the dump, ${inner.length} in the source`);
    for (const f of inner) readFunc(f);
    d.u32(); // length
    const name = format.functionNames ? d.string() : '';
    if (format.fileNames) d.string();
    if (format.pc2line) d.string();
    while (d.string() !== '') d.u32(); // _Varmap
    const formals = d.u32();
    if (formals !== 0xffffffff) for (let i = 0; i < formals; i++) d.string();
    if (node === null) return; // the program itself
    stats.functions++;
    const fn = node.node;
    const expected = fn.name && ts.isIdentifier(fn.name) ? fn.name.text : '';
    if (
      (ts.isFunctionDeclaration(fn) || ts.isFunctionExpression(fn)) &&
      (name !== expected || nargs !== fn.parameters.length)
    )
      throw new Error(
        `constructors: dump has ${name || '(anonymous)'}/${nargs} where the source has ${expected || '(anonymous)'}/${fn.parameters.length}`,
      );
    if ((flags & format.flag) !== 0 && !mayConstruct(fn, names)) {
      out.writeUInt32BE((flags & ~format.flag) >>> 0, flagsAt);
      stats.cleared++;
    }
  };
  readFunc(null);
  if (d.at !== out.length) throw new Error(`constructors: ${out.length - d.at} bytes left after the program`);
  return { bytecode: out, ...stats };
}
