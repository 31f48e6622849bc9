/**
 * Opening a stored IVF index from its file: the head (centroids, codebook, row ids) in one read,
 * partition bodies range-read when a query first probes them. Loaded with the ANN code, on a
 * table's first indexed search.
 *
 * The head's length is in the file's preamble and, since the manifest records it
 * (`IndexEntry.headLength`), in the manifest too: with it the head is one read instead of two
 * dependent ones (preamble, then head), which over HTTP is one round trip less on a cold query.
 */
import { openIndex, readHeadLength, type VectorIndex } from "../ann/index.js";
import type { Kernels } from "../kernels/index.js";
import type { BlobStore, ByteRange } from "../storage/blob-store.js";
// Imported with this module, not when the partitions are asked for: in a page a dynamic import is
// a request of its own, and it would come between the head and the partitions.
import { readRanges } from "../storage/range-reads.js";

/**
 * `first` is bytes [0, n) of the file for some n ≥ PREAMBLE_BYTES: the head when the manifest
 * gave its length, else the preamble, whose head length then says what to read.
 */
export async function openStoredIvf(store: BlobStore, kernels: Kernels, key: string, partitionBytes: number, first: Promise<Uint8Array>): Promise<VectorIndex> {
  // The code the partition reads need loads while the head travels (in a page, each import is a
  // request of its own), not between the head and the partitions.
  // A failure here is left to the import that needs the module.
  if (store.remote === true) import("../storage/http-ranges.js").catch(() => {});
  let head = await first;
  const headLength = readHeadLength(head);
  if (head.byteLength < headLength) head = await store.getRange(key, 0, headLength);
  return openIndex(kernels, head, { cacheBytes: partitionBytes, loadPartition: batchedReads(store, key) });
}

/**
 * Range reads of one file asked for in the same tick — a search pins every partition it probes at
 * once — sent as one planned read (range-reads.ts): one round trip, and over HTTP one request for
 * many partitions. This is what prefetches a query's partitions in parallel.
 */
function batchedReads(store: BlobStore, key: string): (p: number, range: ByteRange) => Promise<Uint8Array> {
  type Ask = { range: ByteRange; resolve: (b: Uint8Array) => void; reject: (e: unknown) => void };
  let batch: Ask[] | undefined;
  return (_p, range) => new Promise((resolve, reject) => {
    if (batch === undefined) {
      const asked: Ask[] = [];
      batch = asked;
      queueMicrotask(() => {
        batch = undefined;
        // Remote: the probed bodies alone (an unprobed partition between two is ~50 KB nobody asked for).
        readRanges(store, key, asked.map((a) => a.range), store.remote === true ? { gapBytes: 0 } : {})
          .then((bytes) => asked.forEach((a, i) => a.resolve(bytes[i]!)), (error: unknown) => asked.forEach((a) => a.reject(error)));
      });
    }
    batch.push({ range, resolve, reject });
  });
}
