/**
 * IvfIndex.train on a sample already in WebAssembly memory (a table's build reads its sample
 * straight there): the same index bytes as training on the same rows as a Float32Array, whether
 * k-means takes every row of the sample or a subset of it, and the block is freed afterwards.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { IvfIndex, type IvfKind } from "../../src/ann/index.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { randomF32 } from "./kernels-helpers.js";

let kernels: Kernels;
beforeAll(async () => {
  kernels = await loadKernels();
});

describe("IvfIndex.train on a WebAssembly block", () => {
  const dim = 24;
  const n = 2000;
  const sample = randomF32(n * dim, 9);
  const rest = randomF32(500 * dim, 10);
  const cases: [IvfKind, number][] = [["IVF_PQ", 8], ["IVF_PQ", 4], ["IVF_SQ", 8], ["IVF_FLAT", 8], ["IVF_RQ", 1]];

  for (const [kind, numBits] of cases) {
    for (const distanceType of ["l2", "cosine"] as const) {
      // sampleRate 64 × 20 partitions = 1,280 rows: k-means on a subset; 100 × 20 ≥ n: on every row.
      for (const sampleRate of [64, 100]) {
        it(`${kind}${kind === "IVF_PQ" ? ` ${numBits}-bit` : ""} ${distanceType}, sampleRate ${sampleRate}: the same index as from a Float32Array`, async () => {
          const options = { numPartitions: 20, maxIterations: 3, sampleRate, distanceType, ...(kind === "IVF_PQ" ? { numBits, numSubVectors: 6 } : {}) };
          const fromArray = await IvfIndex.train(kernels, kind, sample.slice(), dim, options as never);
          const allocated = kernels.heap.allocatedBytes;
          const block = kernels.upload(sample, dim);
          const fromBlock = await IvfIndex.train(kernels, kind, block as never, dim, options as never);
          expect(block.freed).toBe(true);
          for (const index of [fromArray, fromBlock]) await index.add(rest, Float64Array.from({ length: 500 }, (_, i) => i));
          expect(await fromBlock.serialize()).toEqual(await fromArray.serialize());
          fromBlock.free();
          fromArray.free();
          expect(kernels.heap.allocatedBytes).toBeLessThanOrEqual(allocated);
        });
      }
    }
  }
});
