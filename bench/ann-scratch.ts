/**
 * Quick ANN measurements while developing src/ann (the full peer benchmark is bench/ann.ts):
 * build time, recall@10 against the published ground truth, and single-threaded queries/s.
 * Times are CPU time of this process (user + system), steadier than wall time on a shared machine.
 *
 *   npx tsx bench/ann-scratch.ts <glove|sift> <KIND> [key=value …]
 *     e.g. npx tsx bench/ann-scratch.ts glove IVF_PQ nprobes=20,40 refine=1,4 cache=/tmp/g-ivfpq.qvix
 *          npx tsx bench/ann-scratch.ts glove HNSW_SQ m=16 efConstruction=100 ef=32,64,128 refine=1,2
 *   npx tsx bench/ann-scratch.ts compare <glove|sift> <file>@<json search options> …
 *     indexes cached with cache=<file>, timed side by side: min over 5 interleaved rounds of all queries
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { loadKernels } from "../src/kernels/index.js";
import { buildIndex, openIndex } from "../src/ann/index.js";
import type { IndexKind, SearchOptions } from "../src/ann/types.js";
import { loadGlove, loadSiftSmall, recallAtK } from "./datasets.js";

// CPU time of this process (user + system) in ms.
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

if (process.argv[2] === "compare") {
  const [, , , dataset = "glove", ...specs] = process.argv;
  const data = dataset === "glove" ? loadGlove("cosine") : loadSiftSmall();
  const dim = data.base.dim;
  const kernels = await loadKernels();
  const fetchVectors = async (rows: Float64Array): Promise<Float32Array> => {
    const out = new Float32Array(rows.length * dim);
    for (let i = 0; i < rows.length; i++) out.set(data.base.data.subarray(rows[i]! * dim, (rows[i]! + 1) * dim), i * dim);
    return out;
  };
  const configs = specs.map((spec) => {
    const at = spec.indexOf("@");
    const file = at < 0 ? spec : spec.slice(0, at);
    const options = at < 0 ? {} : (JSON.parse(spec.slice(at + 1)) as SearchOptions);
    return { file, options: { ...options, fetchVectors }, index: openIndex(kernels, readFileSync(file)) };
  });
  const best = configs.map(() => Infinity);
  const recall = configs.map(() => 0);
  for (let round = 0; round < 5; round++) {
    for (const [i, c] of configs.entries()) {
      const found: number[][] = [];
      const start = cpuMs();
      for (let q = 0; q < data.queries.n; q++) found.push(Array.from((await c.index.search(data.queries.data.subarray(q * dim, (q + 1) * dim), 10, c.options)).rows));
      best[i] = Math.min(best[i]!, (cpuMs() - start) / data.queries.n);
      recall[i] = recallAtK(found, data.groundTruth, 10);
    }
  }
  console.log(["kind", "options", "recall@10", "ms/q cpu", "QPS(cpu)"].join("\t"));
  configs.forEach((c, i) => console.log([c.index.kind, JSON.stringify({ ...c.options, fetchVectors: undefined }), recall[i]!.toFixed(4), best[i]!.toFixed(3), Math.round(1000 / best[i]!)].join("\t")));
  process.exit(0);
}

const [dataset = "sift", kind = "IVF_PQ", ...rest] = process.argv.slice(2);
const args = Object.fromEntries(rest.map((a) => a.split("=") as [string, string]));
const list = (name: string, fallback: string): number[] => (args[name] ?? fallback).split(",").map(Number);
const num = (name: string): number | undefined => (args[name] === undefined ? undefined : Number(args[name]));

const data = dataset === "glove" ? loadGlove((args.metric as "cosine" | "l2") ?? "cosine") : loadSiftSmall();
const nq = Math.min(num("queries") ?? data.queries.n, data.queries.n);
const dim = data.base.dim;
const kernels = await loadKernels();
const K = 10;

const t0 = performance.now();
const c0 = cpuMs();
const phases: string[] = [];
let lastPhase = "";
let phaseStart = c0;
// cache=<file>: reuse a serialized index from an earlier run (and check the round trip on the way).
const cached = args.cache && existsSync(args.cache) ? openIndex(kernels, readFileSync(args.cache)) : undefined;
const index = cached ?? await buildIndex(kernels, kind as IndexKind, data.base.data, dim, undefined, {
  distanceType: data.metric,
  numPartitions: num("numPartitions"),
  numSubVectors: num("numSubVectors"),
  sampleRate: num("sampleRate"),
  maxIterations: num("maxIterations"),
  m: num("m"),
  efConstruction: num("efConstruction"),
  residual: args.residual === undefined ? undefined : args.residual !== "false",
  pqIterations: num("pqIterations"),
  pqSampleRows: num("pqSampleRows"),
  progress: (p) => {
    if (p.phase !== lastPhase) {
      const now = cpuMs();
      if (lastPhase) phases.push(`${lastPhase} ${((now - phaseStart) / 1000).toFixed(2)}s`);
      lastPhase = p.phase;
      phaseStart = now;
    }
  },
});
phases.push(`${lastPhase} ${((cpuMs() - phaseStart) / 1000).toFixed(2)}s`);
if (args.cache && !cached) writeFileSync(args.cache, await index.serialize());
const buildMs = performance.now() - t0;
const buildCpu = cpuMs() - c0;
console.log(`${data.name} ${kind} n=${index.size} dim=${dim} build ${(buildMs / 1000).toFixed(2)} s wall, ${(buildCpu / 1000).toFixed(2)} s cpu, memory ${(index.bytes() / 2 ** 20).toFixed(1)} MiB`, JSON.stringify(index.stats().params));
console.log(`  phases (cpu): ${phases.join(", ")}`);

const base = data.base.data;
const fetchVectors = async (rows: Float64Array): Promise<Float32Array> => {
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) out.set(base.subarray(rows[i]! * dim, (rows[i]! + 1) * dim), i * dim);
  return out;
};

const knob = kind.startsWith("IVF") ? "nprobes" : "ef";
const knobs = list(knob, kind.startsWith("IVF") ? "5,10,20,40" : "16,32,64,128");
console.log(["knob", "refine", "recall@10", "QPS(cpu)", "ms/q cpu", "ms/q wall"].join("\t"));
for (const refineFactor of list("refine", "1")) {
  for (const value of knobs) {
    const options: SearchOptions = { [knob]: value, refineFactor, fetchVectors };
    const found: number[][] = [];
    for (let q = 0; q < Math.min(nq, 50); q++) await index.search(data.queries.data.subarray(q * dim, (q + 1) * dim), K, options); // warm-up
    const start = performance.now();
    const cpu = cpuMs();
    for (let q = 0; q < nq; q++) {
      const hits = await index.search(data.queries.data.subarray(q * dim, (q + 1) * dim), K, options);
      found.push(Array.from(hits.rows));
    }
    const ms = (performance.now() - start) / nq;
    const cms = (cpuMs() - cpu) / nq;
    console.log([`${knob}=${value}`, refineFactor, recallAtK(found, data.groundTruth, K).toFixed(4), Math.round(1000 / cms), cms.toFixed(3), ms.toFixed(3)].join("\t"));
  }
}
