import { loadKernels } from "../src/kernels/index.js";
import { kmeans } from "../src/ann/kmeans.js";
import { loadGlove, loadSiftSmall } from "./datasets.js";
import { normalizeRows, sampleRows, gatherRows, seededRandom } from "../src/ann/common.js";
const k = await loadKernels();
for (const name of ["glove", "sift"]) {
  const d = name === "glove" ? loadGlove("cosine") : loadSiftSmall();
  const dim = d.base.dim;
  const x = name === "glove" ? normalizeRows(d.base.data.slice(), dim) : d.base.data;
  const nl = Math.round(Math.sqrt(d.base.n));
  const rows = sampleRows(d.base.n, nl * 256, seededRandom(42));
  const block = k.upload(gatherRows(x, dim, rows), dim);
  let prev = Infinity; const deltas: string[] = [];
  for (let it = 1; it <= 40; it += 1) {
    const r = kmeans(k, block, dim, { k: nl, metric: name === "glove" ? "dot" : "l2", spherical: name === "glove", maxIterations: it, tolerance: 0 });
    if (it % 3 === 1 || it < 6) deltas.push(`${it}:${((prev - r.objective) / r.objective).toExponential(1)}`);
    prev = r.objective;
    if (it > 20) break;
  }
  console.log(name, deltas.join(" "));
}
