import { loadKernels } from "../src/kernels/index.js";
import { kmeans } from "../src/ann/kmeans.js";
import { ProductQuantizer } from "../src/ann/pq.js";
import { loadGlove } from "./datasets.js";
import { normalizeRows } from "../src/ann/common.js";
const k = await loadKernels();
const d = loadGlove("cosine");
const x = normalizeRows(d.base.data.slice(0, 65536 * 100), 100);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };
const block = k.upload(x, 100);
for (const it of [50]) {
  const t = cpu();
  const r = kmeans(k, block, 100, { k: 256, metric: "l2", maxIterations: it, columns: { offset: 0, width: 4 } });
  console.log("subspace iterations", r.iterations, "ms", (cpu() - t).toFixed(0));
}
let t = cpu();
const pq = ProductQuantizer.train(k, x, 100, { numSubVectors: 25, maxIterations: 50 });
console.log("PQ train ms", (cpu() - t).toFixed(0));
t = cpu();
pq.encode(k, d.base.data);
console.log("PQ encode 100K ms", (cpu() - t).toFixed(0));
