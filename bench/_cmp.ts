// Interleaved min-of-N timing of cached indexes: npx tsx bench/_cmp.ts file1:opts file2:opts ...
import { readFileSync } from "node:fs";
import { loadKernels } from "../src/kernels/index.js";
import { openIndex } from "../src/ann/index.js";
import { loadGlove, recallAtK } from "./datasets.js";
const d = loadGlove("cosine");
const k = await loadKernels();
const dim = 100;
const base = d.base.data;
const fetchVectors = async (rows: Float64Array) => { const out = new Float32Array(rows.length * dim); for (let i = 0; i < rows.length; i++) out.set(base.subarray(rows[i]! * dim, (rows[i]! + 1) * dim), i * dim); return out; };
const configs = process.argv.slice(2).map((a) => { const [file, opts] = a.split("@"); return { file: file!, opts: { ...JSON.parse(opts ?? "{}"), fetchVectors }, index: openIndex(k, readFileSync(file!)) }; });
const best = configs.map(() => Infinity); const recall: number[] = [];
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };
for (let round = 0; round < 5; round++) {
  for (const [i, c] of configs.entries()) {
    const found: number[][] = [];
    const t = cpu();
    for (let q = 0; q < d.queries.n; q++) found.push(Array.from((await c.index.search(d.queries.data.subarray(q * dim, (q + 1) * dim), 10, c.opts)).rows));
    best[i] = Math.min(best[i]!, (cpu() - t) / d.queries.n);
    recall[i] = recallAtK(found, d.groundTruth, 10);
  }
}
configs.forEach((c, i) => console.log(`${c.index.kind} ${JSON.stringify({ ...c.opts, fetchVectors: undefined })} recall ${recall[i]!.toFixed(4)} ms/q ${best[i]!.toFixed(3)} QPS ${Math.round(1000 / best[i]!)}`));
