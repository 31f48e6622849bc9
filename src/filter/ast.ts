/**
 * The syntax tree of a filter / SQL expression, as plain data (no classes, no functions) so a parsed
 * filter can be posted to a worker or logged. Every node carries `pos` (0-based offset of its first
 * character in the source text) and `end` (offset just past its last character).
 *
 * Integer literals hold a `bigint` so that int64 ids compare exactly; JSON.stringify needs a replacer.
 */

export type CompareOp = "=" | "!=" | "<" | "<=" | ">" | ">=";
export type ArithOp = "+" | "-" | "*" | "/" | "%";

interface Span {
  readonly pos: number;
  readonly end: number;
}

export type Literal =
  | (Span & { readonly kind: "literal"; readonly type: "null"; readonly value: null })
  | (Span & { readonly kind: "literal"; readonly type: "bool"; readonly value: boolean })
  /** An integer literal that fits in int64. */
  | (Span & { readonly kind: "literal"; readonly type: "int"; readonly value: bigint })
  /** A decimal/exponent literal, or an integer too large for int64. */
  | (Span & { readonly kind: "literal"; readonly type: "float"; readonly value: number })
  | (Span & { readonly kind: "literal"; readonly type: "string"; readonly value: string })
  /** `TIMESTAMP '…'` or `DATE '…'`, already parsed to milliseconds since the epoch (UTC). */
  | (Span & { readonly kind: "literal"; readonly type: "timestamp"; readonly value: number; readonly text: string });

export interface ColumnRef extends Span {
  readonly kind: "column";
  readonly name: string;
}

export interface Unary extends Span {
  readonly kind: "unary";
  readonly op: "-" | "+" | "NOT";
  readonly operand: Expr;
}

export interface Binary extends Span {
  readonly kind: "binary";
  readonly op: CompareOp | ArithOp;
  /** Offset of the operator token. */
  readonly opPos: number;
  readonly left: Expr;
  readonly right: Expr;
}

/** `a AND b AND c` is one node with three operands, so long generated chains stay shallow. */
export interface Logical extends Span {
  readonly kind: "logical";
  readonly op: "AND" | "OR";
  readonly operands: readonly Expr[];
}

/** `x IS [NOT] NULL`, `x IS [NOT] TRUE`, `x IS [NOT] FALSE`. */
export interface Is extends Span {
  readonly kind: "is";
  readonly test: "null" | "true" | "false";
  readonly negated: boolean;
  readonly operand: Expr;
}

export interface In extends Span {
  readonly kind: "in";
  readonly negated: boolean;
  readonly operand: Expr;
  readonly list: readonly Expr[];
}

export interface Between extends Span {
  readonly kind: "between";
  readonly negated: boolean;
  readonly operand: Expr;
  readonly low: Expr;
  readonly high: Expr;
}

export interface Like extends Span {
  readonly kind: "like";
  readonly negated: boolean;
  readonly caseInsensitive: boolean;
  readonly operand: Expr;
  readonly pattern: Expr;
  readonly escape: Expr | null;
}

export interface Call extends Span {
  readonly kind: "call";
  /** Lower-cased function name. */
  readonly name: string;
  readonly args: readonly Expr[];
}

export interface Cast extends Span {
  readonly kind: "cast";
  readonly operand: Expr;
  /** Upper-cased SQL type name as written, e.g. "BIGINT", "DOUBLE", "VARCHAR". */
  readonly target: string;
  readonly targetPos: number;
}

/** `[a, b]` or a parenthesised list `(a, b)`; only meaningful as an argument of the array functions. */
export interface ArrayLit extends Span {
  readonly kind: "array";
  readonly elements: readonly Expr[];
}

export type Expr = Literal | ColumnRef | Unary | Binary | Logical | Is | In | Between | Like | Call | Cast | ArrayLit;
