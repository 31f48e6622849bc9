/**
 * quiverdb/interop: whole tables through Arrow IPC files and streams (schema, field metadata,
 * embedding configs, every type with nulls), Parquet imports from a path, a Blob and an HTTP URL
 * (range requests fetch less than the file for a column subset), progress, aborts, and malformed
 * files refused with a typed error and no table (and no data file) left behind.
 */
import * as A from "apache-arrow";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf } from "../support/error-code.js";
import { connect, DataTypes, field, getRegistry, schema, type Connection, type Row } from "../../src/index.js";
import { addFromFile, exportArrowChunks, exportTable, importTable, type ImportProgress } from "../../src/interop.js";
import { fixtureRows, writeParquetFixture, type FixtureRow } from "../support/parquet-fixture.js";
import { connectThrough } from "../../src/worker/client.js";
import { LetterCounts } from "./letter-embedding.js";
import { startTsWorker } from "./worker-harness.js";
import { serveStatic, type StaticServer } from "./static-server.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "quiver-interop-"));
  getRegistry().register("letter-counts", { create: (o?: { salt?: number }) => new LetterCounts(o) }, { replace: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const byId = (rows: Row[]): Row[] => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

/** Every Quiver type, nullable ones with nulls, several fragments (one deleted row). */
const ALL_TYPES = schema([
  field("id", DataTypes.int32(), false),
  field("i8", DataTypes.int8()), field("i16", DataTypes.int16()), field("i64", DataTypes.int64()),
  field("u8", DataTypes.uint8()), field("u16", DataTypes.uint16()), field("u32", DataTypes.uint32()),
  field("f16", DataTypes.float16()), field("f32", DataTypes.float32()), field("f64", DataTypes.float64()),
  field("b", DataTypes.bool()), field("s", DataTypes.utf8()), field("ts", DataTypes.timestamp()),
  field("ls", DataTypes.list(DataTypes.utf8())), field("li", DataTypes.list(DataTypes.int32())),
  field("vec", DataTypes.vector(4)), field("half", DataTypes.vector(3, "float16")),
  field("small", DataTypes.vector(2, "int8")), field("bits", DataTypes.vector(16, "bit")),
]);

function allTypeRows(from: number, n: number): Row[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const nul = i % 4 === 1;
    return {
      id: i, i8: nul ? null : (i % 256) - 128, i16: nul ? null : -i * 7, i64: nul ? null : BigInt(i) * 2n ** 40n - 3n,
      u8: nul ? null : i % 256, u16: nul ? null : i * 3, u32: nul ? null : 4_000_000_000 - i,
      f16: nul ? null : (i % 32) / 4, f32: nul ? null : Math.fround(i / 3), f64: nul ? null : i / 7,
      b: nul ? null : i % 2 === 0, s: nul ? null : `héllo ${i} 🌍`, ts: nul ? null : new Date(Date.UTC(2024, 1, 29) + i * 1000),
      ls: nul ? null : [`a${i}`, null, "z"], li: nul ? null : [i, -i],
      vec: i % 5 === 2 ? null : [i, i + 0.25, -i, 1], half: [0.5, i % 8, -1], small: [i % 100, -(i % 100)],
      bits: Uint8Array.of(i % 256, 255 - (i % 256)),
    };
  });
}

describe("Arrow IPC export and import", () => {
  let db: Connection;
  beforeAll(async () => {
    db = await connect(join(dir, "ipc"));
    const t = await db.createEmptyTable("all", ALL_TYPES);
    await t.add(allTypeRows(0, 40));
    await t.add(allTypeRows(40, 30));
    await t.delete("id = 41");
  });
  afterAll(async () => db.close());

  for (const format of ["file", "stream"] as const) {
    it(`round-trips every type with nulls through the IPC ${format} format`, async () => {
      const source = await db.openTable("all");
      const path = join(dir, `all.${format === "file" ? "arrow" : "arrows"}`);
      const progress: number[] = [];
      const written = await exportTable(source, path, { format, onProgress: (p) => progress.push(p.rowsDone) });
      expect(written.rows).toBe(69);
      expect(progress.at(-1)).toBe(69);
      expect(progress.length).toBe(2); // one report per fragment

      // apache-arrow reads it on its own (and sees the format asked for).
      const bytes = await readFile(path);
      expect(written.bytes).toBe(bytes.length);
      expect(String.fromCharCode(...bytes.subarray(0, 6)) === "ARROW1").toBe(format === "file");
      const arrow = A.tableFromIPC(bytes);
      expect(arrow.numRows).toBe(69);
      expect(String(arrow.schema.fields.find((f) => f.name === "vec")!.type)).toBe("FixedSizeList[4]<Float32>");

      const target = await connect("memory://");
      const copy = await importTable(target, "copy", path);
      expect(await copy.quiverSchema()).toEqual(await source.quiverSchema());
      expect(byId(await copy.query().toArray())).toEqual(byId(await source.query().toArray()));
      await target.close();
    });
  }

  it("keeps field metadata and the embedding config (in LanceDB's schema-metadata shape)", async () => {
    const withMeta = new A.Schema([
      new A.Field("id", new A.Int32(), false, new Map([["role", "key"]])),
      new A.Field("text", new A.Utf8(), true, new Map([["lang", "en"]])),
    ]);
    const src = await db.createTable("notes", [
      { id: 1, text: "the quick brown fox" }, { id: 2, text: "a lazy dog sleeps" }, { id: 3, text: "foxes and dogs" },
    ], { schema: withMeta, embeddingFunction: { sourceColumn: "text", function: new LetterCounts({ salt: 7 }) } });
    const path = join(dir, "notes.arrow");
    await exportTable(src, path);

    const meta = A.tableFromIPC(await readFile(path)).schema.metadata;
    expect(JSON.parse(meta.get("embedding_functions")!)).toEqual([
      { sourceColumn: "text", vectorColumn: "vector", name: "letter-counts", model: { salt: 7 } },
    ]);

    const target = await connect(join(dir, "notes-copy"));
    await importTable(target, "notes", path);
    await target.close();
    // A fresh connection restores the embedding function from the imported config.
    const reopened = await connect(join(dir, "notes-copy"));
    const copy = await reopened.openTable("notes");
    const s = await copy.quiverSchema();
    expect(s.fields.find((f) => f.name === "id")!.metadata).toEqual({ role: "key" });
    expect(s.fields.find((f) => f.name === "text")!.metadata).toEqual({ lang: "en" });
    expect(await copy.tableConfig()).toEqual(await src.tableConfig());
    const [hit] = await copy.search("sleepy dog").limit(1).toArray();
    expect(hit!.id).toBe(2);
    await copy.add([{ id: 4, text: "embedded on add" }]);   // the restored function fills the vector
    const [added] = await copy.query().where("id = 4").toArray();
    expect((added!.vector as Float32Array).length).toBe(26);
    await reopened.close();
  });

  it("streams the export one fragment at a time and appends a file to an existing table", async () => {
    const source = await db.openTable("all");
    const chunks: Uint8Array[] = [];
    for await (const c of exportArrowChunks(source, { format: "stream" })) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(3); // schema, batches, end marker arrive separately
    const bytes = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    chunks.reduce((at, c) => (bytes.set(c, at), at + c.length), 0);

    const target = await connect("memory://");
    const t = await target.createEmptyTable("all", ALL_TYPES);
    const v = await addFromFile(t, bytes);
    expect(v.version).toBe(2);
    expect(await t.countRows()).toBe(69);
    await target.close();
  });

  it("an aborted export leaves no file behind", async () => {
    const source = await db.openTable("all");
    const path = join(dir, "aborted.arrow");
    const controller = new AbortController();
    const exported = exportTable(source, path, { signal: controller.signal, onProgress: () => controller.abort() });
    expect(await codeOf(exported)).toBe("ABORTED");
    expect((await readdir(dir)).filter((f) => f.startsWith("aborted.arrow"))).toEqual([]);
  });

  it("refuses malformed files with CORRUPT_FILE and creates nothing", async () => {
    const target = await connect(join(dir, "bad-ipc"));
    const good = await readFile(join(dir, "all.arrows"));
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    expect(await codeOf(importTable(target, "g", garbage))).toBe("CORRUPT_FILE");
    expect(await codeOf(importTable(target, "e", new Uint8Array(0)))).toBe("CORRUPT_FILE");
    // Cut inside the second record batch: the first is read (and written as a fragment) before the failure.
    const cut = good.subarray(0, Math.floor(good.length * 0.8));
    expect(await codeOf(importTable(target, "cut", cut, { fragmentRows: 1 }))).toBe("CORRUPT_FILE");
    const fileCut = (await readFile(join(dir, "all.arrow"))).subarray(0, 2000);
    expect(await codeOf(importTable(target, "cutfile", fileCut, { format: "arrow" }))).toBe("CORRUPT_FILE");
    expect(await target.tableNames()).toEqual([]);
    const left = await readdir(join(dir, "bad-ipc"), { recursive: true }).catch(() => []);
    expect(left.filter((f) => String(f).endsWith(".qvf"))).toEqual([]);
    await target.close();
  });
});

describe("through quiverdb/worker", () => {
  it("imports into and exports from a table in a worker_threads worker", async () => {
    const worker = startTsWorker();
    try {
      const db = await connectThrough(join(dir, "worker-db"), { worker }, () => { throw new Error("the test passes its worker"); });
      const bytes = writeParquetFixture(fixtureRows(600), 200);
      const t = await importTable(db, "pq", bytes);
      expect(await t.countRows("name IS NULL")).toBe(200);
      const path = join(dir, "from-worker.arrows");
      expect((await exportTable(t, path, { format: "stream" })).rows).toBe(600);
      const local = await connect("memory://");
      const back = await importTable(local, "back", path);
      expect(await back.countRows("vector IS NOT NULL")).toBe(600);
      await local.close();
      await db.close();
    } finally {
      await worker.terminate();
    }
  });
});

describe("bounded memory", () => {
  /** A Blob that records the size of every slice read from it. */
  class CountingBlob extends Blob {
    readonly reads: number[] = [];
    override slice(start?: number, end?: number, type?: string): Blob {
      this.reads.push((end ?? this.size) - (start ?? 0));
      return super.slice(start, end, type);
    }
  }

  it("reads a large IPC stream and file in bounded pieces and writes fragments of fragmentBytes", async () => {
    const dim = 32;
    const batches = Array.from({ length: 40 }, (_, b) => {
      const n = 2500;
      const values = Float32Array.from({ length: n * dim }, (_, i) => Math.sin(b * 1000 + i));
      const vecType = new A.FixedSizeList(dim, new A.Field("item", new A.Float32(), true));
      return new A.Table({
        id: A.makeVector(Int32Array.from({ length: n }, (_, i) => b * n + i)),
        vector: A.makeVector(A.makeData({ type: vecType, length: n, child: A.makeData({ type: new A.Float32(), length: n * dim, data: values }) })),
      }).batches[0]!;
    });
    for (const format of ["stream", "file"] as const) {
      const bytes = A.tableToIPC(new A.Table(batches), format);
      expect(bytes.length).toBeGreaterThan(12 * 2 ** 20);
      const blob = new CountingBlob([bytes.slice()]);
      const db = await connect(join(dir, `bounded-${format}`));
      const t = await importTable(db, "big", blob, { fragmentBytes: 2 * 2 ** 20 });
      expect(await t.countRows()).toBe(100_000);
      // No read larger than the 4 MiB read-ahead window; the file read about once.
      expect(Math.max(...blob.reads)).toBeLessThanOrEqual(4 * 2 ** 20);
      expect(blob.reads.reduce((s, x) => s + x, 0)).toBeLessThan(bytes.length * 1.05);
      const files = (await readdir(join(dir, `bounded-${format}`, "big.quiver", "data"))).filter((f) => f.endsWith(".qvf"));
      expect(files.length).toBeGreaterThanOrEqual(6); // ~13 MB in fragments of ~2 MiB
      expect(await t.version()).toBe(1);               // one commit
      await db.close();
    }
  });

  it("reads a Parquet file one row group at a time", async () => {
    const bytes = writeParquetFixture(fixtureRows(16_000), 2000);
    const blob = new CountingBlob([bytes]);
    const db = await connect("memory://");
    const progress: ImportProgress[] = [];
    await importTable(db, "pq", blob, { onProgress: (p) => progress.push(p) });
    expect(progress.length).toBe(8);
    // Bytes read grow with each row group instead of arriving all at once.
    expect(progress[0]!.bytesRead).toBeLessThan(bytes.length / 2);
    expect(Math.max(...blob.reads.slice(1))).toBeLessThan(bytes.length / 4);
    await db.close();
  });
});

describe("Parquet import", () => {
  const N = 1000;
  const rows = fixtureRows(N);
  let path: string;
  let server: StaticServer;
  beforeAll(async () => {
    path = join(dir, "fixture.parquet");
    await writeFile(path, writeParquetFixture(rows, 250));
    server = await serveStatic(dir);
  });
  afterAll(async () => server.close());

  function expectRows(got: Row[], want: readonly FixtureRow[]): void {
    expect(got.length).toBe(want.length);
    got.forEach((r, i) => {
      const w = want[i]!;
      expect(r.id).toBe(w.id);
      expect(r.name).toBe(w.name);
      expect(r.score).toBe(w.score);
      expect(r.big).toBe(w.big);
      expect(r.ts).toEqual(w.ts);
      expect(r.flag).toBe(w.flag);
      expect(r.tags).toEqual(w.tags);
      expect(Array.from(r.vector as Float32Array)).toEqual(w.vector);
    });
  }

  it("imports a file by path, row group by row group, with progress", async () => {
    const db = await connect("memory://");
    const progress: ImportProgress[] = [];
    const t = await importTable(db, "pq", path, { onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => p.rowsDone)).toEqual([250, 500, 750, 1000]);
    expect(progress.every((p) => p.rowsTotal === N && p.bytesTotal > 0)).toBe(true);
    const s = await t.quiverSchema();
    expect(s.fields.map((f) => [f.name, f.type.kind, f.nullable])).toEqual([
      ["id", "int", false], ["name", "utf8", true], ["score", "float", true], ["big", "int", true],
      ["ts", "timestamp", true], ["flag", "bool", true], ["tags", "list", true], ["vector", "vector", false],
    ]);
    expectRows(byId(await t.query().toArray()), rows);
    // The vector column searches: the nearest row to row 17's vector is row 17.
    const [hit] = await t.search(rows[17]!.vector).limit(1).toArray();
    expect(hit!.id).toBe(17);
    await db.close();
  });

  it("imports a Blob, with a column subset and a chosen vector column", async () => {
    const db = await connect("memory://");
    const blob = new Blob([await readFile(path)]);
    const t = await importTable(db, "blob", blob, { columns: ["vector", "id"] });
    expect((await t.quiverSchema()).fields.map((f) => f.name)).toEqual(["vector", "id"]);
    expect(await t.countRows()).toBe(N);
    const lists = await importTable(db, "lists", blob, { columns: ["id", "vector"], vectorColumns: [] });
    expect((await lists.quiverSchema()).fields[1]!.type).toEqual(DataTypes.list(DataTypes.float32()));
    await db.close();
  });

  it("reads a URL with range requests: a column subset fetches less than the file", async () => {
    // Large enough that the footer and one column are a small part of it.
    await writeFile(join(dir, "big.parquet"), writeParquetFixture(fixtureRows(20_000), 5000));
    const size = (await readFile(join(dir, "big.parquet"))).length;
    const db = await connect("memory://");
    const before = server.bytesSent();
    const all = await importTable(db, "http_all", `${server.origin}/big.parquet`);
    const wholeBytes = server.bytesSent() - before;
    expectRows(byId(await all.query().toArray()), fixtureRows(20_000));
    expect(wholeBytes).toBeLessThanOrEqual(size + 64 * 1024);

    const mark = server.bytesSent();
    const log = server.log.length;
    const progress: ImportProgress[] = [];
    const ids = await importTable(db, "http_ids", `${server.origin}/big.parquet`, { columns: ["id"], onProgress: (p) => progress.push(p) });
    const subsetBytes = server.bytesSent() - mark;
    expect(await ids.countRows()).toBe(20_000);
    expect(server.log.slice(log).filter((r) => r.method === "GET").every((r) => r.range !== undefined)).toBe(true);
    expect(subsetBytes).toBeLessThan(size / 4);
    expect(progress.at(-1)!.bytesRead).toBe(subsetBytes);

    // Arrow IPC files and streams over HTTP too (written by the IPC tests above).
    for (const name of ["all.arrow", "all.arrows"]) {
      const t = await importTable(db, name.replace(".", "_"), `${server.origin}/${name}`);
      expect(await t.countRows()).toBe(69);
    }
    await db.close();
  });

  it("refuses malformed Parquet with CORRUPT_FILE, bad arguments with typed errors, and creates nothing", async () => {
    const bytes = await readFile(path);
    const db = await connect(join(dir, "bad-pq"));
    expect(await codeOf(importTable(db, "a", bytes.subarray(0, bytes.length - 100)))).toBe("CORRUPT_FILE");
    const damaged = new Uint8Array(bytes); // a copy (Buffer.slice would share the memory)
    damaged.fill(0x7f, 4, Math.floor(damaged.length / 2)); // column chunks of the first row groups overwritten
    expect(await codeOf(importTable(db, "b", damaged, { format: "parquet", fragmentRows: 1 }))).toBe("CORRUPT_FILE");
    expect(await codeOf(importTable(db, "c", bytes, { format: "arrow" }))).toBe("CORRUPT_FILE");
    expect(await codeOf(importTable(db, "d", bytes, { columns: ["nope"] }))).toBe("UNKNOWN_COLUMN");
    expect(await codeOf(importTable(db, "e", join(dir, "missing.parquet")))).toBe("NOT_FOUND");
    expect(await codeOf(importTable(db, "f", `${server.origin}/missing.parquet`))).toBe("NOT_FOUND");
    const controller = new AbortController();
    const aborted = importTable(db, "g", bytes, { signal: controller.signal, onProgress: () => controller.abort(), fragmentRows: 1 });
    expect(await codeOf(aborted)).toBe("ABORTED");
    expect(await db.tableNames()).toEqual([]);
    const left = await readdir(join(dir, "bad-pq"), { recursive: true }).catch(() => []);
    expect(left.filter((f) => String(f).endsWith(".qvf"))).toEqual([]);
    // An existing table is not replaced without mode "overwrite".
    await importTable(db, "kept", bytes, { columns: ["id"] });
    expect(await codeOf(importTable(db, "kept", bytes))).toBe("TABLE_EXISTS");
    const over = await importTable(db, "kept", bytes, { mode: "overwrite", columns: ["id", "name"] });
    expect((await over.quiverSchema()).fields.map((f) => f.name)).toEqual(["id", "name"]);
    expect(await over.version()).toBe(2);
    await db.close();
  });
});
