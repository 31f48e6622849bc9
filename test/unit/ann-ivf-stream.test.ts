/**
 * An IVF index's file handed out a piece at a time (IvfIndex.serializeStream, what createIndex
 * writes through BlobStore.putStream): the same bytes as serialize(), the partition bodies copied out
 * of WebAssembly memory through one reused buffer rather than as a file-sized copy, for resident
 * partitions and for partitions read through loadPartition alike.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { IvfIndex, openIndex, readHeadLength, type IvfKind } from "../../src/ann/index.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { randomF32 } from "./kernels-helpers.js";

let kernels: Kernels;
beforeAll(async () => {
  kernels = await loadKernels();
});

/** Every part of a stream, each copied as it comes (the producer reuses its buffer), and the buffers they were views of. */
async function drain(parts: AsyncIterable<Uint8Array>): Promise<{ bytes: Uint8Array; buffers: ArrayBufferLike[] }> {
  const copies: Uint8Array[] = [];
  const buffers: ArrayBufferLike[] = [];
  for await (const part of parts) {
    copies.push(part.slice());
    buffers.push(part.buffer);
  }
  const bytes = new Uint8Array(copies.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of copies) {
    bytes.set(c, at);
    at += c.length;
  }
  return { bytes, buffers };
}

/** The first byte where a and b differ (-1: none), or their shorter length when one is a prefix of the other. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

describe("IvfIndex.serializeStream", () => {
  const dim = 48;
  const n = 3000;
  const data = randomF32(n * dim, 21);
  const ids = Float64Array.from({ length: n }, (_, i) => (i * 7919) % 100_003);
  const cases: [IvfKind, number][] = [["IVF_FLAT", 8], ["IVF_SQ", 8], ["IVF_PQ", 8], ["IVF_PQ", 4], ["IVF_RQ", 1]];

  for (const [kind, numBits] of cases) {
    for (const distanceType of ["l2", "cosine"] as const) {
      it(`${kind}${kind === "IVF_PQ" ? ` ${numBits}-bit` : ""} ${distanceType}: the parts joined are serialize()'s bytes`, async () => {
        const options = { numPartitions: 17, maxIterations: 3, sampleRate: 64, distanceType, ...(kind === "IVF_PQ" ? { numBits, numSubVectors: 8 } : {}) };
        const index = await IvfIndex.build(kernels, kind, data, dim, ids, options as never);
        try {
          const whole = await index.serialize();
          const stream = await index.serializeStream();
          expect(stream.size).toBe(whole.length);
          expect(stream.headLength).toBe(readHeadLength(whole));
          const { bytes } = await drain(stream.parts);
          expect(firstDifference(bytes, whole)).toBe(-1);
          // The file reads back as the index it came from.
          const copy = openIndex(kernels, bytes);
          const q = data.subarray(5 * dim, 6 * dim);
          expect(Array.from((await copy.search(q, 10, { nprobes: 4 })).rows)).toEqual(Array.from((await index.search(q, 10, { nprobes: 4 })).rows));
          copy.free();
        } finally {
          index.free();
        }
      });
    }
  }

  it("hands bodies out through one reused buffer, resident or read through loadPartition", async () => {
    // IVF_FLAT of 256-d rows: 16,000 rows are 16 MB of bodies, several parts of the stream.
    const wide = 256;
    const rows = 16_000;
    const vectors = randomF32(rows * wide, 5);
    const index = await IvfIndex.build(kernels, "IVF_FLAT", vectors, wide, undefined, { numPartitions: 40, maxIterations: 2, sampleRate: 32 });
    const whole = await index.serialize();
    const { bytes, buffers } = await drain((await index.serializeStream()).parts);
    expect(firstDifference(bytes, whole)).toBe(-1);
    const bodies = buffers.slice(1);
    expect(bodies.length).toBeGreaterThan(2);
    expect(new Set(bodies).size).toBe(1);
    index.free();
    // Opened from its head: a few partitions resident (probed), the rest read through the loader.
    let loads = 0;
    const lazy = openIndex(kernels, whole.slice(0, readHeadLength(whole)), {
      loadPartition: async (_p, { offset, length }) => {
        loads++;
        return whole.slice(offset, offset + length);
      },
    });
    await lazy.search(vectors.subarray(0, wide), 5, { nprobes: 3 });
    expect(loads).toBe(3);
    const again = await drain((await (lazy as IvfIndex).serializeStream()).parts);
    expect(firstDifference(again.bytes, whole)).toBe(-1);
    lazy.free();
  });
});
