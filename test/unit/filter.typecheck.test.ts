import { describe, expect, it } from "vitest";
import { DataTypes as T, field, schema } from "../../src/data/schema.js";
import { isQuiverError, type QuiverError } from "../../src/errors.js";
import { compileExpression, compileFilter } from "../../src/filter/index.js";

const SCHEMA = schema([
  field("id", T.int64()), field("price", T.float64()), field("qty", T.int32()), field("name", T.utf8()),
  field("Category", T.utf8()), field("active", T.bool()), field("created", T.timestamp()),
  field("tags", T.list(T.utf8())), field("embedding", T.vector(8)), field("first name", T.utf8()),
]);

function failure(sql: string): QuiverError {
  try {
    compileFilter(sql, SCHEMA);
  } catch (e) {
    if (isQuiverError(e, "INVALID_FILTER")) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(sql)} to fail`);
}

describe("compileFilter: type errors", () => {
  it.each([
    ["nmae = 'x'", 0, 'Unknown column "nmae"'],
    ["price > 1 AND colour = 'red'", 14, 'Unknown column "colour"'],
    ["name = 5", 5, "Cannot compare utf8 with int64"],
    ["qty > '5'", 4, "Cannot compare int32 with utf8"],
    ["active = 1", 7, "Cannot compare bool with int64"],
    ["embedding = 1", 10, "Cannot compare vector<float32, 8> with int64"],
    ["tags = 'a'", 5, "Cannot compare list<utf8> with utf8"],
    ["name + 1 > 2", 0, "Operator '+' needs numbers, got utf8"],
    ["qty * active > 0", 6, "Operator '*' needs numbers, got bool"],
    ["created + 1 > 0", 0, "Arithmetic on timestamps"],
    ["qty LIKE '1%'", 0, "LIKE needs text, got int32"],
    ["name LIKE 5", 10, "LIKE needs text, got int64"],
    ["name LIKE 'a' ESCAPE 'ab'", 21, "ESCAPE needs a string literal of one character"],
    ["NOT qty", 4, "NOT needs a boolean condition"],
    ["qty AND active", 0, "AND needs a boolean condition"],
    ["qty", 0, "must be a true/false condition"],
    ["name", 0, "must be a true/false condition, but this expression is utf8"],
    ["qty IS TRUE", 0, "IS TRUE needs a boolean condition"],
    ["qty IN (1, 'a')", 11, "Cannot compare int32 with utf8 in IN"],
    ["qty BETWEEN 1 AND 'z'", 18, "Cannot compare int32 with utf8 in BETWEEN"],
    ["created > 'yesterday'", 10, "'yesterday' is not a timestamp"],
    ["created > name", 10, "Cannot compare timestamp with a utf8 column"],
    ["lower(qty) = 'a'", 6, "lower() needs a string as argument 1, got int32"],
    ["lower(name, name) = 'a'", 0, "lower() takes 1 argument, got 2"],
    ["lowr(name) = 'a'", 0, "Unknown function lowr()"],
    ["array_has(name, 'a')", 10, "array_has() needs a list column as argument 1"],
    ["array_has(tags, 1)", 16, "Cannot compare int64 with utf8 in array_has()"],
    ["array_has_any(tags, [1, 2])", 20, "Cannot compare int64 with utf8"],
    ["array_has_any(tags, [name])", 21, "List values must be constants"],
    ["coalesce(name, 1) = 'a'", 15, "Cannot compare int64 with utf8 in coalesce()"],
    ["CAST(qty AS BLOB) = 1", 12, "Unknown type BLOB in CAST"],
    ["CAST(tags AS INT) = 1", 0, "Cannot CAST list<utf8> to INT"],
    ["CAST(active AS TIMESTAMP) > '2020-01-01'", 0, "Cannot CAST bool to TIMESTAMP"],
    ["(1, 2) = qty", 7, "Cannot compare list<int64> with int32"],
  ])("%j → position %i", (sql, position, text) => {
    const e = failure(sql);
    expect(e.message).toContain(text);
    expect(e.details.position).toBe(position);
    expect(e.message).toContain(`at position ${position} in filter`);
  });

  it("names the unknown column and suggests close matches", () => {
    const e = failure("category = 'x'");
    expect(e.details.column).toBe("category");
    expect(e.details.suggestions).toEqual(["Category"]);
    expect(e.message).toContain("Did you mean `Category`?");
    expect(failure("prise > 1").details.suggestions).toEqual(["price"]);
  });

  it("lists the columns when nothing is close", () => {
    const e = failure("zzzzzz = 1");
    expect(e.details.suggestions).toEqual([]);
    expect(e.message).toContain("Columns: id, price, qty");
  });

  it("explains double-quoted strings", () => {
    expect(failure('name = "bob"').message).toContain("write text values in single quotes");
  });

  it("accepts quoted names with spaces and is case-sensitive about names", () => {
    expect(compileFilter("`first name` = 'Ann' AND \"first name\" IS NOT NULL", SCHEMA).columns).toEqual(["first name"]);
    expect(failure("NAME = 'x'").details.suggestions).toEqual(["name"]);
  });

  it("allows IS NULL on vector columns", () => {
    expect(compileFilter("embedding IS NOT NULL", SCHEMA).columns).toEqual(["embedding"]);
  });

  it("accepts every numeric mix and timestamp spellings", () => {
    for (const sql of [
      "id > price", "qty = id", "price * qty > id / 2", "id IN (1, 2.5, 9223372036854775807)",
      "created > '2020-01-01' AND created < TIMESTAMP '2021-01-01 00:00:00' AND created != DATE '2020-06-01'",
      "created IN ('2020-01-01', '2020-01-02T03:04:05Z')", "created BETWEEN '2020-01-01' AND '2021-01-01'",
      "NULL = NULL", "NULL IN (1)", "NULL BETWEEN NULL AND 2.5", "qty + NULL > 1", "NOT NULL", "NULL LIKE 'a'",
    ]) {
      expect(() => compileFilter(sql, SCHEMA), sql).not.toThrow();
    }
  });
});

describe("compileExpression: result types", () => {
  it.each([
    ["qty", T.int32()],
    ["qty * 2", T.int64()],
    ["qty + qty", T.int64()],
    ["id * 2", T.int64()],
    ["price * 1.1", T.float64()],
    ["qty * 1.5", T.float64()],
    ["-qty", T.int64()],
    ["abs(price)", T.float64()],
    ["name", T.utf8()],
    ["upper(name)", T.utf8()],
    ["length(name)", T.int64()],
    ["price > 2", T.bool()],
    ["coalesce(qty, id)", T.int64()],
    ["coalesce(qty, price)", T.float64()],
    ["CAST(qty AS SMALLINT)", T.int16()],
    ["CAST(price AS FLOAT)", T.float32()],
    ["CAST(name AS DATE)", T.timestamp()],
    ["TIMESTAMP '2020-01-01 00:00:00'", T.timestamp()],
    ["embedding", T.vector(8)],
  ])("%s", (sql, type) => {
    expect(compileExpression(sql, SCHEMA).type).toEqual(type);
  });

  it("needs a type for a bare NULL", () => {
    expect(() => compileExpression("NULL", SCHEMA)).toThrow(expect.objectContaining({ code: "INVALID_FILTER" }));
    expect(compileExpression("NULL", SCHEMA, { targetType: T.float32() }).type).toEqual(T.float32());
  });

  it("checks targetType convertibility", () => {
    expect(compileExpression("qty * 2", SCHEMA, { targetType: T.int32() }).type).toEqual(T.int32());
    expect(() => compileExpression("tags", SCHEMA, { targetType: T.utf8() })).toThrow(expect.objectContaining({ code: "INVALID_FILTER" }));
  });
});
