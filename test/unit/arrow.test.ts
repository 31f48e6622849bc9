/**
 * Arrow in and out: every Arrow type Quiver reads, with nulls, through createTable / add and back
 * through toArrow(); Arrow schemas for createEmptyTable; bad Arrow input refused with typed errors
 * and nothing written. apache-arrow objects throughout, plus a flechette table (duck typing).
 */
import * as A from "apache-arrow";
import * as F from "@uwdata/flechette";
import { describe, expect, it } from "vitest";
import { codeOf } from "../support/error-code.js";
import { connect, DataTypes, field, Index, schema, type Connection, type Row, type WriteProgress } from "../../src/index.js";

const item = (t: A.DataType, nullable = true) => new A.Field("item", t, nullable);
const vec = <T extends A.DataType>(values: unknown[], type: T) => A.vectorFromArray(values as never, type);

/** One column per Arrow type: what goes in, what Quiver reads, and what comes back out. */
interface Case {
  name: string;
  arrow: A.DataType;
  values: unknown[];
  /** The row values Quiver returns. */
  rows: unknown[];
  /** Arrow type out (as its toString()). */
  out: string;
  /** The Arrow column itself, when `values` cannot express it. */
  vector?: A.Vector;
}

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 1, 29, 12, 30, 15, 250);

const CASES: Case[] = [
  { name: "i8", arrow: new A.Int8(), values: [-128, null, 127], rows: [-128, null, 127], out: "Int8" },
  { name: "i16", arrow: new A.Int16(), values: [-32768, 5, null], rows: [-32768, 5, null], out: "Int16" },
  { name: "i32", arrow: new A.Int32(), values: [null, -2147483648, 2147483647], rows: [null, -2147483648, 2147483647], out: "Int32" },
  { name: "i64", arrow: new A.Int64(), values: [-(2n ** 63n), null, 2n ** 62n], rows: [-(2n ** 63n), null, 2n ** 62n], out: "Int64" },
  { name: "u8", arrow: new A.Uint8(), values: [0, 255, null], rows: [0, 255, null], out: "Uint8" },
  { name: "u16", arrow: new A.Uint16(), values: [65535, null, 1], rows: [65535, null, 1], out: "Uint16" },
  { name: "u32", arrow: new A.Uint32(), values: [4294967295, 0, null], rows: [4294967295, 0, null], out: "Uint32" },
  { name: "u64", arrow: new A.Uint64(), values: [2n ** 63n - 1n, null, 7n], rows: [2n ** 63n - 1n, null, 7n], out: "Int64" },
  { name: "f16", arrow: new A.Float16(), values: [1.5, null, -65504], rows: [1.5, null, -65504], out: "Float16" },
  { name: "f32", arrow: new A.Float32(), values: [0.25, -1e30, null], rows: [0.25, Math.fround(-1e30), null], out: "Float32" },
  { name: "f64", arrow: new A.Float64(), values: [Math.PI, null, -0.1], rows: [Math.PI, null, -0.1], out: "Float64" },
  { name: "s", arrow: new A.Utf8(), values: ["héllo", null, ""], rows: ["héllo", null, ""], out: "Utf8" },
  { name: "ls", arrow: new A.LargeUtf8(), values: [null, "wide 🌍", "x"], rows: [null, "wide 🌍", "x"], out: "Utf8" },
  { name: "b", arrow: new A.Bool(), values: [true, null, false], rows: [true, null, false], out: "Bool" },
  { name: "ts_s", arrow: new A.TimestampSecond(), values: [T0 - 250, null, 0], rows: [new Date(T0 - 250), null, new Date(0)], out: "Timestamp<MILLISECOND>" },
  { name: "ts_ms", arrow: new A.TimestampMillisecond(), values: [T0, -DAY, null], rows: [new Date(T0), new Date(-DAY), null], out: "Timestamp<MILLISECOND>" },
  { name: "ts_us", arrow: new A.TimestampMicrosecond(), values: [null, T0, 1], rows: [null, new Date(T0), new Date(1)], out: "Timestamp<MILLISECOND>" },
  // Built from exact nanoseconds (apache-arrow's builder multiplies milliseconds as doubles).
  {
    name: "ts_ns", arrow: new A.TimestampNanosecond(), values: [], rows: [new Date(T0), null, new Date(2)], out: "Timestamp<MILLISECOND>",
    vector: A.makeVector(A.makeData({
      type: new A.TimestampNanosecond(), length: 3, nullCount: 1, nullBitmap: Uint8Array.of(0b101),
      data: BigInt64Array.of(BigInt(T0) * 1_000_000n + 123n, 0n, 2_000_000n) as unknown as Int32Array,
    })),
  },
  { name: "d_day", arrow: new A.DateDay(), values: [new Date(19_000 * DAY), null, new Date(0)], rows: [new Date(19_000 * DAY), null, new Date(0)], out: "Timestamp<MILLISECOND>" },
  { name: "d_ms", arrow: new A.DateMillisecond(), values: [null, new Date(T0), new Date(-DAY)], rows: [null, new Date(T0), new Date(-DAY)], out: "Timestamp<MILLISECOND>" },
  { name: "l_i32", arrow: new A.List(item(new A.Int32())), values: [[1, null, 3], null, []], rows: [[1, null, 3], null, []], out: "List<Int32>" },
  { name: "l_s", arrow: new A.List(item(new A.Utf8())), values: [["a", "b"], [], null], rows: [["a", "b"], [], null], out: "List<Utf8>" },
  { name: "fsl_i32", arrow: new A.FixedSizeList(2, item(new A.Int32())), values: [[1, 2], null, [5, null]], rows: [[1, 2], null, [5, null]], out: "List<Int32>" },
  {
    name: "v_f32", arrow: new A.FixedSizeList(3, item(new A.Float32())), values: [[1, 2, 3], null, [-0.5, 0, 1e-3]],
    rows: [Float32Array.from([1, 2, 3]), null, Float32Array.from([-0.5, 0, 1e-3])], out: "FixedSizeList[3]<Float32>",
  },
  {
    name: "v_f64", arrow: new A.FixedSizeList(2, item(new A.Float64())), values: [[0.1, 0.2], [3, 4], null],
    rows: [Float32Array.from([0.1, 0.2]), Float32Array.from([3, 4]), null], out: "FixedSizeList[2]<Float32>",
  },
  {
    name: "v_f16", arrow: new A.FixedSizeList(2, item(new A.Float16())), values: [[0.5, -2], null, [1024, 0.25]],
    rows: [Float32Array.from([0.5, -2]), null, Float32Array.from([1024, 0.25])], out: "FixedSizeList[2]<Float16>",
  },
  {
    name: "v_i8", arrow: new A.FixedSizeList(4, item(new A.Int8())), values: [[-128, 0, 1, 127], [1, 2, 3, 4], null],
    rows: [Int8Array.from([-128, 0, 1, 127]), Int8Array.from([1, 2, 3, 4]), null], out: "FixedSizeList[4]<Int8>",
  },
  {
    name: "v_bits", arrow: new A.FixedSizeList(2, item(new A.Uint8())), values: [[255, 0], null, [170, 85]],
    rows: [Uint8Array.from([255, 0]), null, Uint8Array.from([170, 85])], out: "FixedSizeList[2]<Uint8>",
  },
];

function arrowTableOf(cases: readonly Case[]): A.Table {
  return new A.Table(Object.fromEntries(cases.map((c) => [c.name, c.vector ?? vec(c.values, c.arrow)])));
}

async function memoryDb(): Promise<Connection> {
  return connect("memory://");
}

describe("Arrow in: every type, nulls included", () => {
  it("createTable from an apache-arrow Table reads each type as documented in docs/ARROW.md", async () => {
    const db = await memoryDb();
    const t = await db.createTable("all", arrowTableOf(CASES));
    const rows = await t.query().toArray();
    expect(rows).toHaveLength(3);
    for (const c of CASES) expect(rows.map((r) => r[c.name]), c.name).toEqual(c.rows);
    const s = await t.quiverSchema();
    const kinds = Object.fromEntries(s.fields.map((f) => [f.name, f.type]));
    expect(kinds.u64).toEqual(DataTypes.int64());
    expect(kinds.v_f32).toEqual(DataTypes.vector(3));
    expect(kinds.v_f16).toEqual(DataTypes.vector(2, "float16"));
    expect(kinds.v_i8).toEqual(DataTypes.vector(4, "int8"));
    expect(kinds.v_bits).toEqual(DataTypes.vector(16, "bit"));
    expect(kinds.fsl_i32).toEqual(DataTypes.list(DataTypes.int32()));
    expect(kinds.d_day).toEqual(DataTypes.timestamp());
  });

  it("toArrow() gives each column back with its Arrow type, values and nulls", async () => {
    const db = await memoryDb();
    const t = await db.createTable("all", arrowTableOf(CASES));
    const out = await t.toArrow();
    expect(out.numRows).toBe(3);
    for (const c of CASES) {
      const f = out.schema.fields.find((x) => x.name === c.name)!;
      expect(String(f.type), c.name).toBe(c.out);
      const col = out.getChild(c.name)!;
      const got = Array.from({ length: 3 }, (_, i) => {
        const v = col.get(i);
        if (v === null) return null;
        if (f.type.typeId === A.Type.Timestamp) return new Date(Number(v));
        if (f.type.typeId === A.Type.List) return [...(v as A.Vector)];
        if (f.type.typeId === A.Type.FixedSizeList) {
          // apache-arrow hands Float16 out as raw bits from toArray(); iterating gives numbers.
          return c.out.includes("Float16") ? Float32Array.from(v as A.Vector<A.Float16>) : (v as A.Vector).toArray();
        }
        return v;
      });
      expect(got, c.name).toEqual(c.rows);
      expect(col.nullCount, c.name).toBe(c.rows.filter((r) => r === null).length);
    }
  });

  it("keeps nullability and field metadata of an Arrow schema (createEmptyTable), and schema() returns an Arrow Schema", async () => {
    const db = await memoryDb();
    const arrowSchema = new A.Schema([
      new A.Field("id", new A.Int32(), false),
      new A.Field("text", new A.Utf8(), true, new Map([["source", "wiki"]])),
      new A.Field("vector", new A.FixedSizeList(4, item(new A.Float32())), true),
    ]);
    const t = await db.createEmptyTable("empty", arrowSchema);
    expect(await t.countRows()).toBe(0);
    const s = await t.schema();
    expect(s.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ["id", "Int32", false], ["text", "Utf8", true], ["vector", "FixedSizeList[4]<Float32>", true],
    ]);
    expect(s.fields[1]!.metadata.get("source")).toBe("wiki");
    expect(A.DataType.isFixedSizeList(s.fields[2]!.type)).toBe(true);
    const q = await t.quiverSchema();
    expect(q.fields[0]).toEqual({ name: "id", type: DataTypes.int32(), nullable: false });
    expect((await t.toArrow()).schema.fields.map((f) => f.name)).toEqual(["id", "text", "vector"]);
    // An Arrow schema also types rows given to createTable.
    const r = await db.createTable("rows", [{ id: 1, text: "a", vector: [1, 2, 3, 4] }], { schema: arrowSchema });
    expect((await r.quiverSchema()).fields.map((f) => f.type.kind)).toEqual(["int", "utf8", "vector"]);
  });

  it("add() takes a Table, RecordBatch[] and an async iterable of batches, converting types to the table's", async () => {
    const db = await memoryDb();
    const t = await db.createTable("t", [{ id: 1, vector: [1, 2] }], { schema: schema([field("id", DataTypes.float64()), field("vector", DataTypes.vector(2))]) });
    // Int32 ids into a float64 column; Float64 vectors into a float32 vector column.
    const part = new A.Table({ id: vec([2, 3], new A.Int32()), vector: vec([[3, 4], [5, 6]], new A.FixedSizeList(2, item(new A.Float64()))) });
    expect(await t.add(part)).toEqual({ version: 2 });
    expect(await t.add(part.batches)).toEqual({ version: 3 });
    async function* stream(): AsyncGenerator<A.RecordBatch> {
      for (const b of part.batches) yield b;
    }
    expect(await t.add(stream())).toEqual({ version: 4 });
    expect(await t.countRows()).toBe(7);
    const rows = await t.query().where("id = 3").toArray();
    expect(rows.map((r) => [r.id, Array.from(r.vector as Float32Array)])).toEqual([[3, [5, 6]], [3, [5, 6]], [3, [5, 6]]]);
    // A column the Arrow data lacks is null when nullable.
    await t.add(new A.Table({ id: vec([9], new A.Float64()) }));
    expect((await t.query().where("id = 9").toArray())[0]!.vector).toBeNull();
  });

  it("a streamed add() writes fragments of fragmentRows from batches, reporting each fragment written", async () => {
    const db = await memoryDb();
    const t = await db.createTable("s", [{ id: 0, vector: [0, 0] }], { schema: schema([field("id", DataTypes.int32()), field("vector", DataTypes.vector(2))]) });
    const batch = (from: number, n: number) => new A.Table({
      id: vec(Array.from({ length: n }, (_, i) => from + i), new A.Int32()),
      vector: vec(Array.from({ length: n }, (_, i) => [from + i, -(from + i)]), new A.FixedSizeList(2, item(new A.Float32()))),
    }).batches[0]!;
    async function* batches(): AsyncGenerator<A.RecordBatch> {
      for (let from = 1; from <= 70; from += 7) yield batch(from, 7); // ten batches of 7 rows
    }
    const seen: WriteProgress[] = [];
    expect(await t.add(batches(), { fragmentRows: 20, progress: (p) => seen.push(p) })).toEqual({ version: 2 });
    // Rows gather into fragments of ≥ 20 (whole batches): 21, 21, 21, 7.
    expect(seen).toEqual([21, 42, 63, 70].map((rowsDone) => ({ phase: "write", rowsDone, rowsTotal: rowsDone })));
    expect((await t.stats()).fragmentStats.numFragments).toBe(5);
    const rows = await t.query().where("id >= 60").toArray();
    expect(rows.map((r) => [r.id, Array.from(r.vector as Float32Array)])).toEqual(Array.from({ length: 11 }, (_, i) => [60 + i, [60 + i, -(60 + i)]]));
  });

  it("reads dictionary-encoded strings (what tableFromArrays makes) and sliced tables", async () => {
    const db = await memoryDb();
    const src = A.tableFromArrays({ id: Int32Array.from([1, 2, 3, 4]), tag: ["a", "b", null, "a"] });
    expect(src.schema.fields[1]!.type.typeId).toBe(A.Type.Dictionary);
    const t = await db.createTable("d", src.slice(1, 4));
    expect(await t.query().toArray()).toEqual([{ id: 2, tag: "b" }, { id: 3, tag: null }, { id: 4, tag: "a" }]);
  });

  it("reads a @uwdata/flechette table too (duck typing, no instanceof)", async () => {
    const db = await memoryDb();
    const ft = F.tableFromArrays(
      { id: Int32Array.from([1, 2, 3]), text: ["x", null, "z"], vector: [[1, 2], [3, 4], [5, 6]], when: [new Date(T0), null, new Date(0)] },
      { types: { vector: F.fixedSizeList(F.float32(), 2), when: F.timestamp(F.TimeUnit.MICROSECOND) } },
    );
    const t = await db.createTable("f", ft as unknown as A.Table);
    const rows = await t.query().toArray();
    expect(rows.map((r) => [r.id, r.text, Array.from(r.vector as Float32Array), r.when])).toEqual([
      [1, "x", [1, 2], new Date(T0)], [2, null, [3, 4], null], [3, "z", [5, 6], new Date(0)],
    ]);
    expect((await t.quiverSchema()).fields.map((f) => f.type)).toEqual([DataTypes.int32(), DataTypes.utf8(), DataTypes.vector(2), DataTypes.timestamp()]);
  });
});

describe("round trip", () => {
  it("table → toArrow → createTable gives identical rows (deleted rows left out)", async () => {
    const db = await memoryDb();
    const rows: Row[] = Array.from({ length: 50 }, (_, i) => ({
      id: BigInt(i), price: i % 7 === 0 ? null : i * 1.25, name: `item ${i}`, ok: i % 2 === 0,
      at: new Date(T0 + i * 1000), tags: i % 5 === 0 ? null : [`t${i % 3}`, "x"], vector: Float32Array.from([i, -i, i / 4]),
      half: i % 4 === 0 ? null : [i / 2, 1], small: Int8Array.from([i, -i]), bits: Uint8Array.from([i, 255 - i]),
    }));
    const s = schema([
      field("id", DataTypes.int64(), false), field("price", DataTypes.float64()), field("name", DataTypes.utf8()), field("ok", DataTypes.bool()),
      field("at", DataTypes.timestamp()), field("tags", DataTypes.list(DataTypes.utf8())), field("vector", DataTypes.vector(3)),
      field("half", DataTypes.vector(2, "float16")), field("small", DataTypes.vector(2, "int8")), field("bits", DataTypes.vector(16, "bit")),
    ]);
    const a = await db.createTable("a", rows.slice(0, 30), { schema: s });
    await a.add(rows.slice(30));
    await a.delete("id = 3");
    const arrow = await a.toArrow();
    expect(arrow.batches).toHaveLength(2);
    expect(arrow.numRows).toBe(49);
    const b = await db.createTable("b", arrow);
    expect(await b.quiverSchema()).toEqual(await a.quiverSchema());
    expect(await b.query().toArray()).toEqual(await a.query().toArray());
    // And once more through IPC bytes, as a file would carry it.
    const c = await db.createTable("c", A.tableFromIPC(A.tableToIPC(arrow)));
    expect(await c.query().toArray()).toEqual(await a.query().toArray());
  });
});

describe("query results as Arrow", () => {
  async function searchable(db: Connection) {
    const t = await db.createTable("docs", Array.from({ length: 20 }, (_, i) => ({
      id: i, text: i % 2 === 0 ? `the dog ${i}` : `a cat ${i}`, vector: [Math.cos(i), Math.sin(i)],
    })));
    await t.createIndex("text", { config: Index.fts() });
    return t;
  }

  it("query().toArrow(), vector search (_distance), full-text (_score), hybrid (_relevance_score), _rowid as UInt64", async () => {
    const t = await searchable(await memoryDb());
    const scan = await t.query().where("id < 5").select(["id", "vector"]).toArrow();
    expect(scan.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual(["id: Float64", "vector: FixedSizeList[2]<Float32>"]);
    expect(Array.from(scan.getChild("id")!.toArray() as Float64Array)).toEqual([0, 1, 2, 3, 4]);

    const near = await t.search([1, 0]).limit(3).toArrow();
    const dist = near.schema.fields.find((f) => f.name === "_distance")!;
    expect(String(dist.type)).toBe("Float32");
    expect(near.getChild("id")!.get(0)).toBe(0);
    const rows = await t.search([1, 0]).limit(3).toArray();
    expect(Array.from(near.getChild("_distance")!.toArray() as Float32Array)).toEqual(rows.map((r) => Math.fround(r._distance as number)));

    const fts = await t.search("dog", "fts").limit(4).toArrow();
    expect(String(fts.schema.fields.find((f) => f.name === "_score")!.type)).toBe("Float32");
    expect(fts.numRows).toBe(4);

    const hybrid = await t.query().nearestTo([1, 0]).fullTextSearch("dog").limit(5).toArrow();
    expect(String(hybrid.schema.fields.find((f) => f.name === "_relevance_score")!.type)).toBe("Float32");

    const withIds = await t.query().select(["id"]).withRowId().limit(2).toArrow();
    expect(String(withIds.schema.fields[1]!.type)).toBe("Uint64");
    expect(Array.from(withIds.getChild("_rowid")!.toArray() as BigUint64Array)).toEqual([0n, 1n]);
  });

  it("iterates record batches (for await, toBatches with maxBatchLength) and types an empty result", async () => {
    const t = await searchable(await memoryDb());
    const sizes: number[] = [];
    for await (const batch of t.query().toBatches({ maxBatchLength: 8 })) sizes.push(batch.numRows);
    expect(sizes).toEqual([8, 8, 4]);
    let n = 0;
    for await (const batch of t.query().where("id >= 15")) n += batch.numRows;
    expect(n).toBe(5);
    const none = await t.query().where("id > 100").select({ id: "id", twice: "id * 2" }).toArrow();
    expect(none.numRows).toBe(0);
    expect(none.schema.fields.map((f) => f.name)).toEqual(["id", "twice"]);
    const computed = await t.query().where("id < 2").select({ id: "id", twice: "id * 2" }).toArrow();
    expect(Array.from(computed.getChild("twice")!.toArray() as Float64Array)).toEqual([0, 2]);
    expect(await codeOf(t.query().toArrow({ maxBatchLength: 0 }))).toBe("INVALID_ARGUMENT");
  });
});

describe("ownership and no-op writes", () => {
  it("toArrow() hands out copies: changing its buffers does not change the table", async () => {
    const db = await memoryDb();
    const t = await db.createTable("own", [{ id: 1, vector: [1, 2] }]);
    const out = await t.toArrow();
    (out.getChild("vector")!.data[0]!.children[0]!.values as Float32Array).fill(9);
    (out.getChild("id")!.data[0]!.values as Float64Array)[0] = 7;
    expect((await t.query().toArray()).map((r) => [r.id, Array.from(r.vector as Float32Array)])).toEqual([[1, [1, 2]]]);
  });

  it("adding zero Arrow rows commits nothing, yet still checks the columns", async () => {
    const db = await memoryDb();
    const t = await db.createTable("z", [{ id: 1 }]);
    expect(await t.add(new A.Table({ id: vec([], new A.Float64()) }))).toEqual({ version: 1 });
    expect(await codeOf(t.add(new A.Table({ nope: vec([], new A.Float64()) })))).toBe("SCHEMA_MISMATCH");
    expect(await t.version()).toBe(1);
  });
});

describe("bad Arrow input: typed errors, stored data untouched", () => {
  async function base(db: Connection) {
    return db.createTable("t", new A.Table({
      id: vec([1, 2], new A.Int32()),
      vector: vec([[1, 2, 3], [4, 5, 6]], new A.FixedSizeList(3, item(new A.Float32()))),
    }));
  }

  it("refuses wrong types, unknown columns, wrong dimensions, NaN and null elements in vectors, nulls where not nullable", async () => {
    const db = await memoryDb();
    const t = await base(db);
    const before = await t.toArrow();
    const bad: [string, A.Table][] = [
      ["SCHEMA_MISMATCH", new A.Table({ id: vec(["x"], new A.Utf8()) })],
      ["SCHEMA_MISMATCH", new A.Table({ id: vec([3], new A.Int32()), extra: vec([1], new A.Int32()) })],
      ["SCHEMA_MISMATCH", new A.Table({ id: vec([2 ** 40], new A.Float64()) })],
      ["DIMENSION_MISMATCH", new A.Table({ vector: vec([[1, 2]], new A.FixedSizeList(2, item(new A.Float32()))) })],
      ["INVALID_VECTOR", new A.Table({ vector: vec([[1, NaN, 3]], new A.FixedSizeList(3, item(new A.Float32()))) })],
      ["INVALID_VECTOR", new A.Table({ vector: vec([[1, null, 3]], new A.FixedSizeList(3, item(new A.Float32()))) })],
      ["INVALID_VECTOR", new A.Table({ vector: vec([[1, 1e39, 3]], new A.FixedSizeList(3, item(new A.Float64()))) })],
      ["SCHEMA_MISMATCH", new A.Table({ f: vec([NaN], new A.Float64()) })],
    ];
    for (const [code, data] of bad) expect(await codeOf(t.add(data)), String(data.schema.fields.map((f) => f.name))).toBe(code);
    expect(await t.version()).toBe(1);
    expect(await t.query().toArray()).toEqual(await (await db.createTable("copy", before)).query().toArray());

    const strict = await db.createEmptyTable("strict", new A.Schema([new A.Field("id", new A.Int32(), false)]));
    expect(await codeOf(strict.add(new A.Table({ id: vec([1, null], new A.Int32()) })))).toBe("SCHEMA_MISMATCH");
    expect(await codeOf(strict.add(new A.Table({ other: vec([1], new A.Int32()) })))).toBe("SCHEMA_MISMATCH");
    expect(await strict.countRows()).toBe(0);
  });

  it("refuses Arrow types Quiver cannot store, uint64 past int64 and non-Arrow objects, creating no table", async () => {
    const db = await memoryDb();
    const unsupported = [
      new A.Table({ b: vec([new Uint8Array([1])], new A.Binary()) }),
      new A.Table({ s: vec([{ x: 1 }], new A.Struct([new A.Field("x", new A.Int32())])) }),
      new A.Table({ l: vec([[[1, 2]]], new A.List(item(new A.FixedSizeList(2, item(new A.Float32()))))) }),
    ];
    for (const data of unsupported) expect(await codeOf(db.createTable("x", data))).toBe("SCHEMA_MISMATCH");
    expect(await codeOf(db.createEmptyTable("x", new A.Schema([new A.Field("d", new A.Decimal(2, 10, 128))])))).toBe("SCHEMA_MISMATCH");
    expect(await codeOf(db.createTable("x", new A.Table({ u: vec([2n ** 63n], new A.Uint64()) })))).toBe("SCHEMA_MISMATCH");
    expect(await codeOf(db.createTable("x", [] as A.RecordBatch[]))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(db.createTable("x", { schema: 1 } as never))).toBe("INVALID_ARGUMENT");
    expect(await db.tableNames()).toEqual([]);
  });

  it("refuses record batches of different schemas in one add", async () => {
    const db = await memoryDb();
    const t = await base(db);
    const a = new A.Table({ id: vec([5], new A.Int32()) }).batches[0]!;
    const b = new A.Table({ id: vec([6], new A.Float64()) }).batches[0]!;
    expect(await codeOf(t.add([a, b]))).toBe("SCHEMA_MISMATCH");
    expect(await t.countRows()).toBe(2);
  });
});

describe("write results shaped as LanceDB's", () => {
  it("add, update, delete, mergeInsert, addColumns, alterColumns, dropColumns", async () => {
    const db = await memoryDb();
    const t = await db.createTable("w", [{ id: 1, x: 1 }, { id: 2, x: 2 }]);
    expect(await t.add([{ id: 3, x: 3 }])).toEqual({ version: 2 });
    expect(await t.update({ where: "id = 1", values: { x: 10 } })).toEqual({ rowsUpdated: 1, version: 3 });
    expect(await t.delete("id = 2")).toEqual({ numDeletedRows: 1, version: 4 });
    expect(await t.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([{ id: 3, x: 30 }, { id: 4, x: 4 }]))
      .toEqual({ version: 5, numInsertedRows: 1, numUpdatedRows: 1, numDeletedRows: 0 });
    expect(await t.addColumns([{ name: "y", valueSql: "x * 2" }])).toEqual({ version: 6 });
    expect(await t.alterColumns([{ path: "y", rename: "z" }])).toEqual({ version: 7 });
    expect(await t.dropColumns(["z"])).toEqual({ version: 8 });
  });
});
