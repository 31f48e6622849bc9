/**
 * Runs a bound expression column-wise: each node turns whole vecs into a whole vec, so the per-row
 * work is in tight loops over typed arrays (kernels.ts), not in a tree walk per row.
 */
import type { Bound } from "./bound.js";
import { castVec } from "./cast.js";
import { arith, compare, DivisionByZero, inSet, isTest, logic, mapStrings, negate, not } from "./kernels.js";
import { compileLike, type LikeMatcher } from "./like.js";
import { bothValid, isValidAt, valueAt, type BoolVec, type I64Vec, type NumVec, type Repr, type Vec } from "./vector.js";

export interface EvalContext {
  /** Rows being evaluated. */
  readonly n: number;
  column(name: string, repr: Repr): Vec;
  /** Writes: a CAST that turns a value into NULL throws CastLoss instead. */
  readonly strictCasts?: boolean;
}

/** A strict CAST lost a value (text that is no number, a number out of range). */
export class CastLoss extends Error {
  constructor(readonly position: number, readonly value: unknown, readonly target: string) {
    super("cast lost a value");
  }
}

/** Distinct LIKE patterns compiled per evaluation when the pattern is not a constant. */
const PATTERN_CACHE_LIMIT = 1024;

function allFalse(v: BoolVec): boolean {
  const len = v.data.length;
  for (let i = 0; i < len; i++) if (v.data[i] === 1 || (v.valid !== null && v.valid[i] === 0)) return false;
  return true;
}

function allTrue(v: BoolVec): boolean {
  if (v.valid !== null) return false;
  for (let i = 0; i < v.data.length; i++) if (v.data[i] === 0) return false;
  return true;
}

export function evaluateBound(b: Bound, ctx: EvalContext): Vec {
  const n = ctx.n;
  switch (b.op) {
    case "const":
      return b.value;
    case "column":
      return ctx.column(b.name, b.repr);
    case "not":
      return not(evaluateBound(b.arg, ctx) as BoolVec);
    case "neg":
      return negate(evaluateBound(b.arg, ctx) as NumVec | I64Vec);
    case "and":
    case "or": {
      let acc = evaluateBound(b.args[0]!, ctx) as BoolVec;
      for (let k = 1; k < b.args.length; k++) {
        // Once every row is decided (all FALSE for AND, all TRUE for OR), the rest cannot change it.
        if (!acc.scalar && (b.op === "and" ? allFalse(acc) : allTrue(acc))) return acc;
        acc = logic(b.op, acc, evaluateBound(b.args[k]!, ctx) as BoolVec, n);
      }
      return acc;
    }
    case "compare":
      return compare(b.cmp, b.mode, evaluateBound(b.left, ctx), evaluateBound(b.right, ctx), n);
    case "arith": {
      const [left, right] = [evaluateBound(b.left, ctx), evaluateBound(b.right, ctx)];
      try {
        return arith(b.arith, b.mode, left, right, n);
      } catch (e) {
        if (e instanceof DivisionByZero && e.position < 0) e.position = b.pos;
        throw e;
      }
    }
    case "is":
      return isTest(b.test, b.negated, evaluateBound(b.arg, ctx), n);
    case "in": {
      const r = inSet(evaluateBound(b.arg, ctx), b.keys, b.listHasNull, n);
      return b.negated ? not(r) : r;
    }
    case "between": {
      const x = evaluateBound(b.arg, ctx);
      const r = logic("and", compare(">=", b.lowMode, x, evaluateBound(b.low, ctx), n), compare("<=", b.highMode, x, evaluateBound(b.high, ctx), n), n);
      return b.negated ? not(r) : r;
    }
    case "like": {
      const x = evaluateBound(b.arg, ctx);
      let r: BoolVec;
      if (b.matcher !== null) {
        const m = b.matcher;
        r = mapStrings(x, n, (s) => m(s));
      } else {
        const p = evaluateBound(b.pattern, ctx);
        const scalar = x.scalar && p.scalar;
        const len = scalar ? 1 : n;
        const data = new Uint8Array(len);
        const texts = x.data as readonly string[];
        const patterns = p.data as readonly string[];
        const cache = new Map<string, LikeMatcher>();
        for (let i = 0; i < len; i++) {
          if (!isValidAt(x, i) || !isValidAt(p, i)) continue;
          const pattern = patterns[p.scalar ? 0 : i]!;
          let m = cache.get(pattern);
          if (m === undefined) {
            m = compileLike(pattern, b.escape, b.caseInsensitive);
            if (cache.size < PATTERN_CACHE_LIMIT) cache.set(pattern, m);
          }
          data[i] = m(texts[x.scalar ? 0 : i]!) ? 1 : 0;
        }
        r = { kind: "bool", scalar, data, valid: bothValid(x, p, len) };
      }
      return b.negated ? not(r) : r;
    }
    case "call":
      return b.fn.run(b.args.map((a) => evaluateBound(a, ctx)), n);
    case "cast": {
      const arg = evaluateBound(b.arg, ctx);
      const out = castVec(arg, b.arg.type, b.target, b.toDate, n);
      if (ctx.strictCasts === true) {
        for (let i = 0; i < (arg.scalar ? 1 : n); i++) {
          if (isValidAt(arg, i) && !isValidAt(out, i)) throw new CastLoss(b.pos, valueAt(arg, i), JSON.stringify(b.target));
        }
      }
      return out;
    }
  }
}
