/**
 * An IVF_PQ build does not hold the table's vector column: it trains on a sample and encodes one
 * fragment at a time. Measured two ways on tables of 8 and 32 fragments built with the same
 * parameters: the largest single read from the store while building (one fragment's data file at
 * most, never the column), and the WebAssembly memory the building session reserved (its
 * high-water mark: linear memory never shrinks), which must not grow with the column.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/ann/common.js";
import { connect, Index, MemoryStore } from "../../src/index.js";
import { counting } from "../support/counting-store.js";

const DIM = 64;
const FRAGMENT_ROWS = 4096;

function vectors(n: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: n * DIM }, () => rand() - 0.5);
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

  let largestRead = 0;
  const db = await connect(counting(store, (key, n) => {
    if (key.includes("/data/")) largestRead = Math.max(largestRead, n);
  }));
  const t = await db.openTable("t");
  await t.createIndex("vector", { config: Index.ivfPq({ numPartitions: 16, numSubVectors: 8, sampleRate: 64, maxIterations: 4 }) });
  const wasmReserved = db.memoryStats().wasm.reservedBytes;
  expect(await t.countRows()).toBe(fragments * FRAGMENT_ROWS);
  await db.close();
  await writer.close(); // closes the store too
  return { columnBytes: fragments * FRAGMENT_ROWS * DIM * 4, fragmentFileBytes: Math.max(...dataFiles), largestRead, wasmReserved };
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
