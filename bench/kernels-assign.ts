/**
 * The nearest-centroid kernel (kmeans_assign, through assignNearest) alone: the step that takes
 * most of an IVF build (k-means iterations over the sample, then every row's partition). Shapes of
 * the benchmarks' builds: 384-d × 1,000 centroids (the 1M Chromium table), glove's 100-d × 316,
 * 128-d × 256, and a PQ-like 50-d × 64. Prints ms per call, GFLOP/s (2·n·k·dim per call) and a digest
 * of the assignments and distances: a kernel change that must keep the output prints the same one.
 * Run: npx tsx bench/kernels-assign.ts   (not a test; numbers vary by machine)
 */
import { createHash } from "node:crypto";
import { loadKernels } from "../src/kernels/loader.js";
import { assignNearest } from "../src/kernels/quantize.js";

const kernels = await loadKernels();
/** Uniform values in [−0.5, 0.5) from a seeded linear congruential generator. */
const values = (n: number, seed: number): Float32Array => {
  let a = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a * 1103515245 + 12345) >>> 0;
    out[i] = a / 2 ** 32 - 0.5;
  }
  return out;
};
for (const [dim, k, n] of [[384, 1000, 8000], [100, 316, 40_000], [128, 256, 40_000], [50, 64, 40_000]] as const) {
  const x = values(n * dim, 1);
  const c = values(k * dim, 2);
  for (const metric of ["l2", "dot"] as const) {
    let result = assignNearest(kernels, x, dim, c, metric);
    const t = performance.now();
    for (let rep = 0; rep < 3; rep++) result = assignNearest(kernels, x, dim, c, metric);
    const ms = (performance.now() - t) / 3;
    const digest = createHash("sha256").update(new Uint8Array(result.assign.buffer)).update(new Uint8Array(result.dist.buffer)).digest("hex").slice(0, 12);
    console.log(`${dim}-d × ${k} centroids, ${n} rows, ${metric}: ${ms.toFixed(1)} ms, ${((2 * n * k * dim) / ms / 1e6).toFixed(1)} GFLOP/s, output ${digest}`);
  }
}
