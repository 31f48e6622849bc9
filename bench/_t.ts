import { loadKernels } from "../src/kernels/index.js";
import { buildIndex } from "../src/ann/index.js";
import { loadSiftSmall } from "./datasets.js";
const d = loadSiftSmall();
const k = await loadKernels();
const base = d.base.data.subarray(0, 2000 * 128);
for (const kind of ["IVF_PQ", "HNSW_SQ", "HNSW_PQ", "IVF_SQ"] as const) {
  const t = performance.now(); const c = process.cpuUsage();
  const phases: string[] = []; let last = ""; let ts = performance.now();
  await buildIndex(k, kind, base, 128, undefined, { numPartitions: 16, m: 8, efConstruction: 40, numSubVectors: 32, seed: 7, progress: (p) => { if (p.phase !== last) { phases.push(`${last} ${(performance.now() - ts).toFixed(0)}`); last = p.phase; ts = performance.now(); } } });
  const u = process.cpuUsage(c);
  console.log(kind, (performance.now() - t).toFixed(0), "ms wall", ((u.user + u.system) / 1000).toFixed(0), "ms cpu", phases.join(", "));
}
