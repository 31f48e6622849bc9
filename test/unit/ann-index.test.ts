/**
 * Behaviour every index kind shares, on a slice of real data (siftsmall, 2,000 × 128): the file
 * round trip, filters that still return k rows, rows added after the build, re-ranking, IVF
 * partitions read on demand, and the errors callers switch on. Recall on the full sets is in
 * ann-recall.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { buildIndex, openIndex, PREAMBLE_BYTES, readHeadLength, type BuildOptions } from "../../src/ann/index.js";
import type { IndexKind, SearchOptions, VectorIndex } from "../../src/ann/types.js";
import { isQuiverError } from "../../src/errors.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { loadSiftSmall } from "../../bench/datasets.js";

const N = 2000;
const DIM = 128;
const K = 10;
const sift = loadSiftSmall();
const base = sift.base.data.subarray(0, N * DIM);
const queries = Array.from({ length: 20 }, (_, i) => sift.queries.data.subarray(i * DIM, (i + 1) * DIM));
/** Opaque row ids, as a table would use (fragment · 2^32 + offset). */
const rowIds = Float64Array.from({ length: N }, (_, i) => 7 * 2 ** 32 + 3 * i);
const rowOf = new Map(Array.from(rowIds, (id, i) => [id, i]));

const fetchVectors = async (rows: Float64Array): Promise<Float32Array> => {
  const out = new Float32Array(rows.length * DIM);
  rows.forEach((id, i) => out.set(vectorOf(id), i * DIM));
  return out;
};
const added = new Map<number, Float32Array>();
function vectorOf(id: number): Float32Array {
  const i = rowOf.get(id);
  return i === undefined ? added.get(id)! : base.subarray(i * DIM, (i + 1) * DIM);
}

const OPTIONS: BuildOptions = { numPartitions: 16, m: 8, efConstruction: 40, numSubVectors: 32, seed: 7 };
const SEARCH: SearchOptions = { nprobes: 4, ef: 32 };
const KINDS: IndexKind[] = ["FLAT", "IVF_FLAT", "IVF_PQ", "IVF_SQ", "IVF_RQ", "HNSW", "HNSW_SQ", "HNSW_PQ"];

let kernels: Kernels;
beforeAll(async () => {
  kernels = await loadKernels();
});

function bitmap(positions: Iterable<number>, n: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(n / 8));
  for (const p of positions) bits[p >> 3]! |= 1 << (p & 7);
  return bits;
}

describe.each(KINDS)("%s", (kind) => {
  let index: VectorIndex;
  beforeAll(async () => {
    index = await buildIndex(kernels, kind, base, DIM, rowIds, OPTIONS);
  });

  it("describes itself", () => {
    expect(index.kind).toBe(kind);
    expect(index.size).toBe(N);
    expect(index.dim).toBe(DIM);
    expect(index.rowId(5)).toBe(rowIds[5]);
    const stats = index.stats();
    expect(stats.memoryBytes).toBe(index.bytes());
    expect(stats.memoryBytes).toBeGreaterThan(0);
  });

  it("returns the row ids it was given, nearest first, with finite distances", async () => {
    const hits = await index.search(queries[0]!, K, SEARCH);
    expect(hits.rows.length).toBe(K);
    for (let j = 0; j < K; j++) {
      expect(rowIds[hits.positions[j]!]).toBe(hits.rows[j]);
      expect(Number.isFinite(hits.distances[j])).toBe(true);
      if (j > 0) expect(hits.distances[j]).toBeGreaterThanOrEqual(hits.distances[j - 1]!);
    }
  });

  it("reads back from its bytes and answers every query identically", async () => {
    const copy = openIndex(kernels, await index.serialize());
    try {
      expect(copy.kind).toBe(kind);
      expect(copy.size).toBe(index.size);
      for (const q of queries) {
        const a = await index.search(q, K, SEARCH);
        const b = await copy.search(q, K, SEARCH);
        expect(Array.from(b.rows)).toEqual(Array.from(a.rows));
        expect(Array.from(b.distances)).toEqual(Array.from(a.distances));
      }
    } finally {
      copy.free();
    }
  });

  it("returns k rows whenever k rows pass the filter (bitmap and predicate), and only those", async () => {
    // 12 allowed rows scattered over the data: almost none sit near any query.
    const few = Array.from({ length: 12 }, (_, i) => (i * 163 + 11) % N);
    for (const allowed of [bitmap(few, N), (id: number) => few.includes(rowOf.get(id)!)]) {
      for (const q of queries.slice(0, 5)) {
        const hits = await index.search(q, K, { ...SEARCH, allowed });
        expect(hits.rows.length).toBe(K);
        for (const p of hits.positions) expect(few).toContain(p);
      }
    }
    // Fewer allowed rows than k: all of them come back.
    const five = [3, 500, 999, 1500, 1999];
    const hits = await index.search(queries[1]!, K, { ...SEARCH, allowed: bitmap(five, N) });
    expect(Array.from(hits.positions).sort((a, b) => a - b)).toEqual(five);
    // A broad filter (every third row) still fills k.
    const broad = await index.search(queries[2]!, K, { ...SEARCH, allowed: (_id, p) => p % 3 === 0 });
    expect(broad.rows.length).toBe(K);
    for (const p of broad.positions) expect(p % 3).toBe(0);
  });

  it("re-ranks k × refineFactor candidates with exact distances from fetchVectors", async () => {
    const exact = await buildIndex(kernels, "FLAT", base, DIM, rowIds);
    try {
      for (const q of queries.slice(0, 5)) {
        const hits = await index.search(q, K, { ...SEARCH, refineFactor: 4, fetchVectors });
        const truth = await exact.search(q, K);
        // The distances reported are exact: equal to the flat index's for the same rows.
        for (let j = 0; j < hits.rows.length; j++) {
          const want = (await exact.search(q, N, { allowed: (id) => id === hits.rows[j] })).distances[0]!;
          expect(Math.abs(hits.distances[j]! - want)).toBeLessThanOrEqual(1e-3 * Math.max(1, want));
        }
        expect(hits.distances[0]).toBeGreaterThanOrEqual(truth.distances[0]! - 1e-3 * truth.distances[0]!);
      }
    } finally {
      exact.free();
    }
    await expect(index.search(queries[0]!, K, { refineFactor: 2 })).rejects.toSatisfy((e) => isQuiverError(e, "INVALID_ARGUMENT"));
  });

  it("finds rows added after the build under their new ids and positions", async () => {
    const copy = openIndex(kernels, await index.serialize());
    try {
      const fresh = new Float32Array(30 * DIM);
      const freshIds = Float64Array.from({ length: 30 }, (_, i) => 9 * 2 ** 32 + i);
      for (let i = 0; i < 30; i++) {
        // Each new vector is a query moved slightly: searching for it must find it first.
        for (let j = 0; j < DIM; j++) fresh[i * DIM + j] = sift.queries.data[i * DIM + j]! + 0.5;
      }
      await copy.add(fresh, freshIds);
      expect(copy.size).toBe(N + 30);
      for (let i = 0; i < 30; i++) {
        const hits = await copy.search(fresh.subarray(i * DIM, (i + 1) * DIM), 1, SEARCH);
        expect(hits.rows[0]).toBe(freshIds[i]);
        expect(hits.positions[0]).toBe(N + i);
      }
      // Added rows survive another round trip.
      const again = openIndex(kernels, await copy.serialize());
      expect((await again.search(fresh.subarray(0, DIM), 1, SEARCH)).rows[0]).toBe(freshIds[0]);
      again.free();
    } finally {
      copy.free();
    }
  });

  it("rejects queries of the wrong dimension and answers k = 0 with nothing", async () => {
    await expect(index.search(new Float32Array(DIM - 1), K)).rejects.toSatisfy((e) => isQuiverError(e, "DIMENSION_MISMATCH"));
    expect((await index.search(queries[0]!, 0)).rows.length).toBe(0);
    expect((await index.search(queries[0]!, N + 50, { nprobes: 1000, ef: N + 50 })).rows.length).toBeLessThanOrEqual(N);
  });
});

describe("IVF partitions read on demand", () => {
  it.each(["IVF_FLAT", "IVF_PQ", "IVF_SQ", "IVF_RQ"] as const)("%s: head + loadPartition answers like the in-memory index", async (kind) => {
    const index = await buildIndex(kernels, kind, base, DIM, rowIds, OPTIONS);
    const bytes = await index.serialize();
    const headLength = readHeadLength(bytes.subarray(0, PREAMBLE_BYTES));
    expect(headLength).toBeLessThan(bytes.byteLength);
    const loads: number[] = [];
    const lazy = openIndex(kernels, bytes.slice(0, headLength), {
      loadPartition: async (p, { offset, length }) => {
        loads.push(p);
        return bytes.slice(offset, offset + length);
      },
      cacheBytes: 40_000, // a few partitions: later queries must evict and reload
    });
    try {
      const before = lazy.bytes();
      await lazy.search(queries[0]!, K, { nprobes: 2 });
      expect(new Set(loads).size).toBe(2); // only the two probed partitions were read
      for (const q of queries) {
        for (const options of [{ nprobes: 3 }, { nprobes: 3, allowed: (_id: number, p: number) => p % 5 === 0 }]) {
          const a = await index.search(q, K, options);
          const b = await lazy.search(q, K, options);
          expect(Array.from(b.rows)).toEqual(Array.from(a.rows));
          expect(Array.from(b.distances)).toEqual(Array.from(a.distances));
        }
      }
      expect(lazy.bytes() - before).toBeLessThanOrEqual(40_000 + 3 * 2 * (N / 4) * (DIM * 4 + 4));
      expect(loads.length).toBeGreaterThan(new Set(loads).size); // evicted partitions were read again
      // Concurrent searches share the cache without stepping on each other.
      const together = await Promise.all(queries.map((q) => lazy.search(q, K, { nprobes: 4 })));
      for (let i = 0; i < queries.length; i++) expect(Array.from(together[i]!.rows)).toEqual(Array.from((await index.search(queries[i]!, K, { nprobes: 4 })).rows));
      // Adding loads the partitions it grows; the result serializes whole.
      await lazy.add(queries[0]!.slice(), Float64Array.of(123));
      const whole = openIndex(kernels, await lazy.serialize());
      expect((await whole.search(queries[0]!, 1, { nprobes: 1 })).rows[0]).toBe(123);
      whole.free();
    } finally {
      lazy.free();
      index.free();
    }
  });

  it("a search probing more partitions than the budget holds leaves the cache within it when it ends", async () => {
    const index = await buildIndex(kernels, "IVF_PQ", base, DIM, rowIds, OPTIONS);
    const bytes = await index.serialize();
    const budget = 20_000; // 2,000 rows × (32 code bytes, a 4-byte position, a 4-byte l2 norm) = 80,000 in all
    const lazy = openIndex(kernels, bytes.slice(0, readHeadLength(bytes)), {
      loadPartition: async (_p, { offset, length }) => bytes.slice(offset, offset + length),
      cacheBytes: budget,
    });
    try {
      const before = lazy.bytes();
      const all = await lazy.search(queries[0]!, K, { nprobes: 16 });
      expect(Array.from(all.rows)).toEqual(Array.from((await index.search(queries[0]!, K, { nprobes: 16 })).rows));
      expect(lazy.bytes() - before).toBeLessThanOrEqual(budget);
      expect(lazy.bytes() - before).toBeGreaterThan(0);
    } finally {
      lazy.free();
      index.free();
    }
  });

  it("checks each partition read on demand against its checksum, with the head bytes it was opened from overwritten", async () => {
    const index = await buildIndex(kernels, "IVF_PQ", base, DIM, rowIds, OPTIONS);
    const bytes = await index.serialize();
    const headLength = readHeadLength(bytes);
    let head: Uint8Array | undefined = bytes.slice(0, headLength);
    const lazy = openIndex(kernels, head, {
      // A flipped bit in every body read: each must be refused, none served.
      loadPartition: async (_p, { offset, length }) => {
        const body = bytes.slice(offset, offset + length);
        body[length >> 1]! ^= 0x04;
        return body;
      },
    });
    head.fill(0); // the index keeps what it needs of the head, not these bytes
    head = undefined;
    try {
      const error = await lazy.search(queries[0]!, K, { nprobes: 2 }).catch((e: unknown) => e);
      expect(isQuiverError(error) && error.code).toBe("CORRUPT_FILE");
      expect(String((error as Error).message)).toMatch(/fails its checksum/);
    } finally {
      lazy.free();
      index.free();
    }
  });

  it("refuses a head without loadPartition", async () => {
    const index = await buildIndex(kernels, "IVF_FLAT", base, DIM, rowIds, OPTIONS);
    const bytes = await index.serialize();
    expect(() => openIndex(kernels, bytes.slice(0, readHeadLength(bytes)))).toThrow(/loadPartition/);
    index.free();
  });
});

describe("metrics", () => {
  // Clustered unit-norm data in 32 dims with exact neighbours from the flat index.
  const dim = 32;
  const n = 1500;
  const data = new Float32Array(n * dim);
  let s = 1;
  const rand = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  const centres = Array.from({ length: 20 }, () => Float32Array.from({ length: dim }, rand));
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) data[r * dim + j] = centres[r % 20]![j]! * 3 + rand();

  it.each(["cosine", "dot", "l2"] as const)("%s: every kind agrees with the flat index on most neighbours", async (distanceType) => {
    const exact = await buildIndex(kernels, "FLAT", data, dim, undefined, { distanceType });
    const q = data.slice(5 * dim, 6 * dim).map((v, i) => v + (i % 2 ? 0.05 : -0.05));
    const truth = await exact.search(q, K);
    if (distanceType === "cosine") {
      // 1 − cos, computed directly.
      const x = data.subarray(truth.positions[0]! * dim, (truth.positions[0]! + 1) * dim);
      let dot = 0, qq = 0, xx = 0;
      for (let j = 0; j < dim; j++) [dot, qq, xx] = [dot + q[j]! * x[j]!, qq + q[j]! ** 2, xx + x[j]! ** 2];
      expect(truth.distances[0]).toBeCloseTo(1 - dot / Math.sqrt(qq * xx), 5);
    }
    for (const kind of KINDS.slice(1)) {
      const index = await buildIndex(kernels, kind, data, dim, undefined, { distanceType, numPartitions: 8, numSubVectors: 8, m: 8, efConstruction: 40 });
      const hits = await index.search(q, K, { nprobes: 8, ef: 64, refineFactor: 4, fetchVectors: async (rows) => Float32Array.from(Array.from(rows).flatMap((r) => Array.from(data.subarray(r * dim, (r + 1) * dim)))) });
      const overlap = Array.from(hits.rows).filter((r) => truth.rows.includes(r)).length;
      expect(overlap, `${kind} ${distanceType}`).toBeGreaterThanOrEqual(8);
      index.free();
    }
    exact.free();
  });
});

describe("building", () => {
  it("is deterministic for a seed and reports progress", async () => {
    for (const kind of ["IVF_PQ", "HNSW_SQ"] as const) {
      const phases = new Map<string, { done: number; total: number }>();
      const a = await buildIndex(kernels, kind, base, DIM, rowIds, { ...OPTIONS, progress: (p) => phases.set(p.phase, p) });
      const b = await buildIndex(kernels, kind, base, DIM, rowIds, OPTIONS);
      expect(await a.serialize()).toEqual(await b.serialize());
      const last = kind === "IVF_PQ" ? phases.get("encode")! : phases.get("insert")!;
      expect(last.done).toBe(N);
      expect(last.total).toBe(N);
      expect([...phases.keys()]).toEqual(kind === "IVF_PQ" ? ["sample", "kmeans", "train-pq", "encode"] : ["train-sq", "insert"]);
      a.free();
      b.free();
    }
  });

  it("rejects options it cannot honour", async () => {
    const bad: [IndexKind, BuildOptions][] = [
      ["IVF_PQ", { numSubVectors: 30 }], // does not divide 128
      ["IVF_PQ", { numBits: 2 }],
      ["IVF_FLAT", { numPartitions: 0 }],
      ["HNSW", { m: 0 }],
      ["FLAT", { distanceType: "manhattan" as never }],
    ];
    for (const [kind, options] of bad) {
      await expect(buildIndex(kernels, kind, base, DIM, rowIds, options)).rejects.toSatisfy((e) => isQuiverError(e, "INVALID_ARGUMENT"));
    }
    await expect(buildIndex(kernels, "FLAT", base.subarray(0, 100), DIM)).rejects.toSatisfy((e) => isQuiverError(e, "DIMENSION_MISMATCH"));
    expect(() => openIndex(kernels, new Uint8Array(64))).toThrow(expect.objectContaining({ code: "CORRUPT_FILE" }));
  });
});
