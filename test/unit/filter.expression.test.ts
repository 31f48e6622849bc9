import { describe, expect, it } from "vitest";
import { buildColumn, readAll, type Column, type ColumnSource } from "../../src/data/column.js";
import { DataTypes as T, field, schema } from "../../src/data/schema.js";
import { compileExpression, compileFilter } from "../../src/filter/index.js";

const SCHEMA = schema([
  field("x", T.int32()), field("big", T.int64()), field("price", T.float32()), field("name", T.utf8()),
  field("ts", T.timestamp()), field("tags", T.list(T.utf8())), field("ok", T.bool()), field("v", T.vector(2)),
]);
const DATA: Record<string, unknown[]> = {
  x: [1, -7, null, 2147483647],
  big: [10n, -(2n ** 63n), 2n ** 62n, null],
  price: [1.5, 2, null, 0],
  name: ["Ann", "bob", null, "42"],
  ts: [new Date(Date.UTC(2020, 0, 1, 13)), null, new Date(0), new Date(Date.UTC(2024, 1, 29))],
  tags: [["a"], [], null, ["b", "c"]],
  ok: [true, false, null, true],
  v: [[1, 2], null, [3, 4], [5, 6]],
};
const COLS = new Map<string, Column>(SCHEMA.fields.map((f) => [f.name, buildColumn(f.type, DATA[f.name]!, true, { column: f.name, rowOffset: 0 })]));
const SRC: ColumnSource = { numRows: 4, column: (n) => COLS.get(n)! };

const values = (sql: string, rows?: Int32Array): unknown[] => readAll(compileExpression(sql, SCHEMA).evaluate(SRC, rows));

describe("compileExpression: integer division by zero fails (LanceDB)", () => {
  it.each(["x / 0", "x % 0", "big / (x - x)"])("%s", (sql) => {
    expect(() => values(sql)).toThrow(expect.objectContaining({ code: "INVALID_FILTER" }));
  });
});

describe("compileExpression: values", () => {
  it.each([
    ["x * 2", [2n, -14n, null, 4294967294n]],
    ["x / 2", [0n, -3n, null, 1073741823n]],
    ["x % 3", [1n, -1n, null, 1n]],
    ["x * x * x", [1n, -343n, null, null]], // 2147483647³ overflows int64
    ["big * 2", [20n, null, null, null]],
    ["big + 1", [11n, -(2n ** 63n) + 1n, 2n ** 62n + 1n, null]],
    ["-big", [-10n, null, -(2n ** 62n), null]],
    ["abs(big)", [10n, null, 2n ** 62n, null]],
    ["big / -1", [-10n, null, -(2n ** 62n), null]],
    ["price * 2", [3, 4, null, 0]],
    ["price / 0", [Infinity, Infinity, null, NaN]],
    ["price % 0", [NaN, NaN, null, NaN]],
    ["x + price", [2.5, -5, null, 2147483647]],
    ["upper(name)", ["ANN", "BOB", null, "42"]],
    ["length(name)", [3n, 3n, null, 2n]],
    ["coalesce(name, 'none')", ["Ann", "bob", "none", "42"]],
    ["coalesce(x, big, 0)", [1n, -7n, 2n ** 62n, 2147483647n]],
    ["array_length(tags)", [1n, 0n, null, 2n]],
    ["CAST(name AS INT)", [null, null, null, 42]],
    ["CAST(x AS TINYINT)", [1, -7, null, null]],
    ["CAST(price AS VARCHAR)", ["1.5", "2", null, "0"]],
    ["CAST(ok AS INT)", [1, 0, null, 1]],
    ["CAST(name AS BOOLEAN)", [null, null, null, null]],
    ["CAST(x AS BOOLEAN)", [true, true, null, true]],
    ["CAST(big AS DOUBLE)", [10, -(2 ** 63), 2 ** 62, null]],
    ["CAST(ts AS BIGINT)", [BigInt(Date.UTC(2020, 0, 1, 13)), null, 0n, BigInt(Date.UTC(2024, 1, 29))]],
    ["CAST(ts AS DATE)", [new Date(Date.UTC(2020, 0, 1)), null, new Date(0), new Date(Date.UTC(2024, 1, 29))]],
    ["CAST(ts AS VARCHAR)", ["2020-01-01T13:00:00.000Z", null, "1970-01-01T00:00:00.000Z", "2024-02-29T00:00:00.000Z"]],
    ["CAST('2020-01-01 10:00:00' AS TIMESTAMP)", Array(4).fill(new Date(Date.UTC(2020, 0, 1, 10)))],
    ["CAST('1e3' AS DOUBLE)", [1000, 1000, 1000, 1000]],
    ["x > 0", [true, false, null, true]],
    ["ok AND x > 0", [true, false, null, true]],
    ["name", ["Ann", "bob", null, "42"]],
    ["1 + 2", [3n, 3n, 3n, 3n]],
  ])("%s", (sql, want) => {
    expect(values(sql)).toEqual(want);
  });

  it("keeps a bare column's own layout, vectors included", () => {
    const col = compileExpression("x", SCHEMA).evaluate(SRC);
    expect(col.data).toBeInstanceOf(Int32Array);
    const v = compileExpression("v", SCHEMA).evaluate(SRC, Int32Array.of(3, 0));
    expect(Array.from(v.data as Float32Array)).toEqual([5, 6, 1, 2]);
  });

  it("lays out results as column.ts says", () => {
    expect(compileExpression("x * 2", SCHEMA).evaluate(SRC).data).toBeInstanceOf(BigInt64Array);
    expect(compileExpression("price * 1.1", SCHEMA).evaluate(SRC).data).toBeInstanceOf(Float64Array);
    expect(compileExpression("x > 1", SCHEMA).evaluate(SRC).data).toBeInstanceOf(Uint8Array);
    const s = compileExpression("lower(name)", SCHEMA).evaluate(SRC);
    expect(s.data).toEqual(["ann", "bob", "", "42"]);
    expect(Array.from(s.validity!)).toEqual([1, 1, 0, 1]);
    expect(compileExpression("CAST(ts AS DATE)", SCHEMA).evaluate(SRC).data).toBeInstanceOf(Float64Array);
  });

  it("converts to targetType with CAST semantics", () => {
    const e = compileExpression("x * 2", SCHEMA, { targetType: T.int32() });
    const col = e.evaluate(SRC);
    expect(col.data).toBeInstanceOf(Int32Array);
    expect(readAll(col)).toEqual([2, -14, null, null]);
    expect(readAll(compileExpression("NULL", SCHEMA, { targetType: T.utf8() }).evaluate(SRC))).toEqual([null, null, null, null]);
    expect(readAll(compileExpression("price * 1.1", SCHEMA, { targetType: T.float32() }).evaluate(SRC))).toEqual([Math.fround(1.65), Math.fround(2.2), null, 0]);
  });

  it("evaluates a subset of rows in subset order", () => {
    expect(values("upper(name)", Int32Array.of(3, 3, 0))).toEqual(["42", "42", "ANN"]);
    expect(values("7", Int32Array.of(1, 2))).toEqual([7n, 7n]);
  });

  it("filters with a non-constant LIKE pattern", () => {
    const run = (sql: string): number[] => Array.from(compileFilter(sql, SCHEMA).evaluate(SRC));
    expect(run("name LIKE name")).toEqual([1, 1, 0, 1]);
    expect(run("'Ann' LIKE name")).toEqual([1, 0, 0, 0]);
    expect(run("'BOB' ILIKE name")).toEqual([0, 1, 0, 0]);
    expect(compileFilter("'bobby' LIKE name", SCHEMA).evaluate(SRC, Int32Array.of(1, 1))).toEqual(Uint8Array.of(0, 0));
  });
});
