/**
 * An IVF_PQ build does not hold the table's vector column: it trains on a sample and encodes one
 * fragment at a time. Measured two ways on tables of 8 and 32 fragments built with the same
 * parameters: the largest single read from the store while building (one fragment's data file at
 * most, never the column), and the WebAssembly memory the building session reserved (its
 * high-water mark: linear memory never shrinks), which must not grow with the column.
 */
import { describe, expect, it } from "vitest";
import { connect, Index, MemoryStore, type BlobInfo, type BlobStore } from "../../src/index.js";

/** Records the largest read of a data file. */
class LargestRead implements BlobStore {
  largest = 0;
  constructor(readonly inner: BlobStore) {}
  get uri(): string { return this.inner.uri; }
  get readOnly(): boolean { return this.inner.readOnly; }
  #seen(key: string, n: number): void { if (key.includes("/data/")) this.largest = Math.max(this.largest, n); }
  async get(key: string): Promise<Uint8Array> { const b = await this.inner.get(key); this.#seen(key, b.length); return b; }
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> { const b = await this.inner.getRange(key, offset, length); this.#seen(key, b.length); return b; }
  head(key: string): Promise<BlobInfo | undefined> { return this.inner.head(key); }
  list(prefix: string): Promise<BlobInfo[]> { return this.inner.list(prefix); }
  put(key: string, data: Uint8Array): Promise<void> { return this.inner.put(key, data); }
  putIfAbsent(key: string, data: Uint8Array): Promise<boolean> { return this.inner.putIfAbsent(key, data); }
  delete(key: string): Promise<void> { return this.inner.delete(key); }
  close(): Promise<void> { return this.inner.close(); }
}

const DIM = 64;
const FRAGMENT_ROWS = 4096;

function vectors(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5);
  return Float32Array.from({ length: n * DIM }, rand);
}

/** Ingests `fragments` fragments, then builds the index through a fresh connection (a session and kernels of its own). */
async function build(fragments: number): Promise<{ columnBytes: number; fragmentFileBytes: number; largestRead: number; wasmReserved: number }> {
  const store = new MemoryStore();
  const writer = await connect(store);
  let table;
  for (let f = 0; f < fragments; f++) {
    const v = vectors(FRAGMENT_ROWS, f + 1);
    const rows = Array.from({ length: FRAGMENT_ROWS }, (_, i) => ({ id: f * FRAGMENT_ROWS + i, vector: v.subarray(i * DIM, (i + 1) * DIM) }));
    if (table === undefined) table = await writer.createTable("t", rows);
    else await table.add(rows);
  }
  const dataFiles = (await store.list("t.quiver/data/")).map((b) => b.size);
  expect(dataFiles).toHaveLength(fragments);

  const counting = new LargestRead(store);
  const db = await connect(counting);
  const t = await db.openTable("t");
  await t.createIndex("vector", { config: Index.ivfPq({ numPartitions: 16, numSubVectors: 8, sampleRate: 64, maxIterations: 4 }) });
  const wasmReserved = db.memoryStats().wasm.reservedBytes;
  expect(await t.countRows()).toBe(fragments * FRAGMENT_ROWS);
  await db.close();
  await writer.close(); // closes the store too
  return { columnBytes: fragments * FRAGMENT_ROWS * DIM * 4, fragmentFileBytes: Math.max(...dataFiles), largestRead: counting.largest, wasmReserved };
}

describe("IVF_PQ build memory", () => {
  it("reads one fragment at a time and reserves WebAssembly memory that does not grow with the column", async () => {
    // Both tables hold more rows than the training sample (max(16, 256) × 64 = 16,384 rows).
    const small = await build(8);
    const large = await build(32);
    for (const b of [small, large]) expect(b.largestRead).toBeLessThanOrEqual(b.fragmentFileBytes);
    // 32 MiB of vectors; the session reserves the sample, one fragment and the codes, not the column.
    expect(large.wasmReserved).toBeLessThan(large.columnBytes / 2);
    // Four times the column, a small part of the difference: codes and row ids (16 B/row), not vectors (256 B/row).
    expect(large.wasmReserved - small.wasmReserved).toBeLessThan((large.columnBytes - small.columnBytes) / 4);
  }, 120_000);
});
