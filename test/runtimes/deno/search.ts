// Run by test/runtimes/deno.test.ts under the real Deno binary, straight from the TypeScript
// sources (--sloppy-imports maps our ".js" import specifiers to the ".ts" files).
import { loadKernels } from "../../../src/kernels/index.js";

const dim = 3;
const data = new Float32Array([
  0, 0, 0,
  1, 0, 0,
  0, 2, 0,
  0, 0, 3,
  1, 1, 1,
]);
const results: Record<string, unknown> = {};
for (const flavor of ["auto", "scalar"] as const) {
  const kernels = await loadKernels({ flavor });
  const block = kernels.upload(data, dim);
  const hits = kernels.search("l2", [0.9, 0.1, 0], [{ block }], dim, 3);
  results[flavor] = { flavor: kernels.flavor, rows: Array.from(hits.row), distances: Array.from(hits.distance, (d) => Math.round(d * 1000) / 1000) };
  block.free();
}
const deno = (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno;
console.log(JSON.stringify({ runtime: "deno", version: deno.version.deno, results }));
