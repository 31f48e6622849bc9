import { describe, expect, it } from "vitest";
import { isQuiverError } from "../../src/errors.js";
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, parseExpression, type Expr } from "../../src/filter/index.js";

/** Compact S-expression of a tree, for precedence checks. */
function sx(e: Expr): string {
  switch (e.kind) {
    case "literal":
      if (e.type === "string") return `'${e.value}'`;
      if (e.type === "timestamp") return `ts(${e.value})`;
      return String(e.value);
    case "column": return e.name;
    case "unary": return `(${e.op} ${sx(e.operand)})`;
    case "binary": return `(${e.op} ${sx(e.left)} ${sx(e.right)})`;
    case "logical": return `(${e.op} ${e.operands.map(sx).join(" ")})`;
    case "is": return `(IS${e.negated ? " NOT" : ""} ${e.test.toUpperCase()} ${sx(e.operand)})`;
    case "in": return `(${e.negated ? "NOT " : ""}IN ${sx(e.operand)} [${e.list.map(sx).join(" ")}])`;
    case "between": return `(${e.negated ? "NOT " : ""}BETWEEN ${sx(e.operand)} ${sx(e.low)} ${sx(e.high)})`;
    case "like": return `(${e.negated ? "NOT " : ""}${e.caseInsensitive ? "ILIKE" : "LIKE"} ${sx(e.operand)} ${sx(e.pattern)}${e.escape ? ` ${sx(e.escape)}` : ""})`;
    case "call": return `${e.name}(${e.args.map(sx).join(" ")})`;
    case "cast": return `cast(${sx(e.operand)} ${e.target})`;
    case "array": return `[${e.elements.map(sx).join(" ")}]`;
  }
}

const p = (sql: string): string => sx(parseExpression(sql));

function errorOf(sql: string): { message: string; position: number } {
  try {
    parseExpression(sql);
  } catch (e) {
    if (!isQuiverError(e, "INVALID_FILTER")) throw e;
    return { message: e.message, position: e.details.position! };
  }
  throw new Error(`expected ${JSON.stringify(sql)} to fail`);
}

describe("parseExpression: constructs", () => {
  it.each([
    ["a = 1", "(= a 1)"],
    ["a != 1", "(!= a 1)"],
    ["a <> 1", "(!= a 1)"],
    ["a < 1", "(< a 1)"],
    ["a <= 1", "(<= a 1)"],
    ["a > 1", "(> a 1)"],
    ["a >= 1", "(>= a 1)"],
    ["a IN (1, 2, 3)", "(IN a [1 2 3])"],
    ["a not in ('x')", "(NOT IN a ['x'])"],
    ["a BETWEEN 1 AND 5", "(BETWEEN a 1 5)"],
    ["a NOT BETWEEN 1 AND 5", "(NOT BETWEEN a 1 5)"],
    ["s LIKE 'a%'", "(LIKE s 'a%')"],
    ["s NOT LIKE 'a%'", "(NOT LIKE s 'a%')"],
    ["s ILIKE 'a%'", "(ILIKE s 'a%')"],
    ["s LIKE 'a!%' ESCAPE '!'", "(LIKE s 'a!%' '!')"],
    ["a IS NULL", "(IS NULL a)"],
    ["a IS NOT NULL", "(IS NOT NULL a)"],
    ["a IS TRUE", "(IS TRUE a)"],
    ["a IS NOT FALSE", "(IS NOT FALSE a)"],
    ["TRUE", "true"],
    ["false", "false"],
    ["NULL", "null"],
    ["'it''s'", "'it's'"],
    ["-a", "(- a)"],
    ["-5", "-5"],
    ["- -5", "(- -5)"],
    ["+a", "(+ a)"],
    ["1.5e3", "1500"],
    [".5", "0.5"],
    ["2E-2", "0.02"],
    ["9223372036854775807", "9223372036854775807"],
    ["-9223372036854775808", "-9223372036854775808"],
    ["99999999999999999999", "100000000000000000000"],
    ["`my col` = 1", "(= my col 1)"],
    ['"select" = 1', "(= select 1)"],
    ['"a""b" = 1', '(= a"b 1)'],
    ["`a``b` = 1", "(= a`b 1)"],
    ["array_has(tags, 'x')", "array_has(tags 'x')"],
    ["ARRAY_HAS_ANY(tags, ['x', 'y'])", "array_has_any(tags ['x' 'y'])"],
    ["array_has_all(tags, ('x', 'y'))", "array_has_all(tags ['x' 'y'])"],
    ["coalesce(a, b, 0)", "coalesce(a b 0)"],
    ["CAST(a AS DOUBLE PRECISION)", "cast(a DOUBLE PRECISION)"],
    ["cast(a as varchar(20))", "cast(a VARCHAR)"],
    ["[]", "[]"],
    ["timestamp = 1", "(= timestamp 1)"],
    ["date > DATE '2020-01-02'", `(> date ts(${Date.UTC(2020, 0, 2)}))`],
    ["TIMESTAMP '2020-01-01 12:00:00' < t", `(< ts(${Date.UTC(2020, 0, 1, 12)}) t)`],
    ["t < timestamp '2020-01-01T12:00:00.5+02:00'", `(< t ts(${Date.UTC(2020, 0, 1, 10, 0, 0, 500)}))`],
    ["Größe > 1", "(> Größe 1)"],
  ])("%s", (sql, tree) => {
    expect(p(sql)).toBe(tree);
  });

  it("keeps identifiers case-sensitive and keywords case-insensitive", () => {
    expect(p("Price > 1 aNd price < 2")).toBe("(AND (> Price 1) (< price 2))");
  });

  it("records source positions", () => {
    const e = parseExpression("  a >= 10") as Extract<Expr, { kind: "binary" }>;
    expect([e.pos, e.end, e.opPos, e.left.pos, e.right.pos, e.right.end]).toEqual([2, 9, 4, 2, 7, 9]);
  });

  it("keeps int64 literals exact", () => {
    const e = parseExpression("9007199254740993");
    expect(e).toMatchObject({ kind: "literal", type: "int", value: 9007199254740993n });
  });
});

describe("parseExpression: precedence", () => {
  it.each([
    ["a OR b AND c", "(OR a (AND b c))"],
    ["a AND b OR c AND d", "(OR (AND a b) (AND c d))"],
    ["NOT a AND b", "(AND (NOT a) b)"],
    ["NOT a = b", "(NOT (= a b))"],
    ["NOT NOT a", "(NOT (NOT a))"],
    ["a = 1 OR NOT b = 2 AND c", "(OR (= a 1) (AND (NOT (= b 2)) c))"],
    ["1 + 2 * 3", "(+ 1 (* 2 3))"],
    ["1 - 2 - 3", "(- (- 1 2) 3)"],
    ["8 / 4 % 3 * 2", "(* (% (/ 8 4) 3) 2)"],
    ["(1 + 2) * 3", "(* (+ 1 2) 3)"],
    ["-a * b", "(* (- a) b)"],
    ["a + 1 > b * 2", "(> (+ a 1) (* b 2))"],
    ["a BETWEEN 1 AND 2 AND b", "(AND (BETWEEN a 1 2) b)"],
    ["a BETWEEN b + 1 AND c * 2", "(BETWEEN a (+ b 1) (* c 2))"],
    ["a IS NULL OR b IS NOT NULL", "(OR (IS NULL a) (IS NOT NULL b))"],
    ["NOT a IS NULL", "(NOT (IS NULL a))"],
    ["a = b IS TRUE", "(IS TRUE (= a b))"],
    ["a + 1 IN (2, 3)", "(IN (+ a 1) [2 3])"],
    ["x AND (y OR z)", "(AND x (OR y z))"],
    ["a AND b AND c AND d", "(AND a b c d)"],
  ])("%s", (sql, tree) => {
    expect(p(sql)).toBe(tree);
  });
});

describe("parseExpression: errors", () => {
  it.each([
    ["", 0, "Filter is empty"],
    ["   ", 0, "Filter is empty"],
    ["a >", 3, "Expected a value but found end of input"],
    ["a > AND b", 4, "Expected a value but found keyword AND"],
    ["a = 1 AND", 9, "end of input"],
    ["(a > 1", 6, "Expected ')' to close the '(' at position 0"],
    ["a > (3))", 7, "Unexpected ')'"],
    ["a = 'abc", 4, "Unterminated string literal"],
    ["`abc = 1", 0, "Unterminated quoted identifier"],
    ["a = 1 $", 6, "Unexpected '$'"],
    ["a = 1 b", 6, "Unexpected 'b'"],
    ["a == 1", 2, "Unexpected '=='"],
    ["a && b", 2, "Write AND"],
    ["a < b < c", 6, "Comparisons do not chain"],
    ["a IN ()", 6, "at least one value"],
    ["a IN 1", 5, "Expected '('"],
    ["a BETWEEN 1 OR 2", 12, "Expected AND in BETWEEN"],
    ["a IS 5", 5, "Expected NULL, TRUE or FALSE"],
    ["1e+", 0, "Malformed number"],
    ["12abc = 1", 0, "Malformed number"],
    ["f(a,)", 4, "Expected a value after ','"],
    ["CAST(a INT)", 7, "Expected AS in CAST"],
    ["TIMESTAMP '2020-13-01'", 10, "Invalid TIMESTAMP literal"],
    ["DATE '2020-01-01 10:00'", 5, "Invalid DATE literal"],
    ["in = 1", 0, "quote it as `in`"],
    ["``", 0, "Empty quoted identifier"],
    ["a = 1\u0000", 5, "character U+0000"],
    ["1e999 > a", 0, "out of range"],
  ])("%j fails at %i", (sql, position, text) => {
    const err = errorOf(sql);
    expect(err.position).toBe(position);
    expect(err.message).toContain(text);
    expect(err.message).toContain(`at position ${position}`);
  });

  it("quotes the filter in the message", () => {
    expect(errorOf("a > (3))").message).toBe(`Unexpected ')' at position 7 in filter "a > (3))"`);
  });

  it("rejects input over the length limit without parsing it", () => {
    const err = errorOf(`a = '${"x".repeat(MAX_FILTER_LENGTH)}'`);
    expect(err.message).toContain("too long");
  });

  it("accepts input just under the length limit", () => {
    const sql = `a = '${"x".repeat(MAX_FILTER_LENGTH - 6)}'`;
    expect(sql.length).toBe(MAX_FILTER_LENGTH);
    expect(parseExpression(sql).kind).toBe("binary");
  });

  it.each([
    ["parentheses", (d: number) => "(".repeat(d) + "a" + ")".repeat(d)],
    ["NOT chains", (d: number) => "NOT ".repeat(d) + "a"],
    ["unary minus", (d: number) => "- ".repeat(d) + "a"],
    ["arithmetic chains", (d: number) => "a" + " + a".repeat(d)],
    ["function calls", (d: number) => "abs(".repeat(d) + "a" + ")".repeat(d)],
    ["lists", (d: number) => "[".repeat(d) + "]".repeat(d)],
  ])("limits nesting depth of %s without overflowing the stack", (_name, make) => {
    expect(() => parseExpression(make(MAX_FILTER_DEPTH - 2))).not.toThrow();
    for (const depth of [MAX_FILTER_DEPTH + 1, 10_000]) {
      const err = errorOf(make(depth));
      expect(err.message).toContain("nests too deeply");
    }
  });

  it("keeps long AND / OR chains flat instead of deep", () => {
    const sql = Array.from({ length: 3000 }, (_, i) => `id = ${i}`).join(" OR ");
    const e = parseExpression(sql);
    expect(e.kind).toBe("logical");
    expect((e as Extract<Expr, { kind: "logical" }>).operands).toHaveLength(3000);
  });
});
