import { buildIndex } from "./src/ann/index.js";
import { loadKernels } from "./src/kernels/index.js";
import { loadSiftSmall, loadGlove, recallAtK } from "./bench/datasets.js";
const kernels = await loadKernels();
async function run(name: string, base: Float32Array, dim: number, queries: Float32Array, nq: number, truth: number[][], metric: "l2" | "cosine") {
  const fetchVectors = async (rows: Float64Array) => { const out = new Float32Array(rows.length * dim); rows.forEach((r, i) => out.set(base.subarray(r * dim, (r + 1) * dim), i * dim)); return out; };
  for (const bits of [8, 4] as const) {
    const t0 = Date.now();
    const index = await buildIndex(kernels, "IVF_PQ", base, dim, undefined, { distanceType: metric, numBits: bits });
    const build = Date.now() - t0;
    const line: string[] = [];
    for (const refineFactor of [1, 4, 10]) {
      const found: number[][] = [];
      for (let q = 0; q < nq; q++) found.push(Array.from((await index.search(queries.subarray(q * dim, (q + 1) * dim), 10, { nprobes: 20, refineFactor, fetchVectors })).rows));
      let hit = 0; found.forEach((f, q) => { const gt = new Set(truth[q]!.slice(0, 10)); for (const id of f) if (gt.has(id)) hit++; });
      line.push(`refine ${refineFactor}: ${(hit / (nq * 10)).toFixed(3)}`);
    }
    console.log(name, "bits", bits, JSON.stringify(index.stats().params), "mem", index.stats().memoryBytes, "build ms", build, line.join(", "));
    index.free();
  }
}
const s = loadSiftSmall();
const gt = Array.from({ length: s.queries.n }, (_, q) => Array.from(s.groundTruth.data.subarray(q * s.groundTruth.dim, q * s.groundTruth.dim + 10)));
await run("siftsmall", s.base.data, s.base.dim, s.queries.data, s.queries.n, gt, "l2");
const g = loadGlove("cosine");
const n = 20000, dim = g.base.dim, nq = 100;
const base = g.base.data.slice(0, n * dim);
const flat = await buildIndex(kernels, "FLAT", base, dim, undefined, { distanceType: "cosine" });
const ggt: number[][] = [];
for (let q = 0; q < nq; q++) ggt.push(Array.from((await flat.search(g.queries.data.subarray(q * dim, (q + 1) * dim), 10)).rows));
await run("glove20k", base, dim, g.queries.data, nq, ggt, "cosine");
