/**
 * `npm run bench -- table-paths [repo]`: p50 latency of the table API paths issue 10 changed —
 * exact search (100K glove, with and without 1 % deleted rows), IVF_PQ with refine and HNSW_SQ
 * (30K glove) — for before/after comparisons: run it against two checkouts, alternating, on the
 * same machine (`repo` defaults to this one).
 */
import { fileURLToPath } from "node:url";

const root = process.argv[2] ?? fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const { connect, Index } = await import(`${root}/src/index.js`);
const { loadGlove } = await import(`${root}/bench/datasets.js`);
const ds = loadGlove();
const dim = ds.base.dim;
const out: Record<string, number> = {};
const p50 = async (q: (v: Float32Array) => { toArray(): Promise<unknown[]> }, nq = 300) => {
  for (let i = 0; i < 30; i++) await q(ds.queries.data.subarray(i * dim, (i + 1) * dim)).toArray();
  const lat: number[] = [];
  for (let r = 0; r < 2; r++) for (let i = 0; i < nq; i++) { const s = performance.now(); await q(ds.queries.data.subarray(i * dim, (i + 1) * dim)).toArray(); lat.push(performance.now() - s); }
  lat.sort((a, b) => a - b);
  return Number(lat[lat.length >> 1]!.toFixed(3));
};
{
  const db = await connect("memory://");
  const t = await db.createTable("g", Array.from({ length: ds.base.n }, (_, i) => ({ id: i, vector: ds.base.data.subarray(i * dim, (i + 1) * dim) })));
  out.exact100k = await p50((v) => t.search(v).distanceType("cosine").select(["id"]).limit(10), 100);
  await t.delete("id % 100 = 37");
  out.exact100k_1pct_deleted = await p50((v) => t.search(v).distanceType("cosine").select(["id"]).limit(10), 100);
}
const n = 30000;
const db = await connect("memory://");
const t = await db.createTable("g", Array.from({ length: n }, (_, i) => ({ id: i, vector: ds.base.data.subarray(i * dim, (i + 1) * dim) })));
for (const [name, config, q] of [
  ["ivf_pq_30k", Index.ivfPq({ numPartitions: 173, numSubVectors: 25, distanceType: "cosine" }), (v: Float32Array) => t.search(v).distanceType("cosine").nprobes(30).refineFactor(6).select(["id"]).limit(10)],
  ["hnsw_sq_30k", Index.hnswSq({ m: 16, efConstruction: 60, distanceType: "cosine" }), (v: Float32Array) => t.search(v).distanceType("cosine").ef(72).select(["id"]).limit(10)],
] as const) {
  await t.createIndex("vector", { config, replace: true });
  out[name] = await p50(q);
}
await t.delete("id % 100 = 37");
out.hnsw_sq_30k_1pct_deleted = await p50((v) => t.search(v).distanceType("cosine").ef(72).select(["id"]).limit(10));
console.log(JSON.stringify({ repo: root, p50_ms: out }));
