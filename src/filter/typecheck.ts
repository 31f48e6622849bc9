/**
 * Resolves columns against the schema, checks types, applies the implicit conversions (NULL takes the
 * type of what it meets; a string constant compared with a timestamp is parsed as one) and folds
 * constant subtrees by running them through the evaluator once.
 *
 * Integers: every integer expression is int64. Its values are held as plain numbers while a bound on
 * their magnitude (from the column types and literals) proves they stay within ±2^53, and as bigints
 * otherwise, so results are exact either way.
 */
import { DivisionByZero, divisionHint } from "./kernels.js";
import { DataTypes, findField, typeToString, type DataType, type Schema } from "../data/schema.js";
import type { ArithOp, CompareOp, Expr } from "./ast.js";
import type { ArithMode, Bound, CompareMode, SqlType } from "./bound.js";
import { CAST_TYPE_NAMES, canCast, castTarget, intRange } from "./cast.js";
import { closeMatches, filterError } from "./diagnostics.js";
import { evaluateBound } from "./evaluate.js";
import { FUNCTION_NAMES, FUNCTIONS, MAX_EXACT_INT, type FunctionContext } from "./functions.js";
import { compileLike } from "./like.js";
import { parseTimestamp } from "./timestamp.js";
import { itemKey, reprOf, scalarVec, valueAt, type Repr, type Vec } from "./vector.js";

const NULL_TYPE: SqlType = { kind: "null" };
const BOOL = DataTypes.bool();
const INT64 = DataTypes.int64();
const FLOAT64 = DataTypes.float64();
const EXACT_BIG = BigInt(MAX_EXACT_INT);

export function show(t: SqlType): string {
  return t.kind === "null" ? "NULL" : typeToString(t);
}

const isNumeric = (t: SqlType): boolean => t.kind === "int" || t.kind === "float";

/** Constants evaluate with no table behind them. */
const CONST_CONTEXT = { n: 1, column: (): Vec => { throw new Error("constant folding read a column"); } };

type Node = Bound;

const FLIPPED: Record<CompareOp, CompareOp> = { "=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

export class Binder {
  constructor(private readonly sql: string, private readonly schema: Schema) {}

  fail(pos: number, what: string, hint = "", extra: Record<string, unknown> = {}): never {
    throw filterError(this.sql, pos, what, extra, hint);
  }

  private nullOf(type: SqlType, pos: number): Node {
    const repr = reprOf(type);
    return { op: "const", type, repr, maxAbs: 0, pos, value: scalarVec(repr, null) };
  }

  private constOf(type: SqlType, repr: Repr, value: unknown, pos: number, maxAbs = 0): Node {
    return { op: "const", type, repr, maxAbs, pos, value: scalarVec(repr, value) };
  }

  /** Runs a node whose inputs are all constants and keeps only its value. */
  private fold(node: Node, children: readonly Node[]): Node {
    if (children.length === 0 || !children.every((c) => c.op === "const")) return node;
    let value;
    try {
      value = evaluateBound(node, CONST_CONTEXT);
    } catch (e) {
      if (e instanceof DivisionByZero) this.fail(e.position, e.message, divisionHint(e));
      throw e;
    }
    return { op: "const", type: node.type, repr: value.kind === "null" ? node.repr : value.kind, maxAbs: node.maxAbs, pos: node.pos, value };
  }

  bind(e: Expr): Node {
    switch (e.kind) {
      case "literal": return this.literal(e);
      case "column": return this.column(e.name, e.pos);
      case "unary": return e.op === "NOT" ? this.not(this.bind(e.operand), e.pos) : this.unaryMinus(e.op, this.bind(e.operand), e.pos);
      case "logical": {
        const args = e.operands.map((o) => this.asBool(this.bind(o), e.op));
        return this.fold({ op: e.op === "AND" ? "and" : "or", type: BOOL, repr: "bool", maxAbs: 0, pos: e.pos, args }, args);
      }
      case "binary":
        return ["+", "-", "*", "/", "%"].includes(e.op)
          ? this.arith(e.op as ArithOp, this.bind(e.left), this.bind(e.right), e.opPos)
          : this.compare(e.op as CompareOp, this.bind(e.left), this.bind(e.right), e.opPos);
      case "is": {
        let arg = this.bind(e.operand);
        if (e.test !== "null") arg = this.asBool(arg, `IS ${e.test.toUpperCase()}`);
        return this.fold({ op: "is", test: e.test, negated: e.negated, arg, type: BOOL, repr: "bool", maxAbs: 0, pos: e.pos }, [arg]);
      }
      case "in": return this.in(e.operand, e.list, e.negated, e.pos);
      case "between": {
        let arg0 = this.bind(e.operand);
        const low = this.bind(e.low);
        const high = this.bind(e.high);
        // A NULL operand takes the type of the bounds, so that both comparisons agree on it.
        const boundType = [low, high].find((x) => x.type.kind !== "null")?.type;
        if (arg0.type.kind === "null" && boundType !== undefined) arg0 = this.nullOf(boundType, arg0.pos);
        const lo = this.comparable(arg0, low, e.low.pos, "BETWEEN");
        const hi = this.comparable(lo.left, high, e.high.pos, "BETWEEN");
        const node: Node = { op: "between", negated: e.negated, lowMode: lo.mode, highMode: hi.mode, arg: hi.left, low: lo.right, high: hi.right, type: BOOL, repr: "bool", maxAbs: 0, pos: e.pos };
        return this.fold(node, [hi.left, lo.right, hi.right]);
      }
      case "like": return this.like(e);
      case "call": return this.call(e.name, e.args, e.pos);
      case "cast": return this.cast(this.bind(e.operand), e.target, e.targetPos, e.pos);
      case "array": return this.array(e.elements, e.pos);
    }
  }

  private literal(e: Extract<Expr, { kind: "literal" }>): Node {
    switch (e.type) {
      case "null": return this.nullOf(NULL_TYPE, e.pos);
      case "bool": return this.constOf(BOOL, "bool", e.value, e.pos);
      case "int": {
        const abs = Math.abs(Number(e.value));
        const exact = e.value >= -EXACT_BIG && e.value <= EXACT_BIG;
        return exact ? this.constOf(INT64, "num", Number(e.value), e.pos, abs) : this.constOf(INT64, "i64", e.value, e.pos, Infinity);
      }
      case "float": return this.constOf(FLOAT64, "num", e.value, e.pos, Infinity);
      case "string": return this.constOf(DataTypes.utf8(), "str", e.value, e.pos);
      case "timestamp": return this.constOf(DataTypes.timestamp(), "num", e.value, e.pos);
    }
  }

  column(name: string, pos: number): Node {
    const f = findField(this.schema, name);
    if (f === undefined) {
      const names = this.schema.fields.map((x) => x.name);
      const near = closeMatches(name, names);
      const quotedWithDouble = this.sql[pos] === '"';
      const hint = [
        near.length > 0 ? `Did you mean ${near.map((c) => `\`${c}\``).join(" or ")}?` : `Columns: ${names.slice(0, 20).join(", ")}${names.length > 20 ? ", …" : ""}`,
        quotedWithDouble ? "Double quotes name a column; write text values in single quotes, as in 'abc'" : "",
      ].filter(Boolean).join(". ");
      this.fail(pos, `Unknown column "${name}"`, hint, { column: name, suggestions: near });
    }
    const t = f.type;
    const maxAbs = t.kind === "int" && t.bits < 64 ? Math.max(...intRange(t).map(Math.abs)) : t.kind === "int" ? Infinity : Infinity;
    return { op: "column", name, type: t, repr: reprOf(t), maxAbs, pos };
  }

  private asBool(n: Node, where: string): Node {
    if (n.type.kind === "null") return this.nullOf(BOOL, n.pos);
    if (n.type.kind !== "bool") {
      this.fail(n.pos, `${where} needs a boolean condition, got ${show(n.type)}`, isNumeric(n.type) ? "Compare it, as in x > 0" : "");
    }
    return n;
  }

  private not(arg: Node, pos: number): Node {
    const a = this.asBool(arg, "NOT");
    return this.fold({ op: "not", arg: a, type: BOOL, repr: "bool", maxAbs: 0, pos }, [a]);
  }

  private unaryMinus(op: "-" | "+", arg: Node, pos: number): Node {
    if (arg.type.kind === "null") return arg;
    if (!isNumeric(arg.type)) this.fail(arg.pos, `Unary '${op}' needs a number, got ${show(arg.type)}`);
    if (op === "+") return arg;
    const type = arg.type.kind === "float" ? FLOAT64 : INT64;
    return this.fold({ op: "neg", arg, type, repr: arg.repr, maxAbs: arg.maxAbs, pos }, [arg]);
  }

  private arith(op: ArithOp, left: Node, right: Node, pos: number): Node {
    for (const side of [left, right]) {
      if (side.type.kind === "null" || isNumeric(side.type)) continue;
      const hint = side.type.kind === "timestamp" ? "Arithmetic on timestamps is not supported; compare with TIMESTAMP '…' values instead" : "";
      this.fail(side.pos, `Operator '${op}' needs numbers, got ${show(side.type)}`, hint);
    }
    const isFloat = left.type.kind === "float" || right.type.kind === "float";
    const type: SqlType = left.type.kind === "null" && right.type.kind === "null" ? NULL_TYPE : isFloat ? FLOAT64 : INT64;
    if (left.type.kind === "null" || right.type.kind === "null") return this.nullOf(type, pos);
    let mode: ArithMode = "float";
    let maxAbs = Infinity;
    if (!isFloat) {
      const a = left.maxAbs;
      const b = right.maxAbs;
      maxAbs = op === "+" || op === "-" ? a + b : op === "*" ? a * b : op === "/" ? a : Math.min(a, b);
      mode = left.repr === "i64" || right.repr === "i64" || maxAbs > MAX_EXACT_INT ? "i64" : "int";
      if (mode === "i64") maxAbs = Infinity;
    }
    const node: Node = { op: "arith", arith: op, mode, left, right, type, repr: mode === "i64" ? "i64" : "num", maxAbs, pos };
    return this.fold(node, [left, right]);
  }

  /** Makes two operands comparable (NULL and string-as-timestamp conversions) and picks the comparison mode. */
  comparable(left: Node, right: Node, pos: number, opText: string): { left: Node; right: Node; mode: CompareMode } {
    const lt = left.type;
    const rt = right.type;
    if (lt.kind === "null" && rt.kind === "null") return { left: this.nullOf(BOOL, left.pos), right: this.nullOf(BOOL, right.pos), mode: "num" };
    if (lt.kind === "null") return this.comparable(this.nullOf(rt, left.pos), right, pos, opText);
    if (rt.kind === "null") return this.comparable(left, this.nullOf(lt, right.pos), pos, opText);
    if (lt.kind === "timestamp" && rt.kind === "utf8") return { left, right: this.toTimestamp(right, opText), mode: "num" };
    if (lt.kind === "utf8" && rt.kind === "timestamp") return { left: this.toTimestamp(left, opText), right, mode: "num" };
    if (isNumeric(lt) && isNumeric(rt)) return { left, right, mode: left.repr === "i64" || right.repr === "i64" ? "mixed" : "num" };
    if (lt.kind === rt.kind && (lt.kind === "utf8" || lt.kind === "bool" || lt.kind === "timestamp")) return { left, right, mode: lt.kind === "utf8" ? "str" : "num" };
    let hint = "";
    if ((lt.kind === "utf8" && isNumeric(rt)) || (isNumeric(lt) && rt.kind === "utf8")) hint = "Write numbers without quotes and text in single quotes";
    else if (lt.kind === "vector" || rt.kind === "vector") hint = "Vector columns can only be tested with IS NULL; search them with nearestTo()";
    else if (lt.kind === "list" || rt.kind === "list") hint = "Test list membership with array_has(list, value)";
    return this.fail(pos, `Cannot compare ${show(lt)} with ${show(rt)} in ${opText}`, hint);
  }

  private toTimestamp(n: Node, opText: string): Node {
    if (n.op !== "const") this.fail(n.pos, `Cannot compare timestamp with a utf8 column in ${opText}`, "Use CAST(x AS TIMESTAMP)");
    const text = valueAt(n.value, 0);
    if (text === null) return this.nullOf(DataTypes.timestamp(), n.pos);
    const ms = parseTimestamp(text as string);
    if (ms === null) this.fail(n.pos, `'${String(text).slice(0, 40)}' is not a timestamp`, "Write timestamps as 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS[.fff][Z|±HH:MM]'");
    return this.constOf(DataTypes.timestamp(), "num", ms, n.pos);
  }

  private compare(op0: CompareOp, left0: Node, right0: Node, pos: number): Node {
    const pair = this.comparable(left0, right0, pos, `'${op0}'`);
    const mode = pair.mode;
    let { left, right } = pair;
    let op = op0;
    // Keep constants on the right: the kernels have a fast path for column <op> constant.
    if (left.op === "const" && right.op !== "const") {
      [left, right] = [right, left];
      op = FLIPPED[op];
    }
    return this.fold({ op: "compare", cmp: op, mode, left, right, type: BOOL, repr: "bool", maxAbs: 0, pos }, [left, right]);
  }

  private in(operand: Expr, list: readonly Expr[], negated: boolean, pos: number): Node {
    let arg = this.bind(operand);
    const values = list.map((x) => this.bind(x));
    const pairs = values.map((v) => this.comparable(arg, v, v.pos, "IN"));
    if (arg.type.kind === "null") return this.nullOf(BOOL, pos);
    arg = pairs[0]!.left;
    if (pairs.every((p) => p.right.op === "const")) {
      const keys = new Set<unknown>();
      let listHasNull = false;
      for (const { right } of pairs) {
        const v = (right as Extract<Node, { op: "const" }>).value;
        const x = valueAt(v, 0);
        if (x === null) listHasNull = true;
        else keys.add(v.kind === "num" || v.kind === "i64" ? itemKey(x) : x);
      }
      return this.fold({ op: "in", negated, arg, keys, listHasNull, type: BOOL, repr: "bool", maxAbs: 0, pos }, [arg]);
    }
    const equalities: Node[] = pairs.map((p) => ({ op: "compare", cmp: "=", mode: p.mode, left: p.left, right: p.right, type: BOOL, repr: "bool", maxAbs: 0, pos: p.right.pos }));
    const any: Node = equalities.length === 1 ? equalities[0]! : { op: "or", args: equalities, type: BOOL, repr: "bool", maxAbs: 0, pos };
    return negated ? { op: "not", arg: any, type: BOOL, repr: "bool", maxAbs: 0, pos } : any;
  }

  private like(e: Extract<Expr, { kind: "like" }>): Node {
    const word = e.caseInsensitive ? "ILIKE" : "LIKE";
    const arg = this.bind(e.operand);
    const pattern = this.bind(e.pattern);
    for (const side of [arg, pattern]) {
      if (side.type.kind !== "null" && side.type.kind !== "utf8") this.fail(side.pos, `${word} needs text, got ${show(side.type)}`);
    }
    let escape = "\\";
    if (e.escape !== null) {
      const esc = this.bind(e.escape);
      const text = esc.op === "const" && esc.type.kind === "utf8" ? (valueAt(esc.value, 0) as string) : null;
      if (text === null || Array.from(text).length > 1) this.fail(esc.pos, "ESCAPE needs a string literal of one character (or '' for none)");
      escape = text;
    }
    if (arg.type.kind === "null" || pattern.type.kind === "null") return this.nullOf(BOOL, e.pos);
    let matcher = null;
    if (pattern.op === "const") matcher = compileLike(valueAt(pattern.value, 0) as string, escape, e.caseInsensitive);
    const node: Node = { op: "like", negated: e.negated, caseInsensitive: e.caseInsensitive, arg, pattern, escape, matcher, type: BOOL, repr: "bool", maxAbs: 0, pos: e.pos };
    return this.fold(node, [arg, pattern]);
  }

  private call(name: string, argExprs: readonly Expr[], pos: number): Node {
    const check = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
    if (check === undefined) {
      const near = closeMatches(name, FUNCTION_NAMES);
      this.fail(pos, `Unknown function ${name}()`, near.length > 0 ? `Did you mean ${near.map((x) => `${x}()`).join(" or ")}?` : `Functions: ${FUNCTION_NAMES.join(", ")}`);
    }
    const args = argExprs.map((a) => this.bind(a));
    const ctx: FunctionContext = {
      name,
      fail: (i, message) => this.fail(i === null ? pos : args[i]!.pos, message),
      show,
      coerceComparable: (arg, to, i) => this.comparable(arg, this.nullOf(to, arg.pos), args[i]!.pos, `${name}()`).left,
      checkComparable: (a, b, i) => { this.comparable(this.nullOf(a, pos), this.nullOf(b, pos), args[i]!.pos, `${name}()`); },
      unify: (xs) => this.unify(xs, name, pos),
    };
    const checked = check(ctx, args);
    const repr: Repr = checked.type.kind === "int" && checked.maxAbs <= MAX_EXACT_INT ? "num" : reprOf(checked.type);
    const node: Node = { op: "call", name, fn: checked.fn, args: checked.args, type: checked.type, repr, maxAbs: checked.maxAbs, pos };
    return this.fold(node, checked.args);
  }

  /** The common type of COALESCE's arguments. */
  private unify(args: readonly Node[], name: string, pos: number): { type: SqlType; repr: Repr; args: Node[]; maxAbs: number } {
    const typed = args.filter((a) => a.type.kind !== "null");
    if (typed.length === 0) return { type: NULL_TYPE, repr: "null", args: [...args], maxAbs: 0 };
    let type: SqlType = typed[0]!.type;
    if (typed.every((a) => isNumeric(a.type))) {
      const maxAbs = Math.max(...typed.map((a) => a.maxAbs));
      if (typed.some((a) => a.type.kind === "float")) type = FLOAT64;
      else return { type: INT64, repr: maxAbs <= MAX_EXACT_INT && typed.every((a) => a.repr === "num") ? "num" : "i64", args: args.map((a) => (a.type.kind === "null" ? this.nullOf(INT64, a.pos) : a)), maxAbs };
    } else if (typed.some((a) => a.type.kind === "timestamp")) type = DataTypes.timestamp();
    const out = args.map((a) => (a.type.kind === "null" ? this.nullOf(type, a.pos) : this.comparable(a, this.nullOf(type, pos), a.pos, `${name}()`).left));
    for (const a of out) {
      if (JSON.stringify(a.type) !== JSON.stringify(type) && !(isNumeric(a.type) && isNumeric(type))) this.fail(a.pos, `${name}() arguments must share a type: got ${show(a.type)} and ${show(type)}`);
    }
    return { type, repr: reprOf(type), args: out, maxAbs: Infinity };
  }

  private cast(arg: Node, targetName: string, targetPos: number, pos: number): Node {
    const target = castTarget(targetName);
    if (target === undefined) this.fail(targetPos, `Unknown type ${targetName} in CAST`, `Types: ${CAST_TYPE_NAMES.join(", ")}`);
    if (!canCast(arg.type, target)) this.fail(pos, `Cannot CAST ${show(arg.type)} to ${targetName}`);
    const maxAbs = target.kind === "int" && target.bits < 64 ? Math.max(...intRange(target).map(Math.abs)) : Infinity;
    const node: Node = { op: "cast", target, toDate: targetName === "DATE", arg, type: target, repr: reprOf(target), maxAbs, pos };
    return this.fold(node, [arg]);
  }

  private array(elements: readonly Expr[], pos: number): Node {
    const values = elements.map((x) => this.bind(x));
    for (const v of values) {
      if (v.op !== "const") this.fail(v.pos, "List values must be constants");
      if (v.type.kind === "list" || v.type.kind === "vector") this.fail(v.pos, "Lists cannot hold lists");
    }
    const { type, args } = this.unify(values, "list", pos);
    const items = args.map((a) => {
      const v = (a as Extract<Node, { op: "const" }>).value;
      const x = valueAt(v, 0);
      return x === null ? null : v.kind === "bool" ? x === 1 : itemKey(x);
    });
    const listType = { kind: "list", item: type } as DataType;
    return this.constOf(listType, "list", items, pos);
  }
}
