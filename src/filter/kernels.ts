/**
 * Column-at-a-time operators over vecs (see vector.ts), with SQL NULL semantics: a result is NULL
 * where an input is NULL, except AND/OR (three-valued logic) and IS. Every kernel takes `n`, the row
 * count; when every input is a scalar the result is a scalar too, which is how constants fold.
 */
import type { ArithOp, CompareOp } from "./ast.js";
import type { ArithMode, CompareMode } from "./bound.js";
import { bothValid, isValidAt, itemKey, type BoolVec, type I64Vec, type NumData, type NumVec, type Vec } from "./vector.js";

function rows(a: Vec, b: Vec, n: number): number {
  return a.scalar && b.scalar ? 1 : n;
}

/**
 * Strings compare by Unicode code point (the order of their UTF-8 bytes), not by UTF-16 code unit:
 * the two differ only when a surrogate pair meets a character in U+E000..U+FFFF.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function test(op: CompareOp, c: number): boolean {
  switch (op) {
    case "=": return c === 0;
    case "!=": return c !== 0;
    case "<": return c < 0;
    case "<=": return c <= 0;
    case ">": return c > 0;
    case ">=": return c >= 0;
  }
}

/** Compares number-or-bigint values exactly (JS relational operators are exact across the two). */
function mixedTest(op: CompareOp, x: number | bigint, y: number | bigint): boolean {
  switch (op) {
    // eslint-disable-next-line eqeqeq
    case "=": return x == y;
    // eslint-disable-next-line eqeqeq
    case "!=": return x != y;
    case "<": return x < y;
    case "<=": return x <= y;
    case ">": return x > y;
    case ">=": return x >= y;
  }
}

export function compare(op: CompareOp, mode: CompareMode, a: Vec, b: Vec, n: number): BoolVec {
  const len = rows(a, b, n);
  const out = new Uint8Array(len);
  const sa = a.scalar ? 0 : 1;
  const sb = b.scalar ? 0 : 1;
  if (mode === "num") {
    // The hot path: typed arrays on both sides; one tight loop per operator.
    const x = a.data as NumData;
    const y = b.data as NumData;
    if (!a.scalar && b.scalar) {
      // column <op> constant, by far the most common shape: no index arithmetic on the constant side.
      const c = y[0]!;
      switch (op) {
        case "=": for (let i = 0; i < len; i++) out[i] = x[i]! === c ? 1 : 0; break;
        case "!=": for (let i = 0; i < len; i++) out[i] = x[i]! !== c ? 1 : 0; break;
        case "<": for (let i = 0; i < len; i++) out[i] = x[i]! < c ? 1 : 0; break;
        case "<=": for (let i = 0; i < len; i++) out[i] = x[i]! <= c ? 1 : 0; break;
        case ">": for (let i = 0; i < len; i++) out[i] = x[i]! > c ? 1 : 0; break;
        case ">=": for (let i = 0; i < len; i++) out[i] = x[i]! >= c ? 1 : 0; break;
      }
      return { kind: "bool", scalar: false, data: out, valid: bothValid(a, b, len) };
    }
    switch (op) {
      case "=": for (let i = 0; i < len; i++) out[i] = x[i * sa]! === y[i * sb]! ? 1 : 0; break;
      case "!=": for (let i = 0; i < len; i++) out[i] = x[i * sa]! !== y[i * sb]! ? 1 : 0; break;
      case "<": for (let i = 0; i < len; i++) out[i] = x[i * sa]! < y[i * sb]! ? 1 : 0; break;
      case "<=": for (let i = 0; i < len; i++) out[i] = x[i * sa]! <= y[i * sb]! ? 1 : 0; break;
      case ">": for (let i = 0; i < len; i++) out[i] = x[i * sa]! > y[i * sb]! ? 1 : 0; break;
      case ">=": for (let i = 0; i < len; i++) out[i] = x[i * sa]! >= y[i * sb]! ? 1 : 0; break;
    }
  } else if (mode === "str") {
    const x = a.data as readonly string[];
    const y = b.data as readonly string[];
    for (let i = 0; i < len; i++) out[i] = test(op, compareStrings(x[i * sa]!, y[i * sb]!)) ? 1 : 0;
  } else {
    const x = a.data as ArrayLike<number | bigint>;
    const y = b.data as ArrayLike<number | bigint>;
    for (let i = 0; i < len; i++) out[i] = mixedTest(op, x[i * sa]!, y[i * sb]!) ? 1 : 0;
  }
  return { kind: "bool", scalar: len === 1 && a.scalar && b.scalar, data: out, valid: bothValid(a, b, len) };
}

export function not(a: BoolVec): BoolVec {
  const out = new Uint8Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i]! ^ 1;
  return { kind: "bool", scalar: a.scalar, data: out, valid: a.valid };
}

/**
 * Three-valued AND / OR. For AND, a known FALSE on either side wins over NULL; for OR, a known TRUE.
 *   AND: result = a & b, valid = (va & vb) | (va & !a) | (vb & !b)
 *   OR:  result = a | b, valid = (va & vb) | (va & a)  | (vb & b)
 */
export function logic(op: "and" | "or", a: BoolVec, b: BoolVec, n: number): BoolVec {
  const len = rows(a, b, n);
  const out = new Uint8Array(len);
  const sa = a.scalar ? 0 : 1;
  const sb = b.scalar ? 0 : 1;
  const x = a.data;
  const y = b.data;
  const isAnd = op === "and";
  if (a.valid === null && b.valid === null) {
    if (isAnd) for (let i = 0; i < len; i++) out[i] = x[i * sa]! & y[i * sb]!;
    else for (let i = 0; i < len; i++) out[i] = x[i * sa]! | y[i * sb]!;
    return { kind: "bool", scalar: a.scalar && b.scalar, data: out, valid: null };
  }
  const valid = new Uint8Array(len);
  const av = a.valid;
  const bv = b.valid;
  const dominant = isAnd ? 0 : 1;
  let allValid = true;
  for (let i = 0; i < len; i++) {
    const va = av === null ? 1 : av[i * sa]!;
    const vb = bv === null ? 1 : bv[i * sb]!;
    const p = x[i * sa]! & va;
    const q = y[i * sb]! & vb;
    const xa = va ? x[i * sa]! : dominant ^ 1;
    const yb = vb ? y[i * sb]! : dominant ^ 1;
    out[i] = isAnd ? xa & yb : p | q;
    const v = (va & vb) | (va && xa === dominant ? 1 : 0) | (vb && yb === dominant ? 1 : 0);
    valid[i] = v;
    if (v === 0) allValid = false;
  }
  return { kind: "bool", scalar: a.scalar && b.scalar, data: out, valid: allValid ? null : valid };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function toBig(v: Vec, i: number): bigint {
  const x = v.data[i] as number | bigint;
  return typeof x === "bigint" ? x : BigInt(x);
}

/**
 * Arithmetic. `float` runs in doubles; `int` runs in doubles on integers whose bounds (checked at
 * compile time) keep every result below 2^53, so it is exact; `i64` runs in bigints. As in LanceDB
 * (DataFusion): integer division and remainder by zero fail (INVALID_FILTER), float ones follow IEEE
 * (±Infinity, NaN); an int64 result that overflows is NULL.
 */
export function arith(op: ArithOp, mode: ArithMode, a: Vec, b: Vec, n: number): NumVec | I64Vec {
  const len = rows(a, b, n);
  const scalar = a.scalar && b.scalar;
  const sa = a.scalar ? 0 : 1;
  const sb = b.scalar ? 0 : 1;
  let valid = bothValid(a, b, len);
  const invalidate = (i: number): void => {
    if (valid === null) valid = new Uint8Array(len).fill(1);
    valid[i] = 0;
  };
  if (mode === "i64") {
    const out = new BigInt64Array(len);
    for (let i = 0; i < len; i++) {
      if (valid !== null && valid[i] === 0) continue;
      const x = toBig(a, i * sa);
      const y = toBig(b, i * sb);
      let r: bigint;
      switch (op) {
        case "+": r = x + y; break;
        case "-": r = x - y; break;
        case "*": r = x * y; break;
        case "/": if (y === 0n) divideByZero(op); r = x / y; break;
        case "%": if (y === 0n) divideByZero(op); r = x % y; break;
      }
      if (r < INT64_MIN || r > INT64_MAX) { invalidate(i); continue; }
      out[i] = r;
    }
    return { kind: "i64", scalar, data: out, valid };
  }
  const out = new Float64Array(len);
  const x = a.kind === "i64" ? Float64Array.from(a.data, Number) : (a.data as NumData);
  const y = b.kind === "i64" ? Float64Array.from(b.data, Number) : (b.data as NumData);
  switch (op) {
    case "+": for (let i = 0; i < len; i++) out[i] = x[i * sa]! + y[i * sb]!; break;
    case "-": for (let i = 0; i < len; i++) out[i] = x[i * sa]! - y[i * sb]!; break;
    case "*": for (let i = 0; i < len; i++) out[i] = x[i * sa]! * y[i * sb]!; break;
    case "/":
      for (let i = 0; i < len; i++) {
        const p = x[i * sa]!;
        const q = y[i * sb]!;
        if (mode !== "int") { out[i] = p / q; continue; }
        if (q === 0) { if (valid === null || valid[i] === 1) divideByZero(op); continue; }
        // Integer division truncates toward zero; p - p % q is an exact multiple of q, so this is exact.
        out[i] = (p - (p % q)) / q;
      }
      break;
    case "%":
      for (let i = 0; i < len; i++) {
        const q = y[i * sb]!;
        if (mode === "int" && q === 0) { if (valid === null || valid[i] === 1) divideByZero(op); continue; }
        out[i] = x[i * sa]! % q;
      }
      break;
  }
  return { kind: "num", scalar, data: out, valid };
}

/**
 * Integer division or remainder by zero. The evaluator stamps the operator's position on it and the
 * compiler turns it into INVALID_FILTER naming the expression (see divisionError).
 */
export class DivisionByZero extends Error {
  position = -1;
  constructor(readonly op: ArithOp) {
    super(`Integer ${op === "/" ? "division" : "remainder"} by zero`);
  }
}

function divideByZero(op: ArithOp): never {
  throw new DivisionByZero(op);
}

/** What a DivisionByZero says to the user. */
export function divisionHint(e: DivisionByZero): string {
  return `It fails as in LanceDB; divide floats instead (CAST(x AS DOUBLE) ${e.op} y gives ${e.op === "/" ? "±Infinity" : "NaN"}), or keep zero divisors out of the data`;
}

export function negate(a: NumVec | I64Vec): NumVec | I64Vec {
  if (a.kind === "i64") {
    const out = new BigInt64Array(a.data.length);
    let valid = a.valid;
    let copied = false;
    for (let i = 0; i < out.length; i++) {
      if (a.data[i] === INT64_MIN) {
        if (!copied) { valid = a.valid ? a.valid.slice() : new Uint8Array(out.length).fill(1); copied = true; }
        valid![i] = 0;
        continue;
      }
      out[i] = -a.data[i]!;
    }
    return { kind: "i64", scalar: a.scalar, data: out, valid };
  }
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = -a.data[i]!;
  return { kind: "num", scalar: a.scalar, data: out, valid: a.valid };
}

/** IS [NOT] NULL / TRUE / FALSE: never NULL itself. */
export function isTest(testKind: "null" | "true" | "false", negated: boolean, a: Vec, n: number): BoolVec {
  const len = a.scalar ? 1 : n;
  const out = new Uint8Array(len);
  const flip = negated ? 1 : 0;
  for (let i = 0; i < len; i++) {
    const present = isValidAt(a, i);
    let r: boolean;
    if (testKind === "null") r = !present;
    else r = present && (a.data[i] === 1) === (testKind === "true");
    out[i] = (r ? 1 : 0) ^ flip;
  }
  return { kind: "bool", scalar: a.scalar, data: out, valid: null };
}

/** `a IN (constants)`: TRUE if found; else NULL if `a` is NULL or the list holds NULL; else FALSE. */
export function inSet(a: Vec, keys: ReadonlySet<unknown>, listHasNull: boolean, n: number): BoolVec {
  const len = a.scalar ? 1 : n;
  const out = new Uint8Array(len);
  const valid = new Uint8Array(len);
  let allValid = true;
  const data = a.data as ArrayLike<unknown>;
  const needsKey = a.kind === "num" || a.kind === "i64";
  for (let i = 0; i < len; i++) {
    if (!isValidAt(a, i)) { allValid = false; continue; }
    const x = data[i];
    const hit = keys.has(needsKey ? itemKey(x) : x);
    out[i] = hit ? 1 : 0;
    valid[i] = hit || !listHasNull ? 1 : 0;
    if (valid[i] === 0) allValid = false;
  }
  return { kind: "bool", scalar: a.scalar, data: out, valid: allValid ? null : valid };
}

/** Applies a string predicate to every present row. */
export function mapStrings(a: Vec, n: number, fn: (s: string, i: number) => boolean): BoolVec {
  const len = a.scalar ? 1 : n;
  const out = new Uint8Array(len);
  const data = a.data as readonly string[];
  for (let i = 0; i < len; i++) if (isValidAt(a, i) && fn(data[i]!, i)) out[i] = 1;
  return { kind: "bool", scalar: a.scalar, data: out, valid: a.valid };
}
