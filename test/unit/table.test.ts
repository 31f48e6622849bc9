import { describe, expect, it } from "vitest";
import { connect, DataTypes, field, schema, isQuiverError, type Row, type Table } from "../../src/index.js";
import { seededRandom as rng } from "../../bench/datasets.js";


function randomVector(r: () => number, dim: number): number[] {
  return Array.from({ length: dim }, () => r() * 2 - 1);
}

function oracleDistance(metric: string, q: ArrayLike<number>, x: ArrayLike<number>): number {
  let dot = 0, qq = 0, xx = 0, l2 = 0;
  for (let i = 0; i < q.length; i++) {
    const a = Math.fround(q[i]!), b = Math.fround(x[i]!);
    dot += a * b; qq += a * a; xx += b * b; l2 += (a - b) * (a - b);
  }
  if (metric === "l2") return l2;
  if (metric === "dot") return 1 - dot;
  return qq === 0 || xx === 0 ? 1 : 1 - dot / Math.sqrt(qq * xx);
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    if (!isQuiverError(e)) throw e;
    expect(e.code).toBe(code);
    return;
  }
  throw new Error(`expected a QuiverError ${code}, nothing was thrown`);
}

function makeRows(n: number, dim: number, seed = 1): Row[] {
  const r = rng(seed);
  const cats = ["tech", "science", "art", "sports"];
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    text: `doc ${i}`,
    category: cats[i % cats.length],
    year: 2000 + (i % 25),
    vector: randomVector(r, dim),
  }));
}

describe("connection", () => {
  it("creates, lists, opens and drops tables", async () => {
    const db = await connect("memory://");
    expect(await db.tableNames()).toEqual([]);
    await db.createTable("b", [{ x: 1 }]);
    await db.createTable("a", [{ x: 2 }]);
    expect(await db.tableNames()).toEqual(["a", "b"]);
    expect(await db.tableNames({ startAfter: "a" })).toEqual(["b"]);
    expect(await db.tableNames({ limit: 1 })).toEqual(["a"]);
    const t = await db.openTable("a");
    expect(await t.countRows()).toBe(1);
    await db.dropTable("a");
    expect(await db.tableNames()).toEqual(["b"]);
    await expectCode(db.openTable("a"), "TABLE_NOT_FOUND");
    await expectCode(db.dropTable("zzz"), "TABLE_NOT_FOUND");
  });

  it("honours mode create / overwrite and existOk", async () => {
    const db = await connect("memory://");
    await db.createTable("t", [{ x: 1 }]);
    await expectCode(db.createTable("t", [{ x: 2 }]), "TABLE_EXISTS");
    const same = await db.createTable("t", [{ x: 2 }, { x: 3 }], { existOk: true });
    expect(await same.countRows()).toBe(1);
    const replaced = await db.createTable("t", [{ x: 2 }, { x: 3 }], { mode: "overwrite" });
    expect(await replaced.countRows()).toBe(2);
    const obj = await db.createTable({ name: "u", data: [{ y: "a" }] });
    expect(await obj.countRows()).toBe(1);
  });

  it("shares named memory databases between connections, not anonymous ones", async () => {
    const a = await connect("memory://shared-test");
    await a.createTable("t", [{ x: 1 }]);
    const b = await connect("memory://shared-test");
    expect(await b.tableNames()).toEqual(["t"]);
    const c = await connect("memory://");
    expect(await c.tableNames()).toEqual([]);
  });

  it("rejects bad names, unknown URIs and closed connections with typed errors", async () => {
    const db = await connect("memory://");
    await expectCode(db.createTable("../x", [{ x: 1 }]), "INVALID_ARGUMENT");
    await expectCode(db.createTable("", [{ x: 1 }]), "INVALID_ARGUMENT");
    await expectCode(connect("s3://bucket/x"), "INVALID_ARGUMENT");
    await expectCode(db.createTable("t", "nope" as never), "INVALID_ARGUMENT");
    db.close();
    await expectCode(db.tableNames(), "CLOSED");
  });
});

describe("schema", () => {
  it("infers types from rows", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", [
      { i: 1, b: true, s: "x", big: 5n, d: new Date(0), v: [1, 2, 3], tags: ["a", "b"], f32: new Float32Array(4), i8: new Int8Array(2), bits: new Uint8Array(2), opt: null },
      { i: 2.5, b: false, s: "y", big: 6n, d: new Date(1), v: [4, 5, 6], tags: [], f32: new Float32Array(4), i8: new Int8Array(2), bits: new Uint8Array(2), opt: 1 },
    ]);
    const s = await t.quiverSchema();
    const types = Object.fromEntries(s.fields.map((f) => [f.name, f.type]));
    expect(types).toEqual({
      i: DataTypes.float64(), b: DataTypes.bool(), s: DataTypes.utf8(), big: DataTypes.int64(), d: DataTypes.timestamp(),
      v: DataTypes.vector(3), tags: DataTypes.list(DataTypes.utf8()), f32: DataTypes.vector(4), i8: DataTypes.vector(2, "int8"),
      bits: DataTypes.vector(16, "bit"), opt: DataTypes.float64(),
    });
  });

  it("refuses to infer all-null columns and nested objects", async () => {
    const db = await connect("memory://");
    await expectCode(db.createTable("t", [{ a: null }]), "SCHEMA_MISMATCH");
    await expectCode(db.createTable("t", [{ a: { b: 1 } }]), "SCHEMA_MISMATCH");
    await expectCode(db.createTable("t", []), "INVALID_ARGUMENT");
    expect(await db.tableNames()).toEqual([]);
  });

  it("stores and returns every supported type through an explicit schema", async () => {
    const db = await connect("memory://");
    const s = schema([
      field("id", DataTypes.int32(), false),
      field("u8", DataTypes.uint8()),
      field("i64", DataTypes.int64()),
      field("f16", DataTypes.float16()),
      field("f32", DataTypes.float32()),
      field("ok", DataTypes.bool()),
      field("name", DataTypes.utf8()),
      field("at", DataTypes.timestamp()),
      field("tags", DataTypes.list(DataTypes.utf8())),
      field("scores", DataTypes.list(DataTypes.float64())),
      field("vector", DataTypes.vector(4)),
      field("half", DataTypes.vector(4, "float16")),
      field("q", DataTypes.vector(4, "int8")),
      field("bits", DataTypes.vector(16, "bit")),
    ]);
    const t = await db.createEmptyTable("t", s);
    expect(await t.countRows()).toBe(0);
    await t.add([
      { id: 1, u8: 255, i64: 2n ** 60n, f16: 0.1, f32: 1.5, ok: true, name: "a", at: new Date("2021-01-02T03:04:05Z"), tags: ["x", null], scores: [1, 2.5], vector: [1, 2, 3, 4], half: [0.5, 1, 2, 65504], q: [-128, 0, 1, 127], bits: [0xff, 0x01] },
      { id: 2, u8: null, i64: 3, f16: null, f32: null, ok: null, name: null, at: null, tags: null, scores: [], vector: null, half: null, q: null, bits: null },
    ]);
    const rows = await t.query().toArray();
    expect(rows).toHaveLength(2);
    const [a, b] = rows as [Row, Row];
    expect(a.id).toBe(1);
    expect(a.u8).toBe(255);
    expect(a.i64).toBe(2n ** 60n);
    expect(a.f16).toBeCloseTo(0.0999755859375, 10);
    expect(a.ok).toBe(true);
    expect(a.at).toEqual(new Date("2021-01-02T03:04:05Z"));
    expect(a.tags).toEqual(["x", null]);
    expect(a.scores).toEqual([1, 2.5]);
    expect(Array.from(a.vector as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(Array.from(a.half as Float32Array)).toEqual([0.5, 1, 2, 65504]);
    expect(Array.from(a.q as Int8Array)).toEqual([-128, 0, 1, 127]);
    expect(Array.from(a.bits as Uint8Array)).toEqual([0xff, 0x01]);
    expect(b.i64).toBe(3n);
    for (const k of ["u8", "f16", "f32", "ok", "name", "at", "tags", "vector", "half", "q", "bits"]) expect(b[k]).toBeNull();
  });

  it("rejects rows that do not fit the schema and writes nothing", async () => {
    const db = await connect("memory://");
    const s = schema([field("id", DataTypes.int32(), false), field("vector", DataTypes.vector(3)), field("q", DataTypes.vector(2, "int8"))]);
    const t = await db.createEmptyTable("t", s);
    await t.add([{ id: 1, vector: [1, 2, 3], q: [1, 2] }]);
    const before = await t.version();
    const bad: [Row[], string][] = [
      [[{ id: 2, vector: [1, 2] }], "DIMENSION_MISMATCH"],
      [[{ id: 2, vector: [1, NaN, 3] }], "INVALID_VECTOR"],
      [[{ id: 2, vector: [1, Infinity, 3] }], "INVALID_VECTOR"],
      [[{ id: 2, q: [1, 300] }], "INVALID_VECTOR"],
      [[{ id: 2, q: [1, 1.5] }], "INVALID_VECTOR"],
      [[{ id: 1.5 }], "SCHEMA_MISMATCH"],
      [[{ id: 2 ** 31 }], "SCHEMA_MISMATCH"],
      [[{ id: "2" }], "SCHEMA_MISMATCH"],
      [[{ id: null }], "SCHEMA_MISMATCH"],
      [[{ id: 2, extra: 1 }], "SCHEMA_MISMATCH"],
      [[{ id: 2, vector: "abc" }], "SCHEMA_MISMATCH"],
      [[{ id: 3 }, { id: 4, vector: [0, 0] }], "DIMENSION_MISMATCH"],
    ];
    for (const [rows, code] of bad) await expectCode(t.add(rows), code);
    await expectCode(t.add("rows" as never), "INVALID_ARGUMENT");
    expect(await t.countRows()).toBe(1);
    expect(await t.version()).toBe(before);
  });

  it("says where the bad value is", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", [{ vector: [1, 2, 3] }]);
    try {
      await t.add([{ vector: [1, 2, 3] }, { vector: [1, 2, 3, 4] }]);
      throw new Error("no error");
    } catch (e) {
      expect(isQuiverError(e, "DIMENSION_MISMATCH")).toBe(true);
      expect((e as Error).message).toMatch(/Row 1.*"vector".*4.*3/);
    }
  });
});

describe("writes", () => {
  it("appends, overwrites and versions", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", makeRows(10, 4));
    expect(await t.version()).toBe(1);
    await t.add(makeRows(5, 4, 2));
    expect(await t.countRows()).toBe(15);
    expect(await t.version()).toBe(2);
    await t.add(makeRows(3, 4, 3), { mode: "overwrite" });
    expect(await t.countRows()).toBe(3);
    await expectCode(t.add(makeRows(1, 4), { mode: "replace" as never }), "INVALID_ARGUMENT");
  });

  it("deletes by predicate", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", makeRows(100, 4));
    const res = await t.delete("year < 2005");
    expect(res.numDeletedRows).toBe(20);
    expect(await t.countRows()).toBe(80);
    expect(await t.countRows("year < 2005")).toBe(0);
    const v = await t.version();
    expect((await t.delete("id > 1000")).numDeletedRows).toBe(0);
    expect(await t.version()).toBe(v);
    await expectCode(t.delete("year <"), "INVALID_FILTER");
    await expectCode(t.delete(""), "INVALID_FILTER");
    expect(await t.countRows()).toBe(80);
  });

  it("updates with literal values and with SQL", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", [
      { id: 1, price: 10, name: "a" },
      { id: 2, price: 20, name: "b" },
      { id: 3, price: 30, name: "c" },
    ]);
    const r1 = await t.update({ where: "id = 2", values: { name: "bee" } });
    expect(r1.rowsUpdated).toBe(1);
    const r2 = await t.update({ where: "price >= 20", valuesSql: { price: "price * 1.5" } });
    expect(r2.rowsUpdated).toBe(2);
    await t.update({ name: "'all'" }, { where: "id = 1" });
    const rows = (await t.query().toArray()).sort((a, b) => (a.id as number) - (b.id as number));
    expect(rows).toEqual([
      { id: 1, price: 10, name: "all" },
      { id: 2, price: 30, name: "bee" },
      { id: 3, price: 45, name: "c" },
    ]);
    await expectCode(t.update({ where: "id = 1", values: { nope: 1 } }), "UNKNOWN_COLUMN");
    await expectCode(t.update({ where: "id = 1", values: { price: "cheap" } }), "SCHEMA_MISMATCH");
    await expectCode(t.update({ where: "id = = 1", values: { price: 1 } }), "INVALID_FILTER");
    await expectCode(t.update({ where: "id = 1", valuesSql: { price: "price +" } }), "INVALID_FILTER");
    expect(await t.countRows("price = 10")).toBe(1);
  });

  it("updates vectors and keeps them searchable", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", [{ id: 1, vector: [0, 0] }, { id: 2, vector: [10, 10] }]);
    await t.update({ where: "id = 2", values: { vector: [1, 1] } });
    const hits = await t.search([1, 1]).limit(1).toArray();
    expect(hits[0]!.id).toBe(2);
    expect(hits[0]!._distance).toBe(0);
    await expectCode(t.update({ where: "id = 2", values: { vector: [1, 1, 1] } }), "DIMENSION_MISMATCH");
  });
});

describe("queries", () => {
  it("scans with where, select, limit, offset and row ids", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", makeRows(50, 4));
    const rows = await t.query().where("category = 'tech' AND year >= 2010").select(["id", "year"]).toArray();
    const expected = makeRows(50, 4).filter((r) => r.category === "tech" && (r.year as number) >= 2010).map((r) => ({ id: r.id, year: r.year }));
    expect(rows).toEqual(expected);
    const page = await t.query().select(["id"]).offset(10).limit(5).toArray();
    expect(page.map((r) => r.id)).toEqual([10, 11, 12, 13, 14]);
    const withIds = await t.query().select(["id"]).limit(2).withRowId().toArray();
    expect(withIds[1]).toEqual({ id: 1, _rowid: 1 });
    const computed = await t.query().select({ id: "id", double_year: "year * 2" }).limit(1).toArray();
    expect(computed[0]).toEqual({ id: 0, double_year: 4000 });
    let iterated = 0;
    for await (const batch of t.query().limit(3)) iterated += batch.numRows;
    expect(iterated).toBe(3);
  });

  it("reports bad query arguments with typed errors", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", makeRows(10, 4));
    await expectCode(t.query().select(["nope"]).toArray(), "UNKNOWN_COLUMN");
    await expectCode(t.query().where("nope > 1").toArray(), "INVALID_FILTER");
    await expectCode(() => t.query().limit(0), "INVALID_ARGUMENT");
    await expectCode(() => t.query().offset(-1), "INVALID_ARGUMENT");
    await expectCode(() => t.search([1, 2, 3, 4]).distanceType("manhattan" as never), "INVALID_ARGUMENT");
    await expectCode(t.search([1, 2, 3]).toArray(), "DIMENSION_MISMATCH");
    await expectCode(t.search([1, 2, NaN, 4]).toArray(), "INVALID_VECTOR");
    await expectCode(t.search([1, 2, 3, 4]).distanceType("hamming").toArray(), "INVALID_ARGUMENT");
    await expectCode(t.search([1, 2, 3, 4]).column("text").toArray(), "INVALID_ARGUMENT");
    await expectCode(t.search([1, 2, 3, 4]).column("nope").toArray(), "UNKNOWN_COLUMN");
    await expectCode(t.search("hello").toArray(), "INVALID_ARGUMENT"); // no full-text index to fall back on
    await expectCode(t.search("hello", "vector").toArray(), "UNSUPPORTED"); // no embedding function
    try {
      await t.query().where("year >= 2000 AND (category = 'x'").toArray();
      throw new Error("no error");
    } catch (e) {
      expect(isQuiverError(e, "INVALID_FILTER")).toBe(true);
      expect(typeof (e as { details: { position?: number } }).details.position).toBe("number");
    }
  });
});

describe("exact vector search", () => {
  const dim = 17;
  const rows = makeRows(600, dim, 7);

  async function table(): Promise<Table> {
    const db = await connect("memory://");
    const t = await db.createTable("t", rows.slice(0, 250));
    await t.add(rows.slice(250, 400));
    await t.add(rows.slice(400));
    return t;
  }

  function oracle(metric: string, q: number[], keep: (r: Row) => boolean, k: number): { id: number; d: number }[] {
    return rows
      .filter(keep)
      .map((r) => ({ id: r.id as number, d: oracleDistance(metric, q, r.vector as number[]) }))
      .sort((a, b) => a.d - b.d || a.id - b.id)
      .slice(0, k);
  }

  for (const metric of ["l2", "cosine", "dot"] as const) {
    it(`matches brute force for ${metric} across fragments`, async () => {
      const t = await table();
      const r = rng(99);
      for (let trial = 0; trial < 5; trial++) {
        const q = randomVector(r, dim);
        const hits = await t.search(q).distanceType(metric).limit(10).toArray();
        const want = oracle(metric, q, () => true, 10);
        expect(hits.map((h) => h.id)).toEqual(want.map((w) => w.id));
        hits.forEach((h, i) => expect(h._distance as number).toBeCloseTo(want[i]!.d, 4));
      }
    });
  }

  it("prefilters so k rows come back whenever k rows match", async () => {
    const t = await table();
    const q = randomVector(rng(5), dim);
    // 24 rows have year = 2003 (every 25th); all 10 must come back.
    const hits = await t.search(q).where("year = 2003").limit(10).toArray();
    expect(hits).toHaveLength(10);
    expect(hits.map((h) => h.id)).toEqual(oracle("l2", q, (r) => r.year === 2003, 10).map((w) => w.id));
    const few = await t.search(q).where("year = 2003 AND id < 100").limit(10).toArray();
    expect(few.map((h) => h.id)).toEqual(oracle("l2", q, (r) => r.year === 2003 && (r.id as number) < 100, 10).map((w) => w.id));
  });

  it("postfilters after the search when asked", async () => {
    const t = await table();
    const q = randomVector(rng(6), dim);
    const top10 = oracle("l2", q, () => true, 10);
    const hits = await t.search(q).where("category = 'tech'").postfilter().limit(10).toArray();
    const expected = top10.filter((w) => rows[w.id]!.category === "tech").map((w) => w.id);
    expect(hits.map((h) => h.id)).toEqual(expected);
  });

  it("supports select, offset, distanceRange and deleted rows", async () => {
    const t = await table();
    const q = randomVector(rng(8), dim);
    const all = oracle("l2", q, () => true, 30);
    const page = await t.search(q).select(["id"]).offset(5).limit(5).toArray();
    expect(page.map((h) => h.id)).toEqual(all.slice(5, 10).map((w) => w.id));
    expect(Object.keys(page[0]!)).toEqual(["id", "_distance"]);
    const lo = all[3]!.d, hi = all[8]!.d;
    const ranged = await t.search(q).distanceRange(lo, hi).limit(20).toArray();
    expect(ranged.map((h) => h.id)).toEqual(all.slice(3, 8).map((w) => w.id));
    await t.delete(`id = ${all[0]!.id} OR id = ${all[2]!.id}`);
    const after = await t.search(q).select(["id"]).limit(3).toArray();
    expect(after.map((h) => h.id)).toEqual([all[1]!.id, all[3]!.id, all[4]!.id]);
  });

  it("answers a batch of query vectors in one call", async () => {
    const t = await table();
    const r = rng(11);
    const qs = [randomVector(r, dim), randomVector(r, dim), randomVector(r, dim)];
    const hits = await t.search(qs).distanceType("cosine").limit(4).toArray();
    expect(hits).toHaveLength(12);
    qs.forEach((q, qi) => {
      const mine = hits.filter((h) => h._query_index === qi).map((h) => h.id);
      expect(mine).toEqual(oracle("cosine", q, () => true, 4).map((w) => w.id));
    });
    const viaAdd = await t.query().nearestTo(qs[0]!).addQueryVector(qs[1]!).limit(2).toArray();
    expect(viaAdd.map((h) => h._query_index)).toEqual([0, 0, 1, 1]);
  });

  it("skips rows whose vector is null", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", [{ id: 1, vector: [0, 0] }, { id: 2, vector: null }, { id: 3, vector: [5, 5] }]);
    const hits = await t.search([0, 0]).limit(10).toArray();
    expect(hits.map((h) => h.id)).toEqual([1, 3]);
  });

  it("chooses among several vector columns by dimension, or by .column()", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", [
      { id: 1, vector: [0, 0], image: [1, 1, 1] },
      { id: 2, vector: [1, 1], image: [0, 0, 0] },
    ]);
    expect((await t.search([0, 0, 0]).limit(1).toArray())[0]!.id).toBe(2);
    expect((await t.search([0, 0]).limit(1).toArray())[0]!.id).toBe(1);
    expect((await t.search([1, 1, 1]).column("image").limit(1).toArray())[0]!.id).toBe(1);
    await expectCode(t.search([1, 1, 1, 1]).toArray(), "DIMENSION_MISMATCH");
  });

  it("searches int8, float16 and binary vectors", async () => {
    const db = await connect("memory://");
    const s = schema([
      field("id", DataTypes.int32()),
      field("q", DataTypes.vector(3, "int8")),
      field("h", DataTypes.vector(3, "float16")),
      field("b", DataTypes.vector(16, "bit")),
    ]);
    const t = await db.createTable("t", [
      { id: 0, q: [1, 2, 3], h: [0.5, 0.25, 1], b: [0b11110000, 0] },
      { id: 1, q: [-5, 0, 5], h: [2, 2, 2], b: [0b11111111, 0b1] },
      { id: 2, q: [100, 100, 100], h: [-1, 0, 1], b: [0, 0] },
    ], { schema: s });
    const byInt8 = await t.search(new Int8Array([-4, 0, 4])).column("q").limit(3).toArray();
    expect(byInt8.map((h) => h.id)).toEqual([1, 0, 2]);
    expect(byInt8[0]!._distance).toBe(2);
    const byHalf = await t.search([2, 2, 2]).column("h").limit(1).toArray();
    expect(byHalf[0]!.id).toBe(1);
    expect(byHalf[0]!._distance).toBe(0);
    const byBits = await t.search(new Uint8Array([0b11110001, 0])).column("b").limit(3).toArray();
    expect(byBits.map((h) => [h.id, h._distance])).toEqual([[0, 1], [1, 4], [2, 5]]);
    await expectCode(t.search([1, 2, 500]).column("q").toArray(), "INVALID_VECTOR");
    await expectCode(t.search([1, 2]).column("b").distanceType("l2").toArray(), "INVALID_ARGUMENT");
  });
});
