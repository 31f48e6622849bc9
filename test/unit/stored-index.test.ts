/**
 * Opening a stored IVF index (src/table/stored-index.ts): with the head length the manifest
 * records, the first read is the whole head; without it (manifests written before it) or with a
 * wrong one, the preamble decides and the rest of the head is read. Either way the index answers
 * as the one that was stored, and a damaged preamble is CORRUPT_FILE.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { buildIndex, readHeadLength } from "../../src/ann/index.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import type { BlobStore } from "../../src/storage/blob-store.js";
import { openStoredIvf } from "../../src/table/stored-index.js";
import { seededRandom } from "../../bench/datasets.js";

const DIM = 16;
const N = 2000;

/** A store that logs the ranges read. */
function logging(store: BlobStore, log: [number, number][]): BlobStore {
  return Object.assign(Object.create(store) as BlobStore, {
    getRange: (key: string, offset: number, length: number) => {
      log.push([offset, length]);
      return store.getRange(key, offset, length);
    },
  });
}

describe("opening a stored IVF index", () => {
  let kernels: Kernels;
  let bytes: Uint8Array;
  let headLength: number;
  const store = new MemoryStore("memory://");
  const random = seededRandom(3);
  const vectors = Float32Array.from({ length: N * DIM }, () => random() * 2 - 1);
  const query = vectors.slice(5 * DIM, 6 * DIM);
  let want: Float64Array;

  beforeAll(async () => {
    kernels = await loadKernels();
    const index = await buildIndex(kernels, "IVF_PQ", vectors, DIM, undefined, { numPartitions: 16, numSubVectors: 4 });
    bytes = await index.serialize();
    headLength = readHeadLength(bytes);
    want = (await index.search(query, 10, { nprobes: 4 })).rows;
    index.free();
    await store.put("t/_indices/a.qvi", bytes);
  });

  const open = async (firstLength: number): Promise<{ rows: Float64Array; log: [number, number][] }> => {
    const log: [number, number][] = [];
    const s = logging(store, log);
    const index = await openStoredIvf(s, kernels, "t/_indices/a.qvi", 1 << 20, s.getRange("t/_indices/a.qvi", 0, firstLength));
    const rows = (await index.search(query, 10, { nprobes: 4 })).rows;
    index.free();
    return { rows, log };
  };

  it("reads the head once when its length is known, and twice from the preamble otherwise", async () => {
    const hinted = await open(headLength);
    expect(hinted.rows).toEqual(want);
    expect(hinted.log.filter(([offset]) => offset === 0)).toEqual([[0, headLength]]);
    for (const first of [32, 100]) {
      const unhinted = await open(first);
      expect(unhinted.rows).toEqual(want);
      expect(unhinted.log.filter(([offset]) => offset === 0)).toEqual([[0, first], [0, headLength]]);
    }
  });

  it("a damaged preamble is CORRUPT_FILE", async () => {
    const bad = bytes.slice();
    bad[0]! ^= 0xff;
    await store.put("t/_indices/bad.qvi", bad);
    await expect(openStoredIvf(store, kernels, "t/_indices/bad.qvi", 1 << 20, store.getRange("t/_indices/bad.qvi", 0, headLength))).rejects.toMatchObject({ code: "CORRUPT_FILE" });
  });
});
