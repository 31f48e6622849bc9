/**
 * IvfIndex.add works a slice of rows at a time (the cosine normalization, the assignment, the
 * residuals and the encoding hold one slice's temporaries) and appends to partitions in place
 * (4-bit codes into the blocked layout's padding), growing a partition only when `reserve` did not
 * size it. Checked here: rows added in one call, in many uneven calls, into reserved partitions
 * and by `build` give the same index bytes, for every IVF codec; and the
 * WebAssembly memory an add takes on top of what it keeps (the codes) is bounded by a slice, not by
 * the batch: a high-water mark of the heap's allocated bytes, counted at every allocation.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ivfBuildBytes, IvfIndex, reserveMemory, type IvfKind } from "../../src/ann/index.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { randomF32 } from "./kernels-helpers.js";

let kernels: Kernels;
beforeAll(async () => {
  kernels = await loadKernels();
});

/** Clustered rows: 30 centres and noise, so partitions differ in size. */
function clustered(n: number, dim: number, seed: number): Float32Array {
  const centres = randomF32(30 * dim, seed);
  const noise = randomF32(n * dim, seed + 1);
  for (let i = 0; i < n * dim; i++) noise[i] = centres[(Math.floor(i / dim) % 30) * dim + (i % dim)]! * 2 + noise[i]! * 0.5;
  return noise;
}

describe("IvfIndex.add in slices", () => {
  // 1,024 floats per row: 4 MiB slices of 1,024 rows; 2,600 rows cross two slice boundaries.
  const dim = 1024;
  const n = 2600;
  const data = clustered(n, dim, 3);
  const ids = Float64Array.from({ length: n }, (_, i) => i * 3 + 1);
  // (IVF_RQ encodes through the same slices; its rotation at 1,024 dimensions is slow to train here.)
  const cases: [IvfKind, 4 | 8][] = [["IVF_PQ", 8], ["IVF_PQ", 4], ["IVF_SQ", 8], ["IVF_FLAT", 8]];

  for (const [kind, numBits] of cases) {
    for (const distanceType of ["l2", "cosine"] as const) {
      it(`${kind}${kind === "IVF_PQ" ? ` ${numBits}-bit` : ""} ${distanceType}: one add, uneven adds, reserved adds and build give the same index bytes`, async () => {
        const options = {
          numPartitions: 12, maxIterations: 4, sampleRate: 64, distanceType,
          ...(kind === "IVF_PQ" ? { numSubVectors: numBits === 4 ? 64 : 32, numBits } : {}),
        };
        const original = data.slice();
        const built = await IvfIndex.build(kernels, kind, data, dim, ids, options);
        // Trained on all the rows, as build trains: the same centroids and codebooks.
        const once = await IvfIndex.train(kernels, kind, data, dim, options);
        const pieces = await IvfIndex.train(kernels, kind, data, dim, options);
        const onScratch = await IvfIndex.train(kernels, kind, data, dim, options);
        const reserved = await IvfIndex.train(kernels, kind, data, dim, options);
        try {
          await once.add(data, ids);
          // The caller's rows are read, never changed (build and train take every row here: the
          // PQ sample is all of them, and cosine normalizes copies).
          expect(Buffer.from(data.buffer).equals(Buffer.from(original.buffer))).toBe(true);
          // A scratch copy may be normalized in place: the same index.
          await onScratch.add(data.slice(), ids, undefined, true);
          // Uneven calls: a partition's 4-bit blocks fill across calls (1 row, then 37, …).
          let at = 0;
          for (const rows of [1, 37, 1100, 5, n - 1143]) {
            await pieces.add(data.subarray(at * dim, (at + rows) * dim), ids.subarray(at, at + rows));
            at += rows;
          }
          // Partitions sized first from the rows' assignment, then filled in place by uneven adds
          // given that assignment: nothing the adds keep is allocated by them.
          const assign = await reserved.assign(data);
          reserved.reserve(assign);
          const before = kernels.heap.allocatedBytes;
          at = 0;
          for (const rows of [1, 37, 1100, 5, n - 1143]) {
            await reserved.add(data.subarray(at * dim, (at + rows) * dim), ids.subarray(at, at + rows), undefined, false, assign.subarray(at, at + rows));
            at += rows;
          }
          expect(kernels.heap.allocatedBytes - before).toBe(0);
          const expected = Buffer.from(await built.serialize());
          expect(Buffer.from(await reserved.serialize()).equals(expected)).toBe(true);
          expect(Buffer.from(await once.serialize()).equals(expected)).toBe(true);
          expect(Buffer.from(await pieces.serialize()).equals(expected)).toBe(true);
          expect(Buffer.from(await onScratch.serialize()).equals(expected)).toBe(true);
          // The bytes are an index that finds its rows: each row's own vector ranks it first.
          const q = data.subarray(7 * dim, 8 * dim);
          const fetchVectors = async (rows: ArrayLike<number>): Promise<Float32Array> => {
            const out = new Float32Array(rows.length * dim);
            for (let i = 0; i < rows.length; i++) out.set(data.subarray(((rows[i]! - 1) / 3) * dim, ((rows[i]! - 1) / 3 + 1) * dim), i * dim);
            return out;
          };
          expect((await pieces.search(q, 1, { nprobes: 12, refineFactor: kind === "IVF_FLAT" ? undefined : 400, fetchVectors })).rows[0]).toBe(ids[7]);
        } finally {
          built.free();
          once.free();
          pieces.free();
          onScratch.free();
          reserved.free();
        }
      });
    }
  }
});

describe("IvfIndex.add memory", () => {
  it("takes a slice's WebAssembly memory on top of the codes it keeps, however large the batch", async () => {
    // 40,000 rows × 256 floats: a 40 MB batch, ten 4 MiB slices.
    const dim = 256;
    const n = 40_000;
    const data = clustered(n, dim, 9);
    const index = await IvfIndex.train(kernels, "IVF_PQ", data.subarray(0, 4000 * dim), dim, { numPartitions: 16, numSubVectors: 32, maxIterations: 3, sampleRate: 64, distanceType: "cosine" });
    const heap = kernels.heap;
    const alloc = heap.alloc.bind(heap);
    let peak = 0;
    heap.alloc = (bytes: number): number => {
      const ptr = alloc(bytes);
      peak = Math.max(peak, heap.allocatedBytes);
      return ptr;
    };
    try {
      const before = heap.allocatedBytes;
      peak = before;
      await index.add(data, Float64Array.from({ length: n }, (_, i) => i));
      const kept = heap.allocatedBytes - before;
      // What the index keeps: 32 B of codes and a 4 B position per row.
      expect(kept).toBeGreaterThanOrEqual(n * 36);
      expect(kept).toBeLessThan(n * 36 + 64 * 1024);
      // On top of that, while adding: one slice of rows in WebAssembly memory (4 MiB) with its
      // codes, assignments and the kernels' scratch (centroids, codebook: under 1 MiB), and one
      // partition being grown. A batch-sized copy (40 MB) or 16 MiB chunks would not fit.
      expect(peak - before - kept).toBeLessThan(4 * 2 ** 20 + 2 * 2 ** 20);
    } finally {
      heap.alloc = alloc;
      index.free();
    }
  }, 120_000);
});

describe("reserveMemory", () => {
  it("grows WebAssembly memory once to hold a build's working set, so its blocks then fit without growing it", async () => {
    const fresh = await loadKernels();
    const heap = fresh.heap;
    const start = heap.size;
    // More than the memory holds now, whatever earlier tests left free in it.
    const working = start + 48 * 2 ** 20;
    reserveMemory(fresh, working);
    const reserved = heap.size;
    expect(reserved).toBeGreaterThan(start);
    // Grown by the working set, rounded as TLSF rounds a large request (up to 1/16 of its power of two).
    expect(reserved - start).toBeLessThan(working * 1.0625 + 2 ** 20);
    // A block of nearly all of it (a k-means sample), then small buffers after it: no further growth.
    const blocks = [heap.alloc(working - 5 * 2 ** 20), heap.alloc(2 ** 20), heap.alloc(2 ** 20), heap.alloc(3 * 2 ** 20)];
    expect(heap.size).toBe(reserved);
    blocks.forEach((b) => heap.free(b));
    // Working sets under 16 MiB are left to grow as they go.
    reserveMemory(fresh, 8 * 2 ** 20);
    expect(heap.size).toBe(reserved);
  });

  it("ivfBuildBytes plans the larger of the k-means working set and the filled partitions", () => {
    // 1M × 384, 1,000 partitions: a 64,000-row sample (98 MB) against 100 B/row of codes and positions.
    const rows = 1_000_000;
    const planned = ivfBuildBytes("IVF_PQ", rows, 384, { numPartitions: 1000, numSubVectors: 96, distanceType: "cosine" });
    // Partitions are allocated once at their final size (IvfIndex.reserve): no room for holes.
    expect(planned).toBeGreaterThan(rows * 100);
    expect(planned).toBeLessThan(rows * 100 + 8 * 2 ** 20);
    expect(ivfBuildBytes("IVF_PQ", rows, 384, { numPartitions: 1000, numSubVectors: 96, distanceType: "cosine", sampleRate: 256 })).toBeGreaterThan(256_000 * 384 * 4);
  });
});
