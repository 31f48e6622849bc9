import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { seededRandom as rng } from "../../bench/datasets.js";
import { readAll, type Column } from "../../src/data/column.js";
import { rowsToBatch, type Row } from "../../src/data/rows.js";
import { DataTypes, field, schema, type Schema } from "../../src/data/schema.js";
import { Dataset } from "../../src/dataset/dataset.js";
import { Session } from "../../src/session.js";
import { joinParts } from "../../src/storage/blob-store.js";
import { encodeFragment, FragmentFile } from "../../src/storage/fragment-file.js";
import { FragmentStream, widestField } from "../../src/storage/fragment-stream.js";
import { FsStore } from "../../src/storage/fs-store.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { writeColumnStream, type ColumnChunk } from "../../src/table/stream-writes.js";

/** Every column type; the widest fixed-width column is `vector` (20 bytes a row, 25 rows a chunk), nullable with nulls. */
const mixed = schema([
  field("id", DataTypes.int32(), false),
  field("i64", DataTypes.int64()),
  field("f64", DataTypes.float64()),
  field("ok", DataTypes.bool()),
  field("name", DataTypes.utf8()),
  field("at", DataTypes.timestamp()),
  field("tags", DataTypes.list(DataTypes.utf8())),
  field("vector", DataTypes.vector(5)),
  field("half", DataTypes.vector(3, "float16")),
  field("bits", DataTypes.vector(16, "bit")),
]);
/** A 384-d float32 vector column without nulls (one row a chunk), after the small columns. */
const dense = schema([field("id", DataTypes.int32(), false), field("label", DataTypes.utf8()), field("vector", DataTypes.vector(384), false)]);

function rowsOf(sch: Schema, n: number, seed: number): Row[] {
  const r = rng(seed);
  const pick = <T>(v: T): T | null => (r() < 0.2 ? null : v);
  if (sch === dense) return Array.from({ length: n }, (_, i) => ({ id: i, label: pick(`l${i}`), vector: Array.from({ length: 384 }, () => r()) }));
  return Array.from({ length: n }, (_, i) => ({
    id: i, i64: pick(BigInt(i) * 10_000_000_000n), f64: pick(r() * 1e6), ok: pick(r() < 0.5), name: pick(i % 7 === 0 ? `ünïcødé ${i}` : `name-${i}`),
    at: pick(new Date(1_600_000_000_000 + i * 1000)), tags: pick(Array.from({ length: i % 4 }, (_, j) => (j === 1 ? null : `t${j}`))),
    // Nulls only in some batches: a batch without validity bytes sits between batches with them.
    vector: i >= 140 && i < 400 ? Array.from({ length: 5 }, () => r() * 2 - 1) : pick(Array.from({ length: 5 }, () => r() * 2 - 1)),
    half: pick([1, 0.5, -2]), bits: pick([i % 256, 255]),
  }));
}

/** Batches of awkward sizes: one row, cuts inside checksum chunks, a batch without nulls. */
const CUTS = [0, 1, 137, 140, 400, 1003];

function batchesOf(sch: Schema, rows: readonly Row[]): ReadonlyMap<string, Column>[] {
  return CUTS.slice(1).map((end, i) => rowsToBatch(rows.slice(CUTS[i], end), sch).columns);
}

function streamed(sch: Schema, rows: readonly Row[]): { parts: Uint8Array[]; batches: ReadonlyMap<string, Column>[] } {
  const batches = batchesOf(sch, rows);
  const fragment = new FragmentStream(sch.fields, widestField(sch.fields)!);
  const parts = batches.flatMap((b) => fragment.add(b, b.get("id")!.length));
  return { parts: [...parts, ...fragment.finish()], batches };
}

type Ref = [number, number, number];
interface Layout { values?: Ref; validity?: Ref; offsets?: Ref; valueChunks?: Ref; validityChunks?: Ref; chunkBytes?: number; child?: Layout }

function footerOf(bytes: Uint8Array): { numRows: number; columns: (Layout & { name: string })[] } {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 12, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(bytes.length - 12 - len, bytes.length - 12)));
}

/** Byte equality without a deep compare of megabytes. */
function expectSameBytes(a: ArrayBufferView | undefined, b: ArrayBufferView | undefined, what: string): void {
  const view = (v: ArrayBufferView | undefined): Buffer | undefined => v && Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const [x, y] = [view(a), view(b)];
  expect(x === undefined || y === undefined ? x === y : x.equals(y), what).toBe(true);
}

const bufferOf = (bytes: Uint8Array, ref: Ref | undefined): Uint8Array | undefined => ref && bytes.subarray(ref[0], ref[0] + ref[1]);

describe("fragments written as a stream's batches arrive", () => {
  for (const [what, sch] of [["every column type, nullable vectors", mixed], ["384-d vectors", dense]] as const) {
    it(`read back as the same rows written in one piece, with the same checksums (${what})`, async () => {
      const rows = rowsOf(sch, 1003, 3);
      const { parts, batches } = streamed(sch, rows);
      const file = joinParts(parts);
      const whole = encodeFragment(sch.fields, rowsToBatch(rows, sch).columns, rows.length);
      // The wide column went to the file from the batches' own bytes, not a joined copy.
      expect(parts.some((p) => p.buffer === (batches[2]!.get("vector")!.data as Float32Array).buffer)).toBe(true);
      const store = new MemoryStore();
      await store.put("s.qvf", file);
      await store.put("w.qvf", whole);
      const [a, b] = await Promise.all([FragmentFile.open(store, "s.qvf"), FragmentFile.open(store, "w.qvf")]);
      expect(a.numRows).toBe(1003);
      expect(a.columnNames()).toEqual(sch.fields.map((f) => f.name));
      for (const f of sch.fields) {
        const [x, y] = [await a.readColumn(f.name, f.type), await b.readColumn(f.name, f.type)];
        if (f.type.kind === "vector") {
          expectSameBytes(x.data as Float32Array, y.data as Float32Array, f.name);
          expect(x.validity).toEqual(y.validity);
        } else expect(readAll(x)).toEqual(readAll(y));
      }
      // Every buffer and chunk table as encodeFragmentParts computes it, wherever it lies in the file.
      const [fa, fb] = [footerOf(file), footerOf(whole)];
      const same = (x: Layout, y: Layout): void => {
        for (const k of ["values", "validity", "offsets", "valueChunks", "validityChunks"] as const) {
          expect(x[k]?.slice(1), k).toEqual(y[k]?.slice(1));
          expectSameBytes(bufferOf(file, x[k]), bufferOf(whole, y[k]), k);
        }
        expect(x.chunkBytes).toBe(y.chunkBytes);
        if (x.child || y.child) same(x.child!, y.child!);
      };
      fa.columns.forEach((c, i) => same(c, fb.columns[i]!));
      // The wide column comes first, the others after it.
      const wide = fa.columns.find((c) => c.name === "vector")!;
      expect(wide.values![0]).toBe(64);
      if (sch === mixed) expect(wide.validity).toBeDefined();
    });
  }

  it("has chunk checksums that catch a flipped byte in the streamed column", async () => {
    const rows = rowsOf(mixed, 1003, 5);
    const file = joinParts(streamed(mixed, rows).parts);
    const values = footerOf(file).columns.find((c) => c.name === "vector")!.values!;
    // Row 150 (present, see rowsOf) lies in chunk 6 (25 rows of 20 bytes a chunk); row 300 in chunk 12.
    file[values[0] + 150 * 20 + 3]! ^= 0x10;
    const store = new MemoryStore();
    await store.put("s.qvf", file);
    const f = await FragmentFile.open(store, "s.qvf");
    const type = DataTypes.vector(5);
    await expect(f.readRows("vector", type, Int32Array.of(150))).rejects.toMatchObject({ code: "CORRUPT_FILE" });
    await expect(f.readColumn("vector", type)).rejects.toMatchObject({ code: "CORRUPT_FILE" });
    const expected = rowsToBatch(rows.slice(300, 301), mixed).columns.get("vector")!;
    expect(readAll(await f.readRows("vector", type, Int32Array.of(300)))).toEqual(readAll(expected));
  });
});

describe("writeColumnStream on a store that streams", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function* chunks(sch: Schema, rows: readonly Row[], failAfter = Infinity): AsyncGenerator<ColumnChunk> {
    for (const [i, columns] of batchesOf(sch, rows).entries()) {
      if (i === failAfter) throw new Error("the source failed");
      yield { numRows: columns.get("id")!.length, columns: new Map(columns) };
    }
  }

  it("writes fragments of at most fragmentRows that read back as the stream's rows", async () => {
    dir = await mkdtemp(join(tmpdir(), "quiver-fragment-stream-"));
    const store = await FsStore.open(dir);
    const ds = Dataset.writer(store, "t", new Session());
    const rows = rowsOf(mixed, 1003, 7);
    const { added, numRows } = await writeColumnStream(ds, mixed, chunks(mixed, rows), { fragmentRows: 300 });
    expect(numRows).toBe(1003);
    // Batches end fragments: 1 + 136 + 3 + 260 rows, then 603.
    expect(added.map((f) => f.numRows)).toEqual([400, 603]);
    const read: unknown[][] = mixed.fields.map(() => []);
    for (const frag of added) {
      const file = await FragmentFile.open(store, frag.files[0]!.key, frag.files[0]!.size);
      for (const [i, f] of mixed.fields.entries()) read[i]!.push(...readAll(await file.readColumn(f.name, f.type)));
    }
    const expected = rowsToBatch(rows, mixed).columns;
    for (const [i, f] of mixed.fields.entries()) expect(read[i]).toEqual(readAll(expected.get(f.name)!));
    await store.close();
  });

  it("leaves no file, finished or temporary, when the stream fails inside a fragment", async () => {
    dir = await mkdtemp(join(tmpdir(), "quiver-fragment-stream-"));
    const store = await FsStore.open(dir);
    const ds = Dataset.writer(store, "t", new Session());
    // The first fragment is written whole (rows 0–139), the second fails after its first batch.
    await expect(writeColumnStream(ds, mixed, chunks(mixed, rowsOf(mixed, 1003, 9), 4), { fragmentRows: 140 })).rejects.toThrow("the source failed");
    expect(await readdir(dir, { recursive: true }).then((names) => names.filter((n) => n.endsWith(".qvf") || n.includes("tmp")))).toEqual([]);
    expect(await store.list("")).toEqual([]);
    await store.close();
  });
});
