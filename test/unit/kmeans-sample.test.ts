/**
 * The k-means training sample's cap (src/ann/kmeans.ts): without a sampleRate, IVF k-means trains
 * on at most KMEANS_SAMPLE_BYTES of float32 rows, but never on fewer than MIN_ROWS_PER_CENTROID rows
 * per centroid. The sizes; a capped build is deterministic for a seed; and what the cap costs in
 * recall on real data: glove-100d-100k (cosine, 316 partitions) trained at the floor, 64 rows per
 * centroid, against the uncapped 256 (its 100-d rows never reach the budget by themselves).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { IvfIndex } from "../../src/ann/ivf.js";
import { gatherRows, sampleRows, seededRandom } from "../../src/ann/common.js";
import { KMEANS_SAMPLE_BYTES, kmeansSampleRows, MIN_ROWS_PER_CENTROID, uploadRows } from "../../src/ann/kmeans.js";
import { readBlock } from "../../src/kernels/quantize.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { hasData, loadGlove, loadSiftSmall, recallAtK } from "../../bench/datasets.js";

describe("uploadRows", () => {
  it("gathers the sample straight into a block: the bytes of uploading the gathered rows", async () => {
    const kernels = await loadKernels();
    const dim = 7;
    const random = seededRandom(9);
    const x = Float32Array.from({ length: 500 * dim }, () => random() - 0.5);
    for (const rows of [sampleRows(500, 123, random), Int32Array.of(499, 0, 17), Int32Array.of(3)]) {
      const direct = uploadRows(kernels, x, dim, rows);
      const packed = kernels.upload(gatherRows(x, dim, rows), dim);
      try {
        expect(direct.rows).toBe(rows.length);
        expect(Array.from(readBlock(kernels, direct))).toEqual(Array.from(readBlock(kernels, packed)));
      } finally {
        direct.free();
        packed.free();
      }
    }
  });
});

describe("IvfIndex.build for cosine normalizes its copy while k-means runs", () => {
  it("and builds the index of train() on the vectors, normalized up front, then add()", async () => {
    const kernels = await loadKernels();
    const dim = 16;
    const n = 9000;
    const random = seededRandom(4);
    // Rows of very different lengths, so normalizing matters; 9,000 rows span several slices.
    const vectors = Float32Array.from({ length: n * dim }, (_, i) => (random() - 0.5) * (1 + (Math.floor(i / dim) % 13)));
    const original = vectors.slice();
    for (const kind of ["IVF_PQ", "IVF_FLAT"] as const) {
      // numPartitions × sampleRate < n: the k-means sample is gathered (and normalized) row by row.
      const options = { numPartitions: 24, numSubVectors: 4, sampleRate: 64, maxIterations: 6, distanceType: "cosine" as const };
      const built = await IvfIndex.build(kernels, kind, vectors, dim, undefined, options);
      const trained = await IvfIndex.train(kernels, kind, vectors, dim, options);
      try {
        await trained.add(vectors, Float64Array.from({ length: n }, (_, i) => i));
        expect(Array.from(await built.serialize())).toEqual(Array.from(await trained.serialize()));
      } finally {
        built.free();
        trained.free();
      }
    }
    // The caller's vectors are untouched.
    expect(vectors.every((v, i) => v === original[i])).toBe(true);
  });
});

describe("kmeansSampleRows", () => {
  it("caps the default sample in bytes, keeps a floor per centroid and honours an explicit sampleRate", () => {
    // 1M × 384, √n = 1,000 partitions: 256 per centroid would be 393 MB; the cap leaves 43, the floor 64.
    expect(kmeansSampleRows(1000, 384, undefined)).toBe(1000 * MIN_ROWS_PER_CENTROID);
    expect(kmeansSampleRows(1000, 384, undefined) * 384 * 4).toBeLessThan(100e6);
    // Small enough already: 256 per centroid.
    expect(kmeansSampleRows(316, 100, undefined)).toBe(316 * 256);
    // In between: as many rows per centroid as fit in the budget.
    const perCentroid = kmeansSampleRows(256, 384, undefined) / 256;
    expect(perCentroid).toBe(Math.floor(KMEANS_SAMPLE_BYTES / (384 * 4 * 256)));
    expect(perCentroid).toBeGreaterThan(MIN_ROWS_PER_CENTROID);
    expect(perCentroid).toBeLessThan(256);
    // A sampleRate the caller names is taken as given, budget or not.
    expect(kmeansSampleRows(1000, 384, 256)).toBe(256_000);
    expect(kmeansSampleRows(1000, 384, 8)).toBe(8000);
  });
});

describe.skipIf(!hasData("siftsmall"))("a capped k-means sample (siftsmall)", () => {
  it("builds the same index twice for a seed, and another one than the uncapped sample", async () => {
    const kernels = await loadKernels();
    const { base } = loadSiftSmall();
    const build = async (kmeansSampleBytes?: number): Promise<Uint8Array> => {
      const index = await IvfIndex.build(kernels, "IVF_PQ", base.data, base.dim, undefined, { numPartitions: 100, numSubVectors: 16, maxIterations: 10, seed: 7, kmeansSampleBytes });
      try {
        return await index.serialize();
      } finally {
        index.free();
      }
    };
    // A budget of one byte: the floor, 64 rows per centroid (6,400 of the 10,000 rows).
    const [a, b, whole] = [await build(1), await build(1), await build()];
    expect(a).toEqual(b);
    expect(a).not.toEqual(whole);
  }, 120_000);
});

describe.skipIf(!hasData("glove-100d-100k"))("what the cap costs: glove-100d-100k recall@10 (cosine, IVF_PQ, 316 partitions)", () => {
  const QUERIES = 200;
  const K = 10;
  let kernels: Kernels;
  beforeAll(async () => {
    kernels = await loadKernels();
  });

  it("at the floor of 64 rows per centroid stays within 0.02 of 256 per centroid", async () => {
    const data = loadGlove("cosine");
    const dim = data.base.dim;
    const fetchVectors = async (rows: Float64Array): Promise<Float32Array> => {
      const out = new Float32Array(rows.length * dim);
      rows.forEach((r, i) => out.set(data.base.data.subarray(r * dim, (r + 1) * dim), i * dim));
      return out;
    };
    const recalls = async (kmeansSampleBytes?: number): Promise<number[]> => {
      const index = await IvfIndex.build(kernels, "IVF_PQ", data.base.data, dim, undefined, { distanceType: "cosine", kmeansSampleBytes });
      try {
        const out: number[] = [];
        for (const [nprobes, refineFactor] of [[20, 4], [40, 10]] as const) {
          const found: number[][] = [];
          for (let q = 0; q < QUERIES; q++) {
            const hits = await index.search(data.queries.data.subarray(q * dim, (q + 1) * dim), K, { nprobes, refineFactor, fetchVectors });
            found.push(Array.from(hits.rows));
          }
          out.push(recallAtK(found, data.groundTruth, K));
        }
        return out;
      } finally {
        index.free();
      }
    };
    const full = await recalls();
    const capped = await recalls(1);
    console.log(`glove k-means sample 256 vs 64 rows per centroid, recall@10 (nprobes 20 refine 4, nprobes 40 refine 10): ${full.join(", ")} vs ${capped.join(", ")}`);
    capped.forEach((r, i) => expect(r).toBeGreaterThanOrEqual(full[i]! - 0.02));
    expect(capped[1]).toBeGreaterThanOrEqual(0.95);
  }, 300_000);
});
