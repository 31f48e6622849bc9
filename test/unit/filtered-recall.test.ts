/**
 * Filtered ANN on real data (glove-100d-100k, cosine): at selectivities 0.1 %, 1 %, 10 % and 50 %
 * a prefiltered top-10 returns 10 rows with recall@10 ≥ 0.95 against exact filtered search, for
 * IVF_PQ and HNSW_SQ through the table API with a BTREE on the filter column. The planner sends
 * few matching rows to an exact scan and many through the index with the filter as a bitmap
 * inside it; the index-level half checks the second path for every IVF and HNSW kind at 1, 10
 * and 50 %, where the table would have sent some of them to the first.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { buildIndex, type BuildOptions } from "../../src/ann/index.js";
import { seededRandom } from "../../src/ann/common.js";
import type { IndexKind, SearchOptions } from "../../src/ann/types.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { connect, Index, type Table } from "../../src/index.js";
import { hasData, loadGlove } from "../../bench/datasets.js";

const N = 50_000;
const K = 10;
const QUERIES = 40;
const SELECTIVITY: [string, number][] = [["0.1%", 1], ["1%", 10], ["10%", 100], ["50%", 500]];

describe.skipIf(!hasData("glove-100d-100k"))("filtered ANN recall on glove-100d-100k", () => {
  const data = hasData("glove-100d-100k") ? loadGlove("cosine") : undefined!;
  const dim = data?.base.dim;
  const vectors = data?.base.data.subarray(0, N * dim);
  // A category per row in 0..999, shuffled so it does not follow the file's word-frequency order.
  const rand = seededRandom(12);
  const cat = Int32Array.from({ length: N }, (_, i) => i % 1000);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [cat[i], cat[j]] = [cat[j]!, cat[i]!];
  }
  const query = (q: number): Float32Array => data.queries.data.subarray(q * dim, (q + 1) * dim);

  async function tableWith(config: ReturnType<typeof Index.ivfPq>): Promise<Table> {
    const db = await connect("memory://");
    const rows = Array.from({ length: N }, (_, i) => ({ id: i, cat: cat[i]!, vector: vectors.subarray(i * dim, (i + 1) * dim) }));
    const t = await db.createTable("glove", rows);
    await t.createIndex("cat");
    await t.createIndex("vector", { config });
    return t;
  }

  const cases: [string, () => ReturnType<typeof Index.ivfPq>, SearchOptions][] = [
    ["IVF_PQ", () => Index.ivfPq({ distanceType: "cosine", numPartitions: 224, numSubVectors: 25 }), { nprobes: 30, refineFactor: 6 }],
    ["HNSW_SQ", () => Index.hnswSq({ distanceType: "cosine" }), { ef: 64 }],
  ];
  it.each(cases)("%s through the table: k rows and recall@10 ≥ 0.95 at every selectivity", async (kind, config, params) => {
    const t = await tableWith(config());
    for (const [label, cats] of SELECTIVITY) {
      const where = `cat < ${cats}`;
      let hit = 0;
      for (let q = 0; q < QUERIES; q++) {
        let search = t.search(query(q)).distanceType("cosine").where(where).select(["id"]).limit(K);
        if (params.nprobes) search = search.nprobes(params.nprobes).refineFactor(params.refineFactor!);
        if (params.ef) search = search.ef(params.ef);
        const got = await search.toArray();
        const exact = await t.search(query(q)).distanceType("cosine").where(where).select(["id"]).bypassVectorIndex().limit(K).toArray();
        expect(got, `${kind} ${label}`).toHaveLength(K);
        const want = new Set(exact.map((r) => r.id));
        for (const r of got) if (want.has(r.id)) hit++;
      }
      const recall = hit / (QUERIES * K);
      console.log(`${kind} table, selectivity ${label}: recall@10 ${recall.toFixed(3)}`);
      expect(recall, `${kind} ${label}`).toBeGreaterThanOrEqual(0.95);
    }
  }, 180_000);

  let kernels: Kernels;
  beforeAll(async () => {
    kernels = await loadKernels();
  });
  // Every IVF and HNSW kind (IVF_PQ with 8- and 4-bit codes), each at search settings that reach
  // 0.95 unfiltered on this data: the filter must not cost recall.
  const IVF = { numPartitions: 141 };
  const kinds: [string, IndexKind, BuildOptions, SearchOptions][] = [
    ["IVF_FLAT", "IVF_FLAT", IVF, { nprobes: 30 }],
    ["IVF_SQ", "IVF_SQ", IVF, { nprobes: 30, refineFactor: 4 }],
    ["IVF_PQ", "IVF_PQ", { ...IVF, numSubVectors: 25 }, { nprobes: 30, refineFactor: 6 }],
    ["IVF_PQ 4-bit", "IVF_PQ", { ...IVF, numSubVectors: 50, numBits: 4 }, { nprobes: 30, refineFactor: 10 }],
    ["IVF_RQ", "IVF_RQ", IVF, { nprobes: 40, refineFactor: 20 }],
    ["HNSW", "HNSW", {}, { ef: 64 }],
    ["HNSW_SQ", "HNSW_SQ", {}, { ef: 64 }],
    ["HNSW_PQ", "HNSW_PQ", { numSubVectors: 25 }, { ef: 64, refineFactor: 6 }],
  ];
  it.each(kinds)("%s with the filter as a bitmap inside the index: recall@10 ≥ 0.95 at selectivities of 1, 10 and 50 percent", async (_name, kind, build, params) => {
    const n = 20_000;
    const x = vectors.subarray(0, n * dim);
    const index = await buildIndex(kernels, kind, x, dim, undefined, { distanceType: "cosine", ...build });
    const flat = await buildIndex(kernels, "FLAT", x, dim, undefined, { distanceType: "cosine" });
    const fetchVectors = async (rows: Float64Array): Promise<Float32Array> => {
      const out = new Float32Array(rows.length * dim);
      rows.forEach((r, i) => out.set(x.subarray(r * dim, (r + 1) * dim), i * dim));
      return out;
    };
    try {
      for (const [label, cats] of SELECTIVITY.slice(1)) {
        const bits = new Uint8Array(Math.ceil(n / 8));
        for (let p = 0; p < n; p++) if (cat[p]! < cats) bits[p >> 3]! |= 1 << (p & 7);
        let hit = 0;
        for (let q = 0; q < QUERIES; q++) {
          const got = await index.search(query(q), K, { ...params, allowed: bits, fetchVectors });
          const want = new Set((await flat.search(query(q), K, { allowed: bits })).rows);
          expect(got.rows.length).toBe(K);
          for (const r of got.rows) if (want.has(r)) hit++;
        }
        const recall = hit / (QUERIES * K);
        console.log(`${_name} index with an allowed bitmap, selectivity ${label}: recall@10 ${recall.toFixed(3)}`);
        expect(recall, `${_name} ${label}`).toBeGreaterThanOrEqual(0.95);
      }
    } finally {
      index.free?.();
      flat.free?.();
    }
  }, 120_000);
});
