/**
 * Scalar functions: each entry checks its argument types (via the `FunctionContext` the type checker
 * hands it) and returns the result type with a column-wise implementation. NULL in, NULL out, except
 * COALESCE. Names are matched case-insensitively.
 */
import { DataTypes, type DataType } from "../data/schema.js";
import type { Bound, FunctionImpl, SqlType } from "./bound.js";
import { isValidAt, itemKey, valueAt, type Repr, type Vec } from "./vector.js";

export interface FunctionContext {
  readonly name: string;
  /** Throws INVALID_FILTER pointing at argument `index` (or at the call when null). */
  fail(index: number | null, message: string): never;
  /** Type name for messages. */
  show(type: SqlType): string;
  /** Converts `arg` (a NULL or string constant, say) to `type` for comparison, or fails. */
  coerceComparable(arg: Bound, to: SqlType, index: number): Bound;
  /** Fails unless values of the two types can be compared. */
  checkComparable(a: SqlType, b: SqlType, index: number): void;
  /** Common type of several values (for COALESCE), converting each argument as needed. */
  unify(args: readonly Bound[]): { type: SqlType; repr: Repr; args: Bound[]; maxAbs: number };
}

export interface Checked {
  readonly type: SqlType;
  readonly maxAbs: number;
  readonly fn: FunctionImpl;
  readonly args: readonly Bound[];
}

type Check = (ctx: FunctionContext, args: readonly Bound[]) => Checked;

const SAFE = 2 ** 53;

function arity(ctx: FunctionContext, args: readonly Bound[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    ctx.fail(null, `${ctx.name}() takes ${want} argument${want === "1" ? "" : "s"}, got ${args.length}`);
  }
}

function expectKind(ctx: FunctionContext, args: readonly Bound[], i: number, kinds: readonly string[], what: string): void {
  const t = args[i]!.type;
  if (t.kind !== "null" && !kinds.includes(t.kind)) ctx.fail(i, `${ctx.name}() needs ${what} as argument ${i + 1}, got ${ctx.show(t)}`);
}

/** Maps every present row of `a` through `fn`; NULL stays NULL. */
function mapRows(a: Vec, n: number, kind: "str" | "num" | "i64", fn: (x: unknown) => unknown): Vec {
  const len = a.scalar ? 1 : n;
  const data = kind === "str" ? new Array<string>(len).fill("") : kind === "num" ? new Float64Array(len) : new BigInt64Array(len);
  let valid: Uint8Array | null = a.valid === null ? null : Uint8Array.from(a.valid);
  for (let i = 0; i < len; i++) {
    if (!isValidAt(a, i)) continue;
    const y = fn(a.data[i]);
    if (y === null) { valid ??= new Uint8Array(len).fill(1); valid[i] = 0; continue; }
    (data as unknown[])[i] = y;
  }
  if (a.kind === "null") valid = new Uint8Array(len);
  return { kind, scalar: a.scalar, data, valid } as Vec;
}

function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i + 1 < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { n--; i++; }
    }
  }
  return n;
}

const stringFn = (f: (s: string) => string): Check => (ctx, args) => {
  arity(ctx, args, 1);
  expectKind(ctx, args, 0, ["utf8"], "a string");
  return { type: DataTypes.utf8(), maxAbs: 0, args, fn: { run: ([a], n) => mapRows(a!, n, "str", (x) => f(x as string)) } };
};

const lengthFn: Check = (ctx, args) => {
  arity(ctx, args, 1);
  expectKind(ctx, args, 0, ["utf8"], "a string");
  return { type: DataTypes.int64(), maxAbs: 2 ** 32, args, fn: { run: ([a], n) => mapRows(a!, n, "num", (x) => codePoints(x as string)) } };
};

const absFn: Check = (ctx, args) => {
  arity(ctx, args, 1);
  expectKind(ctx, args, 0, ["int", "float"], "a number");
  const t = args[0]!.type;
  const type: DataType = t.kind === "float" ? DataTypes.float64() : DataTypes.int64();
  const kind = args[0]!.repr === "i64" ? "i64" : "num";
  return {
    type, maxAbs: args[0]!.maxAbs, args,
    fn: { run: ([a], n) => mapRows(a!, n, kind, (x) => (typeof x === "bigint" ? (x === -(2n ** 63n) ? null : x < 0n ? -x : x) : Math.abs(x as number))) },
  };
};

const coalesceFn: Check = (ctx, args) => {
  arity(ctx, args, 1, Infinity);
  const { type, repr: kind, args: converted, maxAbs } = ctx.unify(args);
  const run = (vs: readonly Vec[], n: number): Vec => {
    const scalar = vs.every((v) => v.scalar);
    const len = scalar ? 1 : n;
    if (kind === "null") return { kind: "null", scalar, data: [], valid: new Uint8Array(len) };
    const data = kind === "num" ? new Float64Array(len) : kind === "i64" ? new BigInt64Array(len) : kind === "bool" ? new Uint8Array(len) : new Array<unknown>(len).fill(kind === "str" ? "" : null);
    const valid = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      for (const v of vs) {
        if (!isValidAt(v, i)) continue;
        const x = v.data[v.scalar ? 0 : i];
        (data as unknown[])[i] = kind === "i64" && typeof x !== "bigint" ? BigInt(x as number) : kind === "num" ? Number(x) : x;
        valid[i] = 1;
        break;
      }
    }
    return { kind, scalar, data, valid } as Vec;
  };
  return { type, maxAbs, args: converted, fn: { run } };
};

/** The comparison key of a needle value: booleans as booleans (list items are), numbers normalised. */
function needleKey(v: Vec, i: number): unknown {
  const x = valueAt(v, i);
  if (x === null) return null;
  return v.kind === "bool" ? x === 1 : itemKey(x);
}

function listArg(ctx: FunctionContext, args: readonly Bound[]): Extract<SqlType, { kind: "list" }> | null {
  const t = args[0]!.type;
  if (t.kind === "null") return null;
  if (t.kind !== "list") ctx.fail(0, `${ctx.name}() needs a list column as argument 1, got ${ctx.show(t)}`);
  return t;
}

function boolResult(len: number, scalar: boolean, fn: (i: number) => boolean | null): Vec {
  const data = new Uint8Array(len);
  const valid = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    const r = fn(i);
    if (r === null) continue;
    valid[i] = 1;
    data[i] = r ? 1 : 0;
  }
  return { kind: "bool", scalar, data, valid };
}

/** contains(s, t): TRUE when `t` occurs in `s` (case-sensitive, by characters); NULL when either is NULL. */
const containsFn: Check = (ctx, args) => {
  arity(ctx, args, 2);
  expectKind(ctx, args, 0, ["utf8"], "a string");
  expectKind(ctx, args, 1, ["utf8"], "a string");
  const run = ([s, t]: readonly Vec[], n: number): Vec => {
    const scalar = s!.scalar && t!.scalar;
    return boolResult(scalar ? 1 : n, scalar, (i) => {
      const a = valueAt(s!, i) as string | null;
      const b = valueAt(t!, i) as string | null;
      return a === null || b === null ? null : a.includes(b);
    });
  };
  return { type: DataTypes.bool(), maxAbs: 0, args, fn: { run } };
};

const arrayHasFn: Check = (ctx, args) => {
  arity(ctx, args, 2);
  const list = listArg(ctx, args);
  const needle = list ? ctx.coerceComparable(args[1]!, list.item, 1) : args[1]!;
  const run = ([l, v]: readonly Vec[], n: number): Vec => {
    const scalar = l!.scalar && v!.scalar;
    return boolResult(scalar ? 1 : n, scalar, (i) => {
      const items = valueAt(l!, i) as unknown[] | null;
      const key = needleKey(v!, i);
      if (items === null || key === null) return null;
      return items.includes(key);
    });
  };
  return { type: DataTypes.bool(), maxAbs: 0, args: [args[0]!, needle], fn: { run } };
};

/** array_has_any / array_has_all: the second argument is a list, or one value standing for a list of one. */
const arraySetFn = (all: boolean): Check => (ctx, args) => {
  arity(ctx, args, 2);
  const list = listArg(ctx, args);
  let other = args[1]!;
  const otherItem = other.type.kind === "list" ? other.type.item : other.type;
  if (list && other.type.kind !== "null") {
    if (other.type.kind === "list") ctx.checkComparable(otherItem, list.item, 1);
    else other = ctx.coerceComparable(other, list.item, 1);
  }
  const single = other.type.kind !== "list";
  const run = ([l, v]: readonly Vec[], n: number): Vec => {
    const scalar = l!.scalar && v!.scalar;
    return boolResult(scalar ? 1 : n, scalar, (i) => {
      const items = valueAt(l!, i) as unknown[] | null;
      if (items === null || !isValidAt(v!, i)) return null;
      const wanted = single ? [needleKey(v!, i)] : (valueAt(v!, i) as unknown[]);
      return all ? wanted.every((w) => items.includes(w)) : wanted.some((w) => items.includes(w));
    });
  };
  return { type: DataTypes.bool(), maxAbs: 0, args: [args[0]!, other], fn: { run } };
};

const arrayLengthFn: Check = (ctx, args) => {
  arity(ctx, args, 1);
  listArg(ctx, args);
  return { type: DataTypes.int64(), maxAbs: 2 ** 32, args, fn: { run: ([a], n) => mapRows(a!, n, "num", (x) => (x as unknown[]).length) } };
};

export const FUNCTIONS: Readonly<Record<string, Check>> = {
  lower: stringFn((s) => s.toLowerCase()),
  upper: stringFn((s) => s.toUpperCase()),
  length: lengthFn,
  char_length: lengthFn,
  character_length: lengthFn,
  abs: absFn,
  coalesce: coalesceFn,
  contains: containsFn,
  array_has: arrayHasFn,
  array_contains: arrayHasFn,
  list_has: arrayHasFn,
  array_has_any: arraySetFn(false),
  array_has_all: arraySetFn(true),
  array_length: arrayLengthFn,
  cardinality: arrayLengthFn,
};

export const FUNCTION_NAMES: readonly string[] = Object.keys(FUNCTIONS);
export { SAFE as MAX_EXACT_INT };
