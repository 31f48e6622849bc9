/**
 * The session owns memory (issue 10): vector columns live once, in WebAssembly memory, as
 * session-cached blocks that queries lease; results read only the rows they return; closing a
 * table, evicting and closing the session free what they held.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/ann/common.js";
import { connect, Index, Session } from "../../src/index.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";
import { counting } from "../support/counting-store.js";
import type { Table } from "../../src/table.js";

const DIM = 64;

function rowsOf(n: number, seed: number, from = 0): { id: number; vector: Float32Array }[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => ({ id: from + i, vector: Float32Array.from({ length: DIM }, () => rand() * 2 - 1) }));
}

/** The fragments of the table's current version (white-box: what stays decoded in JS). */
function fragments(t: Table): { columns: Map<string, unknown> }[] {
  return (t as unknown as { dataset: { head(): { fragments: { columns: Map<string, unknown> }[] } } }).dataset.head().fragments;
}

describe("vector blocks in the session", () => {
  it("an exact search keeps the vector column once, in WebAssembly memory; dropTable frees it", async () => {
    const db = await connect("memory://session-once");
    const data = rowsOf(5000, 1);
    const t = await db.createTable("t", data);
    await t.add(rowsOf(3000, 2, 5000));
    const before = db.memoryStats();
    const hits = await t.search(data[17]!.vector).select(["id"]).limit(5).toArray();
    expect(hits[0]!.id).toBe(17);

    // No decoded JS copy of the vector column stays on any fragment.
    for (const f of fragments(t)) expect(f.columns.has("vector")).toBe(false);
    const after = db.memoryStats();
    const vectorBytes = 8000 * DIM * 4;
    expect(after.cache.byKind.vectorBlock.entries).toBe(2);
    expect(after.cache.byKind.vectorBlock.bytes).toBeGreaterThanOrEqual(vectorBytes);
    expect(after.cache.byKind.vectorBlock.bytes).toBeLessThan(vectorBytes * 1.1);
    expect(after.wasm.allocatedBytes - before.wasm.allocatedBytes).toBeGreaterThanOrEqual(vectorBytes);

    // A second query hits the cache: no new block.
    await t.search(data[99]!.vector).select(["id"]).limit(5).toArray();
    expect(db.memoryStats().cache.byKind.vectorBlock.entries).toBe(2);
    expect(db.memoryStats().wasm.allocatedBytes).toBe(after.wasm.allocatedBytes);

    // Closing the handle leaves the blocks to the session (another open of the table reuses them);
    // dropping the table frees them.
    t.close();
    const again = await db.openTable("t");
    const wasm = db.memoryStats().wasm.allocatedBytes;
    await again.search(data[5]!.vector).select(["id"]).limit(5).toArray();
    expect(db.memoryStats().cache.byKind.vectorBlock.entries).toBe(2);
    expect(db.memoryStats().wasm.allocatedBytes).toBe(wasm);
    again.close();
    await db.dropTable("t");
    const dropped = db.memoryStats();
    expect(dropped.cache.byKind.vectorBlock.entries).toBe(0);
    // Back to where it was, but for the search scratch the kernels keep (tens of KiB).
    expect(dropped.wasm.allocatedBytes - before.wasm.allocatedBytes).toBeLessThan(256 * 1024);
    await db.close();
  });

  it("returning vectors reads only the hit rows, not the fragments' vector columns", async () => {
    const volume = new MemoryVolume();
    const seed = await connect(new MemoryStore("memory://rows", volume));
    const data = rowsOf(20_000, 3);
    await seed.createTable("t", data);
    const store = counting(new MemoryStore("memory://rows", volume));
    const db = await connect(store);
    const t = await db.openTable("t");
    // Warm the blocks, then count what a query returning the vectors reads on top.
    await t.search(data[5]!.vector).select(["id"]).limit(10).toArray();
    store.bytesRead = 0;
    const hits = await t.search(data[5]!.vector).select(["id", "vector"]).limit(10).toArray();
    expect(hits).toHaveLength(10);
    expect(hits[0]!.id).toBe(5);
    expect(Array.from(hits[0]!.vector as Float32Array)).toEqual(Array.from(data[5]!.vector));
    for (const h of hits) expect(Array.from(h.vector as Float32Array)).toEqual(Array.from(data[h.id as number]!.vector));
    const columnBytes = 20_000 * DIM * 4;
    // Ten rows' 4 KiB checked chunks at most, against 5 MB for the column.
    expect(store.bytesRead).toBeLessThan(columnBytes / 20);
    for (const f of fragments(t)) expect(f.columns.has("vector")).toBe(false);
    await db.close();
    await seed.close();
  });

  it("a budget smaller than the table evicts blocks (freeing their memory) and answers stay exact", async () => {
    const db = await connect("memory://session-budget", { cacheBytes: 2 ** 20 });
    const t = await db.createTable("t", rowsOf(1000, 4));
    for (let i = 1; i < 8; i++) await t.add(rowsOf(1000, 4 + i, i * 1000)); // 8 fragments of 256 KB
    const data = Array.from({ length: 8 }, (_, i) => rowsOf(1000, 4 + i, i * 1000)).flat();
    const base = db.memoryStats().wasm.allocatedBytes;
    for (const probe of [10, 2500, 7999]) {
      const hits = await t.search(data[probe]!.vector).select(["id"]).limit(3).toArray();
      expect(hits[0]!.id).toBe(probe);
    }
    const s = db.memoryStats();
    expect(s.cache.bytes).toBeLessThanOrEqual(2 ** 20);
    expect(s.cache.evictions).toBeGreaterThan(0);
    expect(s.cache.leasedOutside).toBe(0);
    // What is not cached is freed: WASM memory in use stays within the budget (plus scratch).
    expect(s.wasm.allocatedBytes - base).toBeLessThan(2 * 2 ** 20);
    await db.close();
  });

  it("optimize() frees what the session held for the files it removed", async () => {
    const db = await connect("memory://session-optimize");
    const t = await db.createTable("t", rowsOf(1000, 30));
    for (let i = 1; i < 5; i++) await t.add(rowsOf(1000, 30 + i, i * 1000));
    await t.search(rowsOf(1, 30)[0]!.vector).limit(1).toArray();
    expect(db.memoryStats().cache.byKind.vectorBlock.entries).toBe(5);
    const allocated = db.memoryStats().wasm.allocatedBytes;
    await t.optimize({ cleanupOlderThan: new Date() }); // five fragments compacted into one; the old files pruned
    expect(db.memoryStats().cache.byKind.vectorBlock.entries).toBe(0);
    expect(db.memoryStats().cache.byKind.reader.entries).toBe(0);
    expect(db.memoryStats().wasm.allocatedBytes).toBeLessThan(allocated - 5000 * DIM * 4 + 256 * 1024);
    const hits = await t.search(rowsOf(1, 30)[0]!.vector).select(["id"]).limit(1).toArray();
    expect(hits[0]!.id).toBe(0);
    await db.close();
  });

  it("one session shared by two connections shares blocks and one budget; closing it frees them", async () => {
    const session = new Session({ cacheBytes: 64 * 2 ** 20 });
    const a = await connect("memory://session-shared", { session });
    const data = rowsOf(2000, 9);
    await a.createTable("t", data);
    const b = await connect("memory://session-shared", { session });
    const ta = await a.openTable("t");
    const tb = await b.openTable("t");
    await ta.search(data[1]!.vector).limit(1).toArray();
    const misses = session.memoryStats().cache.misses;
    await tb.search(data[2]!.vector).limit(1).toArray();
    expect(session.memoryStats().cache.misses).toBe(misses); // the block is shared
    expect(session.memoryStats().cache.byKind.vectorBlock.entries).toBe(1);
    session.close();
    expect(session.memoryStats().cache.entries).toBe(0);
    await a.close();
    await b.close();
  });

  it("decoded columns are cached by the session: a reopened table filters without reading them again", async () => {
    const volume = new MemoryVolume();
    const store = counting(new MemoryStore("memory://cols", volume));
    const db = await connect(store);
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: i, label: `l${i % 100}`, vector: Float32Array.from({ length: 8 }, (_, j) => Math.sin(i * (j + 1))) }));
    await db.createTable("t", rows);
    const first = await (await db.openTable("t")).query().where("label = 'l42'").select(["id"]).toArray();
    expect(first).toHaveLength(200);
    expect(db.memoryStats().cache.byKind.column.entries).toBeGreaterThan(0);
    store.bytesRead = 0;
    const t = await db.openTable("t");
    const again = await t.query().where("label = 'l42'").select(["id"]).toArray();
    expect(again.map((r) => r.id)).toEqual(first.map((r) => r.id));
    // Only the version's manifest: the label and id columns come from the session.
    expect(store.bytesRead).toBeLessThan(4096);
    // One hit reads one row of a fixed-width column, not the column.
    store.bytesRead = 0;
    const one = await t.search(rows[123]!.vector).select(["id"]).limit(1).toArray();
    expect(one[0]!.id).toBe(123);
    await db.close();
  });
});

describe("costs that scale with the result", () => {
  it("a one-row update of a wide table reads its predicate's column and that row, not the table", async () => {
    const volume = new MemoryVolume();
    const seed = await connect(new MemoryStore("memory://wide", volume));
    const n = 20_000;
    const rand = seededRandom(21);
    const rows = Array.from({ length: n }, (_, i) => {
      const row: Record<string, unknown> = { id: i, text: `row ${i}`, vector: Float32Array.from({ length: DIM }, () => rand()) };
      for (let c = 0; c < 20; c++) row[`f${c}`] = i * c;
      return row;
    });
    await seed.createTable("t", rows);
    const tableBytes = (await new MemoryStore("memory://wide", volume).list("")).reduce((s, b) => s + b.size, 0);
    const store = counting(new MemoryStore("memory://wide", volume));
    const db = await connect(store);
    const t = await db.openTable("t");
    store.bytesRead = 0;
    await t.update({ where: "id = 5", values: { f0: -1 } });
    console.log(`one-row update of a ${n}-row, 23-column table read ${store.bytesRead} of ${tableBytes} bytes`);
    // The id column (the predicate), the text column (variable width: read whole) and one 4 KiB
    // chunk per other column, against ~8 MB for the table.
    expect(store.bytesRead).toBeLessThan(tableBytes / 8);
    const got = await t.query().where("id = 5").toArray();
    expect(got).toHaveLength(1);
    expect(got[0]!.f0).toBe(-1);
    expect(got[0]!.f7).toBe(35);
    expect(got[0]!.text).toBe("row 5");
    expect(Array.from(got[0]!.vector as Float32Array)).toEqual(Array.from(rows[5]!.vector as Float32Array));
    expect(await t.countRows()).toBe(n);
    await db.close();
    await seed.close();
  });

  it("exact search over fragments with a few deleted rows scans them whole and still returns only live rows, exactly", async () => {
    const db = await connect("memory://few-deleted");
    const data = rowsOf(3000, 41);
    const t = await db.createTable("t", data.slice(0, 1500));
    await t.add(data.slice(1500));
    await t.delete("id % 50 = 3 OR id = 7");
    const live = data.filter((r) => r.id % 50 !== 3 && r.id !== 7);
    const l2 = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, j) => s + (x - b[j]!) ** 2, 0);
    const rand = seededRandom(42);
    for (let q = 0; q < 20; q++) {
      const v = q === 0 ? data[7]!.vector : Float32Array.from({ length: DIM }, () => rand());
      const want = live.map((r) => [r.id, l2(r.vector, v)] as const).sort((a, b) => a[1] - b[1] || a[0] - b[0]).slice(0, 10).map(([id]) => id);
      const got = await t.search(v).select(["id"]).limit(10).toArray();
      expect(got.map((r) => r.id)).toEqual(want);
    }
    const page = await t.search(data[100]!.vector).select(["id"]).offset(5).limit(5).toArray();
    expect(page).toHaveLength(5);
    await db.close();
  });
});

describe("WebAssembly memory under IVF partition eviction", () => {
  it("stops growing across rounds of reopened tables and queries that evict and re-read partitions: freed blocks are reused", async () => {
    const dim = 32;
    const n = 32_000;
    const rand = seededRandom(7);
    const rows = Array.from({ length: n }, (_, i) => ({ id: i, vector: Float32Array.from({ length: dim }, () => rand() * 2 - 1) }));
    const volume = new MemoryVolume();
    const build = await connect(new MemoryStore("memory://evict", volume));
    await (await build.createTable("v", rows)).createIndex("vector", { config: Index.ivfPq({ numPartitions: 32, numSubVectors: 32, numBits: 4, maxIterations: 4 }) });
    await build.close();

    // 1 MiB budget: at most 512 KiB of partitions, under the index's 32,000 × (16 code + 4 position) bytes.
    let indexBytes = 0;
    const store = counting(new MemoryStore("memory://evict", volume), (key, bytes) => { if (key.includes("_indices/")) indexBytes += bytes; });
    const db = await connect(store, { cacheBytes: 2 ** 20 });
    const queries = Array.from({ length: 8 }, (_, i) => rows[i * 3999]!.vector);
    const round = async (): Promise<{ reserved: number; indexBytes: number }> => {
      indexBytes = 0;
      const table = await db.openTable("v");
      for (const [i, q] of queries.entries()) {
        const hits = await table.search(q).nprobes(6 + (i % 3) * 10).refineFactor(4).select(["id"]).limit(3).toArray();
        expect(hits[0]!.id).toBe(i * 3999);
      }
      table.close();
      return { reserved: db.memoryStats().wasm.reservedBytes, indexBytes };
    };
    const rounds = [];
    for (let r = 0; r < 6; r++) rounds.push(await round());
    // Every round re-reads partitions it had to evict (more than the 512 KiB budget's worth)…
    for (const r of rounds.slice(1)) expect(r.indexBytes).toBeGreaterThan(2 ** 19);
    // …and reserved memory, a high-water mark, stops moving after the first rounds.
    const settled = rounds[2]!.reserved;
    expect(rounds.slice(2).map((r) => r.reserved)).toEqual(rounds.slice(2).map(() => settled));
    expect(db.memoryStats().wasm.allocatedBytes).toBeLessThan(settled);
    await db.close();
  });
});
