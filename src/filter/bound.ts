/**
 * The type-checked form of an expression: what the evaluator runs. Each node knows its SQL type,
 * the representation its values take at run time (see vector.ts) and, for integer results held as
 * plain numbers, a bound on their magnitude that proves float arithmetic on them stays exact.
 */
import type { DataType } from "../data/schema.js";
import type { ArithOp, CompareOp } from "./ast.js";
import type { LikeMatcher } from "./like.js";
import type { Repr, Vec } from "./vector.js";

export type SqlType = DataType | { readonly kind: "null" };

/** How a comparison reads its operands: as numbers, as number-or-bigint, or as strings. */
export type CompareMode = "num" | "mixed" | "str";

/** How arithmetic runs: IEEE doubles, exact integers held in doubles, or 64-bit bigints. */
export type ArithMode = "float" | "int" | "i64";

export interface FunctionImpl {
  /** Runs over whole vecs; `n` is the row count (1 when every argument is a scalar). */
  run(args: readonly Vec[], n: number): Vec;
}

interface Common {
  readonly type: SqlType;
  readonly repr: Repr;
  /** For integer-typed `num` values: every value's magnitude is at most this. */
  readonly maxAbs: number;
  /** Source position, for error messages. */
  readonly pos: number;
}

export type Bound = Common & (
  | { readonly op: "const"; readonly value: Vec }
  | { readonly op: "column"; readonly name: string }
  | { readonly op: "not"; readonly arg: Bound }
  | { readonly op: "neg"; readonly arg: Bound }
  | { readonly op: "and" | "or"; readonly args: readonly Bound[] }
  | { readonly op: "compare"; readonly cmp: CompareOp; readonly mode: CompareMode; readonly left: Bound; readonly right: Bound }
  | { readonly op: "arith"; readonly arith: ArithOp; readonly mode: ArithMode; readonly left: Bound; readonly right: Bound }
  | { readonly op: "is"; readonly test: "null" | "true" | "false"; readonly negated: boolean; readonly arg: Bound }
  /** IN over constants: one Set lookup per row. (IN with non-constant values binds as OR of `=`.) */
  | { readonly op: "in"; readonly negated: boolean; readonly arg: Bound; readonly keys: ReadonlySet<unknown>; readonly listHasNull: boolean }
  | { readonly op: "between"; readonly negated: boolean; readonly lowMode: CompareMode; readonly highMode: CompareMode; readonly arg: Bound; readonly low: Bound; readonly high: Bound }
  | { readonly op: "like"; readonly negated: boolean; readonly caseInsensitive: boolean; readonly arg: Bound; readonly pattern: Bound; readonly escape: string; readonly matcher: LikeMatcher | null }
  | { readonly op: "call"; readonly name: string; readonly fn: FunctionImpl; readonly args: readonly Bound[] }
  /** `toDate` truncates to midnight UTC (CAST AS DATE). */
  | { readonly op: "cast"; readonly target: DataType; readonly toDate: boolean; readonly arg: Bound }
);
