// Bad input gets a typed error naming where it is, and leaves stored data untouched (issue 9).
import { describe, expect, it } from "vitest";
import { connect, DataTypes, field, Index, isQuiverError, schema, type Table } from "../../src/index.js";

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string; details?: unknown }> {
  try {
    await p;
  } catch (e) {
    if (isQuiverError(e)) return { code: e.code, message: e.message, details: e.details };
    throw e;
  }
  return { code: "none", message: "" };
}

async function table(): Promise<Table> {
  const db = await connect("memory://");
  return db.createTable("t", [{ id: 1, vector: [1, 2, 3] }, { id: 2, vector: [0, 1, 0] }]);
}

describe("vectors that are not finite float32 values", () => {
  for (const [what, bad, position] of [
    ["1e39 (finite as a double, Infinity as float32)", [1, 1e39, 0], 1],
    ["null", [1, null, 0], 1],
    ["true", [true, 0, 0], 0],
    ['""', [1, 2, ""], 2],
    ['"0x10"', ["0x10", 0, 0], 0],
    ["NaN", [0, NaN, 0], 1],
    ["-Infinity", [0, 0, -Infinity], 2],
  ] as const) {
    it(`add() rejects ${what} with INVALID_VECTOR naming row, column and position; nothing is written`, async () => {
      const t = await table();
      const err = await codeOf(t.add([{ id: 3, vector: [0, 0, 0] }, { id: 4, vector: bad as unknown as number[] }]));
      expect(err.code).toBe("INVALID_VECTOR");
      expect(err.details).toMatchObject({ column: "vector", row: 1, index: position });
      expect(err.message).toMatch(/Row 1, column "vector": element/);
      expect(await t.version()).toBe(1);
      expect(await t.countRows()).toBe(2);
    });

    it(`search() rejects ${what} in a query the same way`, async () => {
      const t = await table();
      const err = await codeOf((async () => t.search(bad as unknown as number[]).limit(1).toArray())());
      expect(err.code).toBe("INVALID_VECTOR");
      expect(err.details).toMatchObject({ position });
    });
  }

  it("update() and mergeInsert() check vectors too", async () => {
    const t = await table();
    expect((await codeOf(t.update({ where: "id = 1", values: { vector: [1, 1e39, 0] } }))).code).toBe("INVALID_VECTOR");
    expect((await codeOf(t.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([{ id: 1, vector: [null, 0, 0] }]))).code).toBe("INVALID_VECTOR");
    expect(await t.version()).toBe(1);
  });

  it("float16 columns reject values beyond ±65504; int8 columns reject fractions", async () => {
    const db = await connect("memory://");
    const t = await db.createEmptyTable("h", schema([field("h", DataTypes.vector(2, "float16")), field("q", DataTypes.vector(2, "int8"))]));
    expect((await codeOf(t.add([{ h: [1, 70000], q: [1, 2] }]))).code).toBe("INVALID_VECTOR");
    expect((await codeOf(t.add([{ h: [1, 2], q: [1.5, 2] }]))).code).toBe("INVALID_VECTOR");
    await t.add([{ h: [1, 65504], q: [-128, 127] }]);
    expect(await t.countRows()).toBe(1);
  });

  it("a stored vector is searchable by cosine and indexable (no Infinity slipped in)", async () => {
    const db = await connect("memory://");
    const rows = Array.from({ length: 64 }, (_, i) => ({ id: i, vector: [i + 1, 3.4e38, 1] }));
    const t = await db.createTable("big", rows);
    await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 2, distanceType: "cosine" }) });
    expect((await t.search([1, 3.4e38, 1]).distanceType("cosine").limit(3).toArray()).length).toBe(3);
  });
});

describe("vectors of different lengths", () => {
  it('a column named "vector" with arrays of different lengths is rejected, naming the lengths', async () => {
    const db = await connect("memory://");
    const err = await codeOf(db.createTable("t", [{ vector: [1, 2, 3] }, { vector: [1, 2] }]));
    expect(err.code).toBe("DIMENSION_MISMATCH");
    expect(err.message).toMatch(/3 in row 0, 2 in row 1/);
    expect(await db.tableNames()).toEqual([]);
  });

  it("another column becomes a list, and a search explains why there is no vector column", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", [{ emb: [1, 2, 3] }, { emb: [1, 2] }]);
    const err = await codeOf(t.search([1, 2, 3]).toArray());
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/"emb" is a list of numbers, not a vector column: the arrays had different lengths/);
  });
});

describe('a column named "__proto__"', () => {
  const proto = (id: number, v: string): Record<string, unknown> => JSON.parse(`{"id": ${id}, "__proto__": "${v}", "vector": [1, 2]}`);

  it("is refused up front by createTable (inferred or explicit), addColumns and alterColumns", async () => {
    const db = await connect("memory://");
    expect(Object.keys(proto(1, "a"))).toContain("__proto__");
    for (const p of [
      db.createTable("t", [proto(1, "a")]),
      (async () => db.createEmptyTable("t", schema([field("__proto__", DataTypes.utf8())])))(),
    ]) {
      const err = await codeOf(p);
      expect(err.code).toBe("INVALID_ARGUMENT");
      expect(err.message).toMatch(/"__proto__" cannot be a column name/);
    }
    expect(await db.tableNames()).toEqual([]);
    const t = await db.createTable("ok", [{ id: 1, vector: [1, 2] }]);
    expect((await codeOf(t.addColumns([{ name: "__proto__", valueSql: "id" }]))).code).toBe("INVALID_ARGUMENT");
    expect((await codeOf(t.alterColumns([{ path: "id", rename: "__proto__" }]))).code).toBe("INVALID_ARGUMENT");
    // Rows carrying the key are refused by writes too, and the table stays readable and writable.
    expect((await codeOf(t.add([proto(2, "b")]))).code).not.toBe("none");
    expect((await codeOf(t.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([proto(1, "c")]))).code).not.toBe("none");
    await t.add([{ id: 3, vector: [3, 4] }]);
    expect((await t.query().toArray()).map((r) => r.id)).toEqual([1, 3]);
    expect(await t.version()).toBe(2);
  });
});

describe("numbers that are not numbers", () => {
  async function priced(): Promise<Table> {
    const db = await connect("memory://");
    return db.createTable("t", [{ id: 1, price: 2.5, item: "fizz", code: "12" }, { id: 2, price: 0, item: "buzz", code: "7" }]);
  }

  it("NaN in a number column fails with SCHEMA_MISMATCH naming the row, instead of becoming null", async () => {
    const t = await priced();
    const err = await codeOf(t.add([{ id: 3, price: 1, item: "a", code: "1" }, { id: 4, price: NaN, item: "b", code: "2" }]));
    expect(err.code).toBe("SCHEMA_MISMATCH");
    expect(err.details).toMatchObject({ column: "price", row: 1 });
    expect(await t.countRows()).toBe(2);
  });

  it("a valuesSql update that puts text into a number column fails instead of writing null", async () => {
    const t = await priced();
    for (const values of [{ price: "item" }, { price: "'abc'" }]) {
      const err = await codeOf(t.update({ where: "id = 1", valuesSql: values }));
      expect(err.code).toBe("INVALID_FILTER");
      expect(err.message).toMatch(/cannot be converted to float64.*CAST/);
    }
    // An explicit CAST of text that is no number fails too; one that is a number works.
    expect((await codeOf(t.update({ where: "id = 1", valuesSql: { price: "CAST(item AS DOUBLE)" } }))).code).toBe("SCHEMA_MISMATCH");
    expect((await codeOf(t.update({ where: "id = 1", valuesSql: { price: "0.0 / 0" } }))).code).toBe("SCHEMA_MISMATCH");
    expect(await t.version()).toBe(1);
    await t.update({ where: "id = 1", valuesSql: { price: "CAST(code AS DOUBLE)" } });
    expect((await t.query().where("id = 1").toArray())[0]!.price).toBe(12);
  });

  it("x / 0 as in LanceDB: float division gives Infinity, integer division fails", async () => {
    const db = await connect("memory://");
    const t = await db.createEmptyTable("d", schema([field("n", DataTypes.int32()), field("f", DataTypes.float64())]));
    await t.add([{ n: 3, f: 1.5 }]);
    expect(await t.query().select({ q: "f / 0" }).toArray()).toEqual([{ q: Infinity }]);
    const err = await codeOf(t.query().select({ q: "n / 0" }).toArray());
    expect(err.code).toBe("INVALID_FILTER");
    expect(err.message).toMatch(/division by zero/);
    expect((await codeOf(t.countRows("n % 0 = 1"))).code).toBe("INVALID_FILTER");
  });

  it('delete(\'item = "fizz"\') says exactly why it matches nothing: double quotes name a column', async () => {
    const t = await priced();
    const err = await codeOf(t.delete('item = "fizz"'));
    expect(err.code).toBe("INVALID_FILTER");
    expect(err.message).toMatch(/Double quotes name a column; write text values in single quotes/);
    expect(await t.countRows()).toBe(2);
  });
});
