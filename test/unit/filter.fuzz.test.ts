import { describe, expect, it } from "vitest";
import { buildColumn, type Column, type ColumnSource } from "../../src/data/column.js";
import { DataTypes as T, field, schema } from "../../src/data/schema.js";
import { isQuiverError } from "../../src/errors.js";
import { compileExpression, compileFilter } from "../../src/filter/index.js";
import { seededRandom as mulberry32 } from "../../src/ann/common.js";

/**
 * Every input either compiles (and then evaluates without throwing) or fails with INVALID_FILTER
 * carrying a position inside the input. Seeded, so a failure names the seed and the input.
 */

const SEED = 20_240_601;
const CASES = 100_000;


const SCHEMA = schema([
  field("i", T.int32()), field("b", T.int64()), field("f", T.float32()), field("s", T.utf8()),
  field("flag", T.bool()), field("ts", T.timestamp()), field("tags", T.list(T.utf8())),
  field("nums", T.list(T.int64())), field("vec", T.vector(2)), field("my col", T.uint16()),
]);

const N = 12;
const DATA: Record<string, unknown[]> = {
  i: [0, 1, -1, null, 2147483647, -2147483648, 7, 3, null, 5, 0, 100],
  b: [0n, 9007199254740993n, null, -(2n ** 63n), 2n ** 63n - 1n, 5n, -5n, null, 1n, 2n, 3n, 4n],
  f: [0, 1.5, -1.5, null, NaN, Infinity, -Infinity, 3.25, -0, 1e30, null, 2],
  s: ["", "a", "abc", null, "a%b", "𝒳", "ÄÖ", "x\\y", "it's", "%%%", "_", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"],
  flag: [true, false, null, true, false, null, true, false, true, false, true, null],
  ts: [0, 1577836800000, null, -86400000, 1e12, 1.7e12, 0, null, 86400000, 2e12, 3, 4],
  tags: [["a"], [], null, ["a", "b"], ["b"], ["c", null], ["a"], [], null, ["x"], ["a", "a"], ["z"]],
  nums: [[1n], [], null, [9007199254740993n], [0n, -1n], [5n], [1n, 2n], [], null, [3n], [4n], [2n ** 62n]],
  vec: [[0, 1], null, [1, 1], [2, 2], null, [0, 0], [1, 0], [3, 3], [4, 4], [5, 5], [6, 6], [7, 7]],
  "my col": [0, 1, 2, null, 65535, 5, 6, 7, 8, 9, 10, 11],
};

// Writes refuse NaN, but the evaluator must still cope with one (a file written elsewhere, a
// computed value): build with a stand-in, then put the NaN in place.
const COLUMNS = new Map<string, Column>(SCHEMA.fields.map((f) => {
  const values = DATA[f.name]!;
  const col = buildColumn(f.type, values.map((v) => (Number.isNaN(v) ? 0 : v)), true, { column: f.name, rowOffset: 0 });
  values.forEach((v, i) => { if (Number.isNaN(v)) (col.data as Float64Array)[i] = NaN; });
  return [f.name, col];
}));
const SOURCE: ColumnSource = { numRows: N, column: (name) => COLUMNS.get(name)! };

const VOCAB = [
  "i", "b", "f", "s", "flag", "ts", "tags", "nums", "vec", "`my col`", '"my col"', "x", "I", "S",
  "AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "ILIKE", "ESCAPE", "IS", "NULL", "TRUE", "FALSE", "and", "not",
  "=", "!=", "<>", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "(", ")", "(", ")", ",", "[", "]",
  "0", "1", "-1", "2.5", ".5", "1e3", "1e", "9223372036854775807", "9223372036854775808", "9007199254740993", "1e400",
  "'a'", "'%a%'", "''", "'it''s'", "'2020-01-01'", "'not a date'", "'", "'abc", "`", "\"",
  "TIMESTAMP '2020-01-01 10:00:00'", "DATE '2020-02-30'", "DATE '2020-01-01'", "TIMESTAMP",
  "CAST(", "AS", "INT", "BIGINT", "VARCHAR", "DOUBLE", "DATE", "BOOLEAN", "FLOAT16", "BLOB",
  "lower(", "upper(", "length(", "abs(", "coalesce(", "array_has(", "array_has_any(", "array_has_all(",
  "array_length(", "array_contains(", "nope(", "$", "?", ";", "--", "::", "&&", "||", "==", "é", "𝒳", "\u0000", "\n",
];

const SEEDS = [
  "i > 1 AND s LIKE 'a%'", "b = 9007199254740993 OR f / 0 IS NULL", "ts BETWEEN '2020-01-01' AND DATE '2021-01-01'",
  "array_has(tags, 'a') AND NOT flag", "array_has_any(nums, [1, 2]) OR array_length(tags) > 1",
  "coalesce(i, 0) + `my col` * 2 >= 3", "s ILIKE '%\\%%' ESCAPE '\\'", "CAST(i AS VARCHAR) = '7'",
  "i IN (1, 2, NULL) OR s NOT IN ('a', 'abc')", "(i + 1) * (b - 2) % 3 = 0", "vec IS NOT NULL AND flag IS NOT FALSE",
  "lower(s) = upper(s) OR length(s) < 2", "-i > abs(f) AND \"my col\" <> 2", "CAST(s AS BIGINT) > 0",
  "CAST(ts AS DATE) = DATE '1970-01-01'", "b * b * b > 0", "array_has_all(tags, ('a', 'b'))",
];

const NASTY = ["(", ")", "'", '"', "`", ",", " ", "\u0000", "\u001f", "\u007f", "\u2028", "\ud800", "\udfff", "é", "𝒳", "%", "_", "\\", "-", "[", "]", "0", "9", "e", "N", "=", "<", ">"];

function tokenStream(r: () => number): string {
  const n = 1 + Math.floor(r() * 14);
  const parts: string[] = [];
  for (let k = 0; k < n; k++) parts.push(VOCAB[Math.floor(r() * VOCAB.length)]!);
  return parts.join(r() < 0.8 ? " " : "");
}

function mutate(sql: string, r: () => number): string {
  let s = sql;
  const edits = 1 + Math.floor(r() * 3);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 7)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 4)); break;
      case 1: s = s.slice(0, at) + NASTY[Math.floor(r() * NASTY.length)]! + s.slice(at); break;
      case 2: { const j = Math.floor(r() * s.length); const a = [...s]; [a[at], a[j]] = [a[j]!, a[at]!]; s = a.join(""); break; }
      case 3: s = s.slice(0, at); break;
      case 4: s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x10000)) + s.slice(at); break;
      case 5: s = s.slice(0, at) + VOCAB[Math.floor(r() * VOCAB.length)]! + s.slice(at); break;
      default: { const len = Math.floor(r() * 6); s = s.slice(0, at) + s.slice(at, at + len).repeat(2) + s.slice(at + len); }
    }
  }
  return s;
}

function nested(r: () => number): string {
  const d = Math.floor(r() * 400);
  const open = ["(", "NOT ", "-", "abs(", "["][Math.floor(r() * 5)]!;
  const close = open === "(" || open === "abs(" ? ")" : open === "[" ? "]" : "";
  return open.repeat(d) + "i > 0" + close.repeat(d);
}

/** A random well-typed filter, so that a good share of cases reach the evaluator. */
function validFilter(r: () => number, depth = 3): string {
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(r() * xs.length)]!;
  const num = (d: number): string => {
    if (d <= 0 || r() < 0.4) return pick(["i", "b", "f", "`my col`", "0", "-3", "2.5", "9007199254740993", "NULL", "length(s)", "array_length(tags)"]);
    return pick([
      () => `${num(d - 1)} ${pick(["+", "-", "*", "/", "%"])} ${num(d - 1)}`,
      () => `-(${num(d - 1)})`, () => `abs(${num(d - 1)})`, () => `coalesce(${num(d - 1)}, ${num(d - 1)})`,
      () => `CAST(${str(d - 1)} AS ${pick(["INT", "BIGINT", "DOUBLE", "FLOAT", "TINYINT"])})`,
    ])();
  };
  const str = (d: number): string => {
    if (d <= 0 || r() < 0.5) return pick(["s", "'a'", "'%'", "''", "'𝒳'", "NULL"]);
    return pick([() => `lower(${str(d - 1)})`, () => `upper(${str(d - 1)})`, () => `coalesce(${str(d - 1)}, 'z')`, () => `CAST(${num(d - 1)} AS VARCHAR)`])();
  };
  const cond = (d: number): string => {
    if (d <= 0) return pick(["flag", "TRUE", "NULL", "i > 0", "s IS NULL", "vec IS NOT NULL"]);
    return pick([
      () => `${num(d - 1)} ${pick(["=", "!=", "<", "<=", ">", ">="])} ${num(d - 1)}`,
      () => `${str(d - 1)} ${pick(["=", "<", ">="])} ${str(d - 1)}`,
      () => `${str(d - 1)} ${pick(["LIKE", "NOT LIKE", "ILIKE"])} ${pick(["'a%'", "'%_%'", "'%\\%%'", "s", "'𝒳%'"])}`,
      () => `${num(d - 1)} ${pick(["IN", "NOT IN"])} (${num(d - 1)}, ${num(d - 1)}, 1)`,
      () => `${num(d - 1)} ${pick(["BETWEEN", "NOT BETWEEN"])} ${num(d - 1)} AND ${num(d - 1)}`,
      () => `ts ${pick(["<", ">", "="])} ${pick(["'2020-01-01'", "TIMESTAMP '1970-01-01 00:00:00.003'", "DATE '2033-05-18'", "NULL"])}`,
      () => (r() < 0.5 ? `array_has(tags, ${str(d - 1)})` : `array_has(nums, ${num(d - 1)})`),
      () => `array_has_any(tags, [${pick(["'a'", "'b', 'c'", ""])}])`, () => `array_has_all(nums, (1, 2))`,
      () => `NOT (${cond(d - 1)})`, () => `(${cond(d - 1)}) ${pick(["AND", "OR"])} (${cond(d - 1)})`,
      () => `(${cond(d - 1)}) IS ${pick(["TRUE", "NOT TRUE", "FALSE", "NULL", "NOT NULL"])}`,
    ])();
  };
  return cond(depth);
}

function check(sql: string, r: () => number): "ok" | "invalid" {
  try {
    const f = compileFilter(sql, SCHEMA);
    const full = f.evaluate(SOURCE);
    if (full.length !== N || full.some((x) => x !== 0 && x !== 1)) throw new Error("bad filter result");
    const rows = Int32Array.from({ length: 5 }, () => Math.floor(r() * N));
    const sub = f.evaluate(SOURCE, rows);
    rows.forEach((k, j) => { if (sub[j] !== full[k]) throw new Error(`subset differs at ${j}`); });
    return "ok";
  } catch (e) {
    if (!isQuiverError(e, "INVALID_FILTER")) throw e;
    const pos = e.details.position;
    if (typeof pos !== "number" || !Number.isInteger(pos) || pos < 0 || pos > sql.length) throw new Error(`bad position ${String(pos)}`);
    if (!e.message.includes(`at position ${pos}`)) throw new Error(`message lacks position: ${e.message}`);
  }
  // Not a filter (or not boolean): it may still be a valid value expression.
  try {
    const x = compileExpression(sql, SCHEMA);
    const col = x.evaluate(SOURCE);
    if (col.length !== N) throw new Error("bad expression length");
  } catch (e) {
    if (!isQuiverError(e, "INVALID_FILTER")) throw e;
  }
  return "invalid";
}

describe("filter fuzzing", () => {
  it(`${CASES} random and mutated inputs compile or fail with INVALID_FILTER (seed ${SEED})`, () => {
    const r = mulberry32(SEED);
    let ok = 0;
    for (let c = 0; c < CASES; c++) {
      const kind = r();
      const sql = kind < 0.3 ? tokenStream(r)
        : kind < 0.6 ? mutate(SEEDS[Math.floor(r() * SEEDS.length)]!, r)
        : kind < 0.8 ? validFilter(r)
        : kind < 0.98 ? mutate(validFilter(r), r)
        : nested(r);
      try {
        if (check(sql, r) === "ok") ok++;
      } catch (e) {
        throw new Error(`case ${c} (seed ${SEED}) input ${JSON.stringify(sql)}: ${(e as Error).stack ?? String(e)}`);
      }
    }
    // The generator must keep producing valid filters too, or it tests only the error paths.
    expect(ok).toBeGreaterThan(CASES * 0.2);
  }, 60_000);

  it("the valid seeds compile", () => {
    for (const sql of SEEDS) expect(check(sql, mulberry32(1)), sql).toBe("ok");
  });
});
