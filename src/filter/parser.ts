/**
 * Recursive-descent parser for the filter language (grammar in docs/FILTERS.md). Precedence, loosest first:
 *
 *   OR  <  AND  <  NOT  <  IS [NOT] NULL|TRUE|FALSE  <  = != <> < <= > >=  <  [NOT] IN|BETWEEN|LIKE|ILIKE
 *       <  + -  <  * / %  <  unary - +  <  literals, columns, calls, CAST, ( ), [ ]
 *
 * Comparisons do not chain (`a < b < c` is an error). Two limits keep hostile input cheap: the text
 * length and the nesting depth, counted both as parser recursion and as depth of the finished tree,
 * so neither parsing nor the later tree walks can overflow the stack.
 */
import type { ArithOp, CompareOp, Expr } from "./ast.js";
import { filterError, showText } from "./diagnostics.js";
import { tokenize, type Token } from "./lexer.js";
import { parseTimestamp } from "./timestamp.js";

/** Longest accepted filter, in UTF-16 code units. */
export const MAX_FILTER_LENGTH = 65_536;
/** Deepest accepted nesting (parentheses, operators, calls). */
export const MAX_FILTER_DEPTH = 200;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const COMPARE_OPS = new Set(["=", "!=", "<", "<=", ">", ">="]);

export function parseExpression(sql: string): Expr {
  if (typeof sql !== "string") throw filterError(String(sql), 0, `A filter must be a string, got ${typeof sql}`);
  if (sql.length > MAX_FILTER_LENGTH) {
    throw filterError(sql, MAX_FILTER_LENGTH, `Filter is too long (${sql.length} characters; the limit is ${MAX_FILTER_LENGTH})`);
  }
  const parser = new Parser(sql, tokenize(sql));
  return parser.parseAll();
}

class Parser {
  private at = 0;
  private depth = 0;
  /** Height of each finished subtree; the tree is plain data, so this lives beside it. */
  private readonly heights = new WeakMap<Expr, number>();

  constructor(private readonly sql: string, private readonly tokens: Token[]) {}

  parseAll(): Expr {
    if (this.peek().kind === "eof") throw filterError(this.sql, 0, "Filter is empty");
    const expr = this.parseOr();
    const tok = this.peek();
    if (tok.kind !== "eof") throw this.unexpected(tok);
    return expr;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.at + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const tok = this.peek();
    if (tok.kind !== "eof") this.at++;
    return tok;
  }

  private isKeyword(word: string, offset = 0): boolean {
    const tok = this.peek(offset);
    return tok.kind === "keyword" && tok.text === word;
  }

  /** Contextual words (CAST, AS, TIMESTAMP, DATE, ESCAPE) are plain identifiers to the lexer. */
  private isWord(word: string, offset = 0): boolean {
    const tok = this.peek(offset);
    return tok.kind === "ident" && tok.text.toUpperCase() === word;
  }

  private isOp(op: string, offset = 0): boolean {
    const tok = this.peek(offset);
    return tok.kind === "op" && tok.text === op;
  }

  private expectOp(op: string, opener?: Token): Token {
    const tok = this.peek();
    if (tok.kind === "op" && tok.text === op) return this.next();
    const context = opener ? ` to close the '${opener.text}' at position ${opener.pos}` : "";
    throw filterError(this.sql, tok.pos, `Expected '${op}'${context} but found ${this.describe(tok)}`);
  }

  private describe(tok: Token): string {
    switch (tok.kind) {
      case "eof": return "end of input";
      case "string": return "a string literal";
      case "keyword": return `keyword ${tok.text}`;
      default: return showText(this.sql.slice(tok.pos, tok.end));
    }
  }

  private unexpected(tok: Token): Error {
    if (tok.kind === "eof") return filterError(this.sql, tok.pos, "Unexpected end of input");
    const hint = tok.kind === "keyword" && !["NULL", "TRUE", "FALSE"].includes(tok.text)
      ? `If ${tok.text.toLowerCase()} is a column name, quote it as \`${tok.text.toLowerCase()}\``
      : "";
    return filterError(this.sql, tok.pos, `Unexpected ${this.describe(tok)}`, {}, hint);
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_FILTER_DEPTH) {
      throw filterError(this.sql, pos, `Filter nests too deeply (more than ${MAX_FILTER_DEPTH} levels)`);
    }
  }

  private leave(): void {
    this.depth--;
  }

  /** Records a node's tree height and rejects trees deeper than the limit. */
  private node<T extends Expr>(expr: T, children: readonly Expr[], errorPos: number = expr.pos): T {
    let h = 0;
    for (const c of children) h = Math.max(h, this.heights.get(c) ?? 1);
    if (h + 1 > MAX_FILTER_DEPTH) throw filterError(this.sql, errorPos, `Filter nests too deeply (more than ${MAX_FILTER_DEPTH} levels)`);
    this.heights.set(expr, h + 1);
    return expr;
  }

  private parseOr(): Expr {
    return this.parseLogical("OR", () => this.parseAnd());
  }

  private parseAnd(): Expr {
    return this.parseLogical("AND", () => this.parseNot());
  }

  private parseLogical(op: "AND" | "OR", operand: () => Expr): Expr {
    const first = operand();
    if (!this.isKeyword(op)) return first;
    const operands = [first];
    while (this.isKeyword(op)) {
      this.next();
      operands.push(operand());
    }
    const last = operands[operands.length - 1]!;
    return this.node({ kind: "logical", op, operands, pos: first.pos, end: last.end }, operands);
  }

  private parseNot(): Expr {
    if (!this.isKeyword("NOT")) return this.parseIs();
    const tok = this.next();
    this.enter(tok.pos);
    const operand = this.parseNot();
    this.leave();
    return this.node({ kind: "unary", op: "NOT", operand, pos: tok.pos, end: operand.end }, [operand]);
  }

  private parseIs(): Expr {
    let left = this.parseComparison();
    while (this.isKeyword("IS")) {
      this.next();
      let negated = false;
      if (this.isKeyword("NOT")) { this.next(); negated = true; }
      const tok = this.next();
      const test = tok.kind === "keyword" ? ({ NULL: "null", TRUE: "true", FALSE: "false" } as const)[tok.text as "NULL"] : undefined;
      if (test === undefined) throw filterError(this.sql, tok.pos, `Expected NULL, TRUE or FALSE after IS${negated ? " NOT" : ""} but found ${this.describe(tok)}`);
      left = this.node({ kind: "is", test, negated, operand: left, pos: left.pos, end: tok.end }, [left]);
    }
    return left;
  }

  private parseComparison(): Expr {
    const left = this.parsePredicate();
    const tok = this.peek();
    if (tok.kind !== "op" || !COMPARE_OPS.has(tok.text)) return left;
    this.next();
    const right = this.parsePredicate();
    const after = this.peek();
    if (after.kind === "op" && COMPARE_OPS.has(after.text)) {
      throw filterError(this.sql, after.pos, `Unexpected '${after.text}'`, {}, "Comparisons do not chain; combine them with AND, as in a < b AND b < c");
    }
    return this.node({ kind: "binary", op: tok.text as CompareOp, opPos: tok.pos, left, right, pos: left.pos, end: right.end }, [left, right], tok.pos);
  }

  private parsePredicate(): Expr {
    const operand = this.parseAdditive();
    let negated = false;
    let k = 0;
    if (this.isKeyword("NOT") && ["IN", "BETWEEN", "LIKE", "ILIKE"].some((w) => this.isKeyword(w, 1))) { negated = true; k = 1; }
    const tok = this.peek(k);
    if (tok.kind !== "keyword") return operand;
    switch (tok.text) {
      case "IN": {
        this.at += k + 1;
        const open = this.expectOp("(");
        if (this.isOp(")")) throw filterError(this.sql, this.peek().pos, "An IN list needs at least one value");
        this.enter(open.pos);
        const list = this.parseList(")");
        this.leave();
        const close = this.expectOp(")", open);
        return this.node({ kind: "in", negated, operand, list, pos: operand.pos, end: close.end }, [operand, ...list], tok.pos);
      }
      case "BETWEEN": {
        this.at += k + 1;
        const low = this.parseAdditive();
        if (!this.isKeyword("AND")) throw filterError(this.sql, this.peek().pos, `Expected AND in BETWEEN but found ${this.describe(this.peek())}`);
        this.next();
        const high = this.parseAdditive();
        return this.node({ kind: "between", negated, operand, low, high, pos: operand.pos, end: high.end }, [operand, low, high], tok.pos);
      }
      case "LIKE":
      case "ILIKE": {
        this.at += k + 1;
        const pattern = this.parseAdditive();
        let escape: Expr | null = null;
        if (this.isWord("ESCAPE")) {
          this.next();
          escape = this.parseAdditive();
        }
        const end = (escape ?? pattern).end;
        const children = escape ? [operand, pattern, escape] : [operand, pattern];
        return this.node({ kind: "like", negated, caseInsensitive: tok.text === "ILIKE", operand, pattern, escape, pos: operand.pos, end }, children, tok.pos);
      }
      default:
        return operand;
    }
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    while (this.isOp("+") || this.isOp("-")) {
      const tok = this.next();
      const right = this.parseMultiplicative();
      left = this.node({ kind: "binary", op: tok.text as ArithOp, opPos: tok.pos, left, right, pos: left.pos, end: right.end }, [left, right], tok.pos);
    }
    return left;
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("%")) {
      const tok = this.next();
      const right = this.parseUnary();
      left = this.node({ kind: "binary", op: tok.text as ArithOp, opPos: tok.pos, left, right, pos: left.pos, end: right.end }, [left, right], tok.pos);
    }
    return left;
  }

  private parseUnary(): Expr {
    if (!this.isOp("-") && !this.isOp("+")) return this.parsePrimary();
    const tok = this.next();
    // "-5" is one literal, so that the most negative int64 is writable.
    if (tok.text === "-" && this.peek().kind === "number") return this.number(this.next(), tok.pos);
    this.enter(tok.pos);
    const operand = this.parseUnary();
    this.leave();
    return this.node({ kind: "unary", op: tok.text as "-" | "+", operand, pos: tok.pos, end: operand.end }, [operand]);
  }

  private parsePrimary(): Expr {
    const tok = this.peek();
    switch (tok.kind) {
      case "number":
        return this.number(this.next(), null);
      case "string":
        this.next();
        return this.node({ kind: "literal", type: "string", value: tok.text, pos: tok.pos, end: tok.end }, []);
      case "keyword":
        if (tok.text === "NULL") { this.next(); return this.node({ kind: "literal", type: "null", value: null, pos: tok.pos, end: tok.end }, []); }
        if (tok.text === "TRUE" || tok.text === "FALSE") {
          this.next();
          return this.node({ kind: "literal", type: "bool", value: tok.text === "TRUE", pos: tok.pos, end: tok.end }, []);
        }
        throw filterError(this.sql, tok.pos, `Expected a value but found keyword ${tok.text}`, {}, `If ${tok.text.toLowerCase()} is a column name, quote it as \`${tok.text.toLowerCase()}\``);
      case "quoted":
        this.next();
        return this.node({ kind: "column", name: tok.text, pos: tok.pos, end: tok.end }, []);
      case "ident":
        return this.parseWord();
      case "op":
        if (tok.text === "(") return this.parseParens();
        if (tok.text === "[") {
          this.next();
          this.enter(tok.pos);
          const elements = this.isOp("]") ? [] : this.parseList("]");
          this.leave();
          const close = this.expectOp("]", tok);
          return this.node({ kind: "array", elements, pos: tok.pos, end: close.end }, elements);
        }
        throw filterError(this.sql, tok.pos, `Expected a value but found ${this.describe(tok)}`);
      case "eof":
        throw filterError(this.sql, tok.pos, "Expected a value but found end of input");
    }
  }

  private parseParens(): Expr {
    const open = this.next();
    this.enter(open.pos);
    const first = this.parseOr();
    if (this.isOp(",")) {
      this.next();
      const elements = [first, ...this.parseList(")")];
      this.leave();
      const close = this.expectOp(")", open);
      return this.node({ kind: "array", elements, pos: open.pos, end: close.end }, elements);
    }
    this.leave();
    this.expectOp(")", open);
    return first;
  }

  /** expr (, expr)* — stops before the closing token, which the caller consumes. */
  private parseList(close: string): Expr[] {
    const items = [this.parseOr()];
    while (this.isOp(",")) {
      this.next();
      if (this.isOp(close)) throw filterError(this.sql, this.peek().pos, `Expected a value after ',' but found '${close}'`);
      items.push(this.parseOr());
    }
    return items;
  }

  private parseWord(): Expr {
    const tok = this.next();
    const upper = tok.text.toUpperCase();
    const following = this.peek();
    if ((upper === "TIMESTAMP" || upper === "DATE") && following.kind === "string") {
      this.next();
      const dateOnly = /^\s*\d{4}-\d{2}-\d{2}\s*$/.test(following.text);
      const ms = upper === "DATE" && !dateOnly ? null : parseTimestamp(following.text);
      if (ms === null) {
        const form = upper === "DATE" ? "'YYYY-MM-DD'" : "'YYYY-MM-DD HH:MM:SS[.fff][Z|±HH:MM]'";
        throw filterError(this.sql, following.pos, `Invalid ${upper} literal '${following.text.slice(0, 40)}'`, {}, `Write it as ${form}`);
      }
      return this.node({ kind: "literal", type: "timestamp", value: ms, text: following.text, pos: tok.pos, end: following.end }, []);
    }
    if (following.kind === "op" && following.text === "(") {
      if (upper === "CAST") return this.parseCast(tok);
      const open = this.next();
      this.enter(open.pos);
      const args = this.isOp(")") ? [] : this.parseList(")");
      this.leave();
      const close = this.expectOp(")", open);
      return this.node({ kind: "call", name: tok.text.toLowerCase(), args, pos: tok.pos, end: close.end }, args);
    }
    return this.node({ kind: "column", name: tok.text, pos: tok.pos, end: tok.end }, []);
  }

  private parseCast(castTok: Token): Expr {
    const open = this.next();
    this.enter(open.pos);
    const operand = this.parseOr();
    this.leave();
    if (!this.isWord("AS")) throw filterError(this.sql, this.peek().pos, `Expected AS in CAST but found ${this.describe(this.peek())}`);
    this.next();
    const typeTok = this.next();
    if (typeTok.kind !== "ident") throw filterError(this.sql, typeTok.pos, `Expected a type name after AS but found ${this.describe(typeTok)}`);
    let target = typeTok.text.toUpperCase();
    if (target === "DOUBLE" && this.isWord("PRECISION")) { this.next(); target = "DOUBLE PRECISION"; }
    // VARCHAR(255) and the like: the length is accepted and ignored.
    if (this.isOp("(") && this.peek(1).kind === "number" && this.isOp(")", 2)) this.at += 3;
    const close = this.expectOp(")", open);
    return this.node({ kind: "cast", operand, target, targetPos: typeTok.pos, pos: castTok.pos, end: close.end }, [operand]);
  }

  private number(tok: Token, minusPos: number | null): Expr {
    const negative = minusPos !== null;
    const pos = minusPos ?? tok.pos;
    if (/^\d+$/.test(tok.text)) {
      const big = negative ? -BigInt(tok.text) : BigInt(tok.text);
      if (big >= INT64_MIN && big <= INT64_MAX) return this.node({ kind: "literal", type: "int", value: big, pos, end: tok.end }, []);
    }
    const value = Number(tok.text);
    if (!Number.isFinite(value)) throw filterError(this.sql, pos, `Number '${tok.text.slice(0, 40)}' is out of range`);
    return this.node({ kind: "literal", type: "float", value: negative ? -value : value, pos, end: tok.end }, []);
  }
}
