/**
 * Out of core: an IVF_PQ search with refine on a table reopened from disk reads the index head, the
 * partitions it probes and the candidates' vector rows — not the index file or the vector column
 * whole — and answers exactly as the same table with everything in memory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, FsStore, Index, MemoryStore, type BlobInfo, type BlobStore, type Table } from "../../src/index.js";
import type { DataType, Schema } from "../../src/data/schema.js";
import { buildColumn, type Column } from "../../src/data/column.js";
import { chunkBytesFor, encodeFragment, FragmentFile } from "../../src/storage/fragment-file.js";
import { crc32 } from "../../src/storage/crc32.js";
import { readCalls } from "../support/read-calls.js";
import { BufferPool } from "../../src/util/buffer-pool.js";
import { Session } from "../../src/session.js";
import { embedded } from "../browser/fixture/out-of-core-data.js";

/** A BlobStore that counts the bytes and calls of reads, by kind of object. */
class CountingStore implements BlobStore {
  bytes = { index: 0, data: 0, other: 0 };
  calls = 0;
  constructor(readonly inner: BlobStore) {}
  get uri(): string { return this.inner.uri; }
  get readOnly(): boolean { return this.inner.readOnly; }
  reset(): void { this.bytes = { index: 0, data: 0, other: 0 }; this.calls = 0; }
  #count(key: string, n: number): void {
    this.calls++;
    this.bytes[key.includes("/_indices/") ? "index" : key.includes("/data/") ? "data" : "other"] += n;
  }
  async get(key: string): Promise<Uint8Array> { const b = await this.inner.get(key); this.#count(key, b.length); return b; }
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> { const b = await this.inner.getRange(key, offset, length); this.#count(key, b.length); return b; }
  head(key: string): Promise<BlobInfo | undefined> { return this.inner.head(key); }
  list(prefix: string): Promise<BlobInfo[]> { return this.inner.list(prefix); }
  put(key: string, data: Uint8Array): Promise<void> { return this.inner.put(key, data); }
  putIfAbsent(key: string, data: Uint8Array): Promise<boolean> { return this.inner.putIfAbsent(key, data); }
  delete(key: string): Promise<void> { return this.inner.delete(key); }
  close(): Promise<void> { return this.inner.close(); }
}

const N = 50_000;
const DIM = 128;
const K = 10;
const REFINE = 4;
const NPROBES = 8;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("out-of-core IVF_PQ search (50K × 128 in a directory)", () => {
  let dir: string;
  let loaded: Table;
  const vectors = embedded(N, 7, DIM);
  const queries = embedded(20, 99, DIM);
  const query = (i: number): Float32Array => queries.subarray(i * DIM, (i + 1) * DIM);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "quiver-ooc-"));
    dirs.push(dir);
    const db = await connect(dir);
    const rows = Array.from({ length: N }, (_, i) => ({ id: i, vector: vectors.subarray(i * DIM, (i + 1) * DIM) }));
    loaded = await db.createTable("t", rows.slice(0, N / 2));
    await loaded.add(rows.slice(N / 2));
    await loaded.createIndex("vector", { config: Index.ivfPq({ numPartitions: 64, numSubVectors: 16 }) });
  }, 120_000);

  it("reads the index head, a few partitions and ~k·refineFactor vector rows", async () => {
    const store = new CountingStore(await FsStore.open(dir));
    const t = await (await connect(store)).openTable("t");
    const indexFile = (await store.list("t.quiver/_indices/"))[0]!;
    store.reset();

    const hits = await t.search(query(0)).nprobes(NPROBES).refineFactor(REFINE).limit(K).select(["id"]).withRowId().toArray();
    const vectorColumnBytes = N * DIM * 4;
    const idColumnBytes = N * 4;
    // What one query read, for the record: see the final report.
    console.log(`out-of-core (node fs): index ${store.bytes.index} B of ${indexFile.size} B file; data ${store.bytes.data} B (vector column ${vectorColumnBytes} B); ${store.calls} reads`);
    expect(hits).toHaveLength(K);
    // Head (row ids 8 B/row + centroids + codebook) plus ~NPROBES of 64 partitions, not the bodies of all.
    expect(store.bytes.index).toBeLessThan(indexFile.size * 0.6);
    // Footers (≤ 16 KiB per fragment file), the `id` column for the hits, and 40 vector rows of 512 B.
    expect(store.bytes.data).toBeLessThan(2 * 16 * 1024 + idColumnBytes + K * REFINE * 16 * 1024);
    expect(store.bytes.data).toBeLessThan(vectorColumnBytes * 0.05);

    // Later queries reuse the head; each reads only new partitions and its candidates.
    store.reset();
    await t.search(query(1)).nprobes(NPROBES).refineFactor(REFINE).limit(K).select(["id"]).toArray();
    expect(store.bytes.index + store.bytes.data).toBeLessThan(vectorColumnBytes * 0.02);
    await store.close();
  });

  it("keeps every partition once read when they fit in half the session's budget: a warm query reads no index bytes", async () => {
    const store = new CountingStore(await FsStore.open(dir));
    // Partitions: 50K rows × (16 code bytes, a 4-byte position, a 4-byte l2 norm) = 1.14 MiB. A
    // quarter of this budget (0.875 MiB) would not hold them, half of it (1.75 MiB) does.
    const db = await connect(store, { cacheBytes: 3.5 * 2 ** 20 });
    const t = await db.openTable("t");
    const all = (q: number) => t.search(query(q)).nprobes(64).limit(K).select(["id"]).toArray();
    await all(0);
    const firstIndexBytes = store.bytes.index;
    store.reset();
    for (let q = 1; q < 4; q++) await all(q);
    expect(firstIndexBytes).toBeGreaterThan(N * 20);
    expect(store.bytes.index).toBe(0);
    expect((await db.memoryStats()).cache.byKind.vectorIndex.entries).toBe(1);
    await db.close();
  });

  it("answers as the fully loaded table does, within the recall of exact search", async () => {
    const t = await (await connect(new CountingStore(await FsStore.open(dir)))).openTable("t");
    let overlap = 0;
    for (let q = 0; q < 20; q++) {
      const lazy = await t.search(query(q)).nprobes(NPROBES).refineFactor(REFINE).limit(K).select(["id"]).toArray();
      // `loaded` holds the index it built and the vector column in memory.
      const whole = await loaded.search(query(q)).nprobes(NPROBES).refineFactor(REFINE).limit(K).select(["id"]).toArray();
      expect(lazy).toEqual(whole);
      const exact = await loaded.search(query(q)).bypassVectorIndex().limit(K).select(["id"]).toArray();
      const ids = new Set(exact.map((h) => h.id));
      overlap += lazy.filter((h) => ids.has(h.id)).length;
    }
    expect(overlap / (20 * K)).toBeGreaterThanOrEqual(0.9);
  });
});

describe("refine reads on a table in a directory (50K × 128 in 2 fragment files)", () => {
  let dir: string;
  const vectors = embedded(N, 7, DIM);
  const queries = embedded(12, 99, DIM);
  const query = (i: number): Float32Array => queries.subarray(i * DIM, (i + 1) * DIM);
  const REFINE_WIDE = 10;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "quiver-ooc-reads-"));
    dirs.push(dir);
    const db = await connect(dir);
    const rows = Array.from({ length: N }, (_, i) => ({ id: i, vector: vectors.subarray(i * DIM, (i + 1) * DIM) }));
    const t = await db.createTable("t", rows.slice(0, N / 2));
    await t.add(rows.slice(N / 2));
    await t.createIndex("vector", { config: Index.ivfPq({ numPartitions: 64, numSubVectors: 16 }) });
    await db.close();
  }, 120_000);

  it("reads a refined query's k × refineFactor candidate rows in one read per fragment file, with the answers of one read per span", async () => {
    const planned = readCalls(await FsStore.open(dir));
    const single = readCalls(await FsStore.open(dir), { getRanges: false });
    const [a, b] = await Promise.all([planned, single].map(async (c) => (await connect(c.store)).openTable("t")));
    const search = (t: Table, q: number) => t.search(query(q)).nprobes(NPROBES).refineFactor(REFINE_WIDE).limit(K).select(["id"]).withRowId().toArray();
    // Warm-up: index head, fragment footers and the chunk checksum tables of the columns read.
    for (let q = 0; q < 4; q++) expect(await search(a, q)).toEqual(await search(b, q));
    const tally = { planned: 0, single: 0, bytes: 0 };
    for (let q = 4; q < 12; q++) {
      planned.reset();
      single.reset();
      const got = await search(a, q);
      const want = await search(b, q);
      expect(got).toEqual(want);
      expect(got).toHaveLength(K);
      // 100 candidates over 2 files: one read of their vector rows per file, one of the hits' ids per file.
      expect(planned.calls.data).toBeLessThanOrEqual(2 * 2);
      // The partitions probed for the first time, if any, in one read.
      expect(planned.calls.index).toBeLessThanOrEqual(1);
      // One read per span: candidates 50 rows (~25 KB of vectors) apart on average rarely share one.
      expect(single.calls.data).toBeGreaterThan((K * REFINE_WIDE) / 2);
      // The same spans either way: neither path reads a byte more.
      expect(planned.bytes).toEqual(single.bytes);
      tally.planned += planned.calls.data + planned.calls.index;
      tally.single += single.calls.data + single.calls.index;
      tally.bytes += planned.bytes.data + planned.bytes.index;
    }
    console.log(`refine reads (node fs, refine ${REFINE_WIDE}): ${tally.planned / 8} store reads per query planned, ${tally.single / 8} one per span; ${tally.bytes / 8} B`);
    await Promise.all([planned.store.close(), single.store.close()]);
  }, 60_000);

  it("refine reads into the session's reused buffers: queries after the first take no new ones, and answer as without reuse", async () => {
    const session = new Session();
    const taken = new Set<ArrayBufferLike>();
    const take = session.buffers.take.bind(session.buffers);
    session.buffers.take = (bytes) => {
      const b = take(bytes);
      taken.add(b.buffer);
      return b;
    };
    const pooled = await (await connect(dir, { session })).openTable("t");
    // A 1 MiB budget keeps read buffers of at most 32 KiB: none of these, so every read is fresh.
    const fresh = await (await connect(dir, { cacheBytes: 2 ** 20 })).openTable("t");
    const search = (t: Table, q: number) => t.search(query(q)).nprobes(NPROBES).refineFactor(REFINE_WIDE).limit(K).select(["id"]).withRowId().toArray();
    expect(await search(pooled, 0)).toEqual(await search(fresh, 0));
    const first = taken.size;
    // Candidates' chunks of each of the 2 files, their rows, and the vectors refine ranks.
    expect(first).toBeGreaterThanOrEqual(3);
    expect(session.memoryStats().buffers.bytes).toBeGreaterThan(0);
    for (let q = 1; q < 12; q++) expect(await search(pooled, q)).toEqual(await search(fresh, q));
    // Sizes vary from query to query (a larger one may need a larger buffer once), but nothing like
    // the ~5 buffers per query that reads without reuse make.
    expect(taken.size).toBeLessThanOrEqual(first + 2);
    expect(session.memoryStats().buffers.bytes).toBeLessThanOrEqual(session.buffers.limitBytes);
    session.close();
    expect(session.memoryStats().buffers.bytes).toBe(0);
  }, 60_000);

  it("a refine whose read of one file fails gives its buffers back only once the other file's read is done with them", async () => {
    const fs = await FsStore.open(dir);
    let armed = false;
    const files: string[] = [];
    const store = new Proxy(fs, {
      get(target, prop) {
        if (prop !== "getRanges") {
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
        return async (key: string, ranges: readonly { offset: number; length: number }[], into?: Uint8Array) => {
          if (armed && key.includes("/data/")) {
            if (!files.includes(key)) files.push(key);
            // The first data file read fails at once; the other answers 50 ms later, into its buffer.
            if (key === files[0]) throw Object.assign(new Error("injected read failure"), { code: "IO" });
            await new Promise((r) => setTimeout(r, 50));
          }
          return target.getRanges(key, ranges, into);
        };
      },
    });
    const session = new Session();
    const t = await (await connect(store, { session })).openTable("t");
    const search = (q: number) => t.search(query(q)).nprobes(NPROBES).refineFactor(REFINE_WIDE).limit(K).select(["id"]).toArray();
    await search(0);
    armed = true;
    await expect(search(1)).rejects.toThrow("injected read failure");
    expect(files).toHaveLength(2);
    // Whatever the pool holds now is nobody's: the slow read must not write into it later.
    const held: Uint8Array[] = [];
    while (session.buffers.bytes > 0) held.push(session.buffers.take(1));
    for (const b of held) new Uint8Array(b.buffer).fill(0x5a);
    await new Promise((r) => setTimeout(r, 120));
    for (const b of held) expect(new Uint8Array(b.buffer).every((x) => x === 0x5a)).toBe(true);
    armed = false;
    expect(await search(1)).toHaveLength(K);
    session.close();
    await fs.close();
  }, 60_000);
});

describe("FragmentFile.readRows", () => {
  const n = 3000;
  const types: Record<string, DataType> = {
    vector: { kind: "vector", dim: 8, element: "float32" },
    half: { kind: "vector", dim: 4, element: "float16" },
    n: { kind: "int", bits: 32, signed: true },
    big: { kind: "int", bits: 64, signed: true },
    maybe: { kind: "float", bits: 64 },
    name: { kind: "utf8" },
  };
  const schema: Schema = { fields: Object.entries(types).map(([name, type]) => ({ name, type, nullable: name === "maybe" })) };

  async function file(): Promise<{ store: CountingStore; f: FragmentFile; columns: Map<string, Column> }> {
    const columns = new Map<string, Column>([
      ["vector", buildColumn(schema.fields[0]!.type, Array.from({ length: n }, (_, i) => Array.from({ length: 8 }, (_, j) => i + j / 10)), false, { column: "vector", rowOffset: 0 })],
      ["half", buildColumn(schema.fields[1]!.type, Array.from({ length: n }, (_, i) => [i % 7, 0.5, -1, 2]), false, { column: "half", rowOffset: 0 })],
      ["n", buildColumn(schema.fields[2]!.type, Array.from({ length: n }, (_, i) => i * 3), false, { column: "n", rowOffset: 0 })],
      ["big", buildColumn(schema.fields[3]!.type, Array.from({ length: n }, (_, i) => BigInt(i) * 10n ** 12n), false, { column: "big", rowOffset: 0 })],
      ["maybe", buildColumn(schema.fields[4]!.type, Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : i / 2)), true, { column: "maybe", rowOffset: 0 })],
      ["name", buildColumn(schema.fields[5]!.type, Array.from({ length: n }, (_, i) => `r${i}`), false, { column: "name", rowOffset: 0 })],
    ]);
    const store = new CountingStore(new MemoryStore("memory://rows"));
    await store.put("t.quiver/data/f.qvf", encodeFragment(schema.fields, columns, n));
    const f = await FragmentFile.open(store, "t.quiver/data/f.qvf");
    store.reset();
    return { store, f, columns };
  }

  it("returns the rows asked for, in order, with repeats and nulls, for every fixed-width type", async () => {
    const { f, columns } = await file();
    const rows = Int32Array.from([2999, 0, 17, 17, 1500, 5, 10]);
    for (const field of schema.fields.filter((x) => x.name !== "name")) {
      const got = await f.readRows(field.name, field.type, rows);
      const whole = columns.get(field.name)!;
      const per = field.type.kind === "vector" ? field.type.dim : 1;
      expect(got.length).toBe(rows.length);
      rows.forEach((r, i) => {
        expect(Array.from((got.data as Float32Array).subarray(i * per, i * per + per))).toEqual(Array.from((whole.data as Float32Array).subarray(r * per, r * per + per)));
        if (whole.validity !== null) expect(got.validity![i]).toBe(whole.validity[r]);
      });
      if (whole.validity === null) expect(got.validity).toBeNull();
    }
  });

  it("coalesces nearby rows into one read and reads far rows apart", async () => {
    const { store, f } = await file();
    const type = schema.fields[0]!.type;
    await f.readRows("vector", type, Int32Array.from([10, 12, 40, 2900]));
    // 32-byte rows in checksummed chunks of 16 rows (512 bytes): rows 10 and 12 lie in chunk 0, row
    // 40 in chunk 2 (one span with chunk 0, so chunk 1 is read too), row 2900 (~90 KB further) in
    // chunk 181; plus the column's table of chunk checksums, read once.
    expect(chunkBytesFor(type)).toBe(512);
    expect(store.calls).toBe(3);
    expect(store.bytes.data).toBe(4 * 512 + Math.ceil((n * 32) / 512) * 4);
    store.reset();
    await f.readRows("vector", type, Int32Array.from([11, 2901]));
    expect(store.calls).toBe(2);
  });

  it("verifies the chunks a row read reads: a flipped bit there is CORRUPT_FILE, elsewhere harmless", async () => {
    const { store, f } = await file();
    const type = schema.fields[0]!.type;
    const bytes = await store.get("t.quiver/data/f.qvf");
    // Row 100 of the vector column lies 3200 bytes into the first buffer (at offset 64).
    bytes[64 + 100 * 32 + 5]! ^= 0x10;
    await store.put("t.quiver/data/f.qvf", bytes);
    const reopened = await FragmentFile.open(store, "t.quiver/data/f.qvf");
    await expect(reopened.readRows("vector", type, Int32Array.of(100))).rejects.toMatchObject({ code: "CORRUPT_FILE" });
    await expect(reopened.readRows("vector", type, Int32Array.of(2000))).resolves.toMatchObject({ length: 1 });
    void f;
  });

  it("chunks a wide vector column by row: a candidate's read is its own row", async () => {
    const type: DataType = { kind: "vector", dim: 384, element: "float32" };
    expect(chunkBytesFor(type)).toBe(1536);
    expect(chunkBytesFor({ kind: "vector", dim: 100, element: "float32" })).toBe(400);
    expect(chunkBytesFor({ kind: "vector", dim: 64, element: "float32" })).toBe(512);
    expect(chunkBytesFor({ kind: "vector", dim: 1536, element: "float32" })).toBe(6144);
    expect(chunkBytesFor({ kind: "int", bits: 32, signed: true })).toBe(512);
    expect(chunkBytesFor({ kind: "int", bits: 64, signed: true })).toBe(512);
    const rows = 2000;
    const fields = [{ name: "vector", type, nullable: false }];
    const values = Array.from({ length: rows }, (_, i) => Array.from({ length: 384 }, (_, j) => Math.sin(i * 7 + j)));
    const store = new CountingStore(new MemoryStore("memory://wide"));
    await store.put("t.quiver/data/w.qvf", encodeFragment(fields, new Map([["vector", buildColumn(type, values, false, { column: "vector", rowOffset: 0 })]]), rows));
    const f = await FragmentFile.open(store, "t.quiver/data/w.qvf");
    await f.readRows("vector", type, Int32Array.of(0)); // reads the checksum table once
    store.reset();
    const picked = Int32Array.from([5, 1999, 700, 31]);
    const got = await f.readRows("vector", type, picked);
    expect(store.bytes.data).toBe(picked.length * 1536);
    picked.forEach((r, i) => expect(Array.from((got.data as Float32Array).subarray(i * 384, (i + 1) * 384))).toEqual(Array.from(Float32Array.from(values[r]!))));
    // A flipped bit in a row read is CORRUPT_FILE; in a row not read, harmless.
    const bytes = await store.get("t.quiver/data/w.qvf");
    bytes[64 + 700 * 1536 + 9]! ^= 0x04;
    await store.put("t.quiver/data/w.qvf", bytes);
    const reopened = await FragmentFile.open(store, "t.quiver/data/w.qvf");
    await expect(reopened.readRows("vector", type, Int32Array.of(700))).rejects.toMatchObject({ code: "CORRUPT_FILE" });
    await expect(reopened.readRows("vector", type, Int32Array.of(699, 701))).resolves.toMatchObject({ length: 2 });
  });

  it("reads chunks through a pool's buffer and rows into a given buffer; a checksum failure gives the buffer back too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-rows-pool-"));
    dirs.push(dir);
    const { store: memory } = await file();
    const bytes = await memory.get("t.quiver/data/f.qvf");
    const fs = await FsStore.open(dir);
    await fs.put("f.qvf", bytes);
    const f = await FragmentFile.open(fs, "f.qvf");
    const type = schema.fields[0]!.type;
    const pool = new BufferPool(2 ** 20);
    const rows = Int32Array.from([2999, 3, 1500, 1501, 700]);
    const out = new Uint8Array(rows.length * 32 + 64);
    const got = await f.readRows("vector", type, rows, pool, out);
    expect((got.data as Float32Array).buffer).toBe(out.buffer);
    rows.forEach((r, i) => expect(Array.from((got.data as Float32Array).subarray(i * 8, i * 8 + 8))).toEqual(Array.from({ length: 8 }, (_, j) => Math.fround(r + j / 10))));
    // The chunk buffer went back to the pool, and the next read reuses it.
    const held = pool.bytes;
    expect(held).toBeGreaterThan(0);
    const again = await f.readRows("vector", type, Int32Array.of(5, 2000), pool);
    expect(Array.from((again.data as Float32Array).subarray(8, 16))).toEqual(Array.from({ length: 8 }, (_, j) => Math.fround(2000 + j / 10)));
    expect(pool.bytes).toBe(held);
    // A flipped bit in a chunk read: CORRUPT_FILE, the buffer back in the pool, the next read correct.
    bytes[64 + 1500 * 32 + 3]! ^= 0x20;
    await fs.put("g.qvf", bytes);
    const flipped = await FragmentFile.open(fs, "g.qvf");
    await expect(flipped.readRows("vector", type, Int32Array.of(1500, 10), pool)).rejects.toMatchObject({ code: "CORRUPT_FILE" });
    expect(pool.bytes).toBe(held);
    const after = await flipped.readRows("vector", type, Int32Array.of(10, 2500), pool);
    expect(Array.from((after.data as Float32Array).subarray(0, 8))).toEqual(Array.from({ length: 8 }, (_, j) => Math.fround(10 + j / 10)));
    await fs.close();
  });

  it("reads format 2 files (4 KiB chunks for every column) and verifies their row reads", async () => {
    // The same rows, ids and nulls as format 3 reads them.
    const { store } = await file();
    const type = schema.fields[0]!.type;
    const v2 = asFormat2(await store.get("t.quiver/data/f.qvf"));
    await store.put("t.quiver/data/v2.qvf", v2);
    const f = await FragmentFile.open(store, "t.quiver/data/v2.qvf");
    store.reset();
    await f.readRows("vector", type, Int32Array.from([10, 2900]));
    expect(store.bytes.data).toBe(2 * 4096 + Math.ceil((n * 32) / 4096) * 4);
    const got = await f.readRows("vector", type, Int32Array.of(2900));
    expect(Array.from(got.data as Float32Array)).toEqual(Array.from({ length: 8 }, (_, j) => Math.fround(2900 + j / 10)));
    const maybe = await f.readRows("maybe", schema.fields[4]!.type, Int32Array.of(2900, 2901));
    expect(Array.from(maybe.validity!)).toEqual([0, 1]);
    expect((maybe.data as Float64Array)[1]).toBe(2901 / 2);
    v2[64 + 2900 * 32 + 1]! ^= 0x01;
    await store.put("t.quiver/data/v2.qvf", v2);
    const flipped = await FragmentFile.open(store, "t.quiver/data/v2.qvf");
    await expect(flipped.readRows("vector", type, Int32Array.of(2900))).rejects.toMatchObject({ code: "CORRUPT_FILE" });
  });

  it("refuses a fragment of a newer format as UNSUPPORTED, and a malformed chunk size as CORRUPT_FILE", async () => {
    const { store } = await file();
    const bytes = await store.get("t.quiver/data/f.qvf");
    await store.put("t.quiver/data/new.qvf", withFooter(bytes, (footer) => ({ ...footer, format: 99 })));
    await expect(FragmentFile.open(store, "t.quiver/data/new.qvf")).rejects.toMatchObject({ code: "UNSUPPORTED" });
    await store.put("t.quiver/data/bad.qvf", withFooter(bytes, (footer) => ({ ...footer, columns: footer.columns.map((c: { name: string }) => (c.name === "vector" ? { ...c, chunkBytes: 0 } : c)) })));
    await expect(FragmentFile.open(store, "t.quiver/data/bad.qvf")).rejects.toMatchObject({ code: "CORRUPT_FILE" });
  });

  it("reads the whole buffer, checksum checked, when the rows cover most of it", async () => {
    const { store, f } = await file();
    await f.readRows("n", schema.fields[2]!.type, Int32Array.from({ length: 2000 }, (_, i) => i));
    expect(store.calls).toBe(1);
    expect(store.bytes.data).toBe(n * 4);
  });

  it("rejects variable-width columns and rows out of range", async () => {
    const { f } = await file();
    await expect(f.readRows("name", schema.fields[5]!.type, Int32Array.of(1))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(f.readRows("n", schema.fields[2]!.type, Int32Array.of(n))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(f.readRows("n", schema.fields[1]!.type, Int32Array.of(1))).rejects.toMatchObject({ code: "CORRUPT_FILE" });
  });
});

/** A fragment file's footer (JSON) replaced by `change(footer)`, its tail's length and CRC made to match. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function withFooter(file: Uint8Array, change: (footer: any) => any, appended: readonly Uint8Array[] = []): Uint8Array {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const length = dv.getUint32(file.length - 12, true);
  const start = file.length - 12 - length;
  const footer = change(JSON.parse(new TextDecoder().decode(file.subarray(start, start + length))));
  const body = [file.slice(0, start), ...appended];
  const json = new TextEncoder().encode(JSON.stringify(footer));
  const tail = new Uint8Array(12);
  new DataView(tail.buffer).setUint32(0, json.length, true);
  new DataView(tail.buffer).setUint32(4, crc32(json), true);
  tail.set(file.subarray(file.length - 4), 8);
  const out = new Uint8Array(body.reduce((s, b) => s + b.length, 0) + json.length + 12);
  let at = 0;
  for (const b of [...body, json, tail]) { out.set(b, at); at += b.length; }
  return out;
}

/** The file as format 2 wrote it: every chunk table at 4 KiB (appended before the footer), no per-column chunk sizes, no `format`. */
function asFormat2(file: Uint8Array): Uint8Array {
  const tables: Uint8Array[] = [];
  let size = file.length - 12 - new DataView(file.buffer, file.byteOffset).getUint32(file.length - 12, true);
  const table = (buffer: [number, number, number]): [number, number, number] => {
    const [offset, length] = buffer;
    const crcs = new Uint32Array(Math.ceil(length / 4096));
    for (let i = 0; i < crcs.length; i++) crcs[i] = crc32(file.subarray(offset + i * 4096, offset + Math.min(length, (i + 1) * 4096)));
    const bytes = new Uint8Array(crcs.buffer);
    const padded = new Uint8Array(Math.ceil(bytes.length / 64) * 64);
    padded.set(bytes);
    tables.push(padded);
    const ref: [number, number, number] = [size, bytes.length, crc32(bytes)];
    size += padded.length;
    return ref;
  };
  // withFooter calls the change before it joins the body, so the tables are there to append.
  return withFooter(file, (footer) => {
    type Layout = { chunkBytes?: number; values?: [number, number, number]; validity?: [number, number, number]; valueChunks?: unknown; validityChunks?: unknown };
    const columns = footer.columns.map(({ chunkBytes: _, ...c }: Layout) => ({
      ...c,
      ...(c.valueChunks ? { valueChunks: table(c.values!) } : {}),
      ...(c.validityChunks ? { validityChunks: table(c.validity!) } : {}),
    }));
    const { format: _, ...rest } = footer;
    return { ...rest, chunkBytes: 4096, columns };
  }, tables);
}
