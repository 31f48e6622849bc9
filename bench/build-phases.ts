/**
 * Where an index build's time goes, phase by phase, on a scan pool of 1 or more workers: wall time,
 * CPU time of this (coordinating) thread and CPU time of the pool's workers in each phase. Linux
 * only: thread CPU comes from /proc/self/task/<tid>/schedstat (nanoseconds on the CPU), which a
 * loaded machine barely disturbs — unlike wall time. The coordinator's CPU is the build's serial
 * part (it computes only while the workers wait, or between their steps); the workers' is the
 * parallel part. Amdahl: on w workers the build takes at least serial + parallel / w.
 *
 *   npx tsx bench/build-phases.ts --kind=HNSW --workers=1,2 [--transport=shared|message] [--n=100000] [--repeat=1]
 *
 * Data: glove-100d-100k (cosine), the first n rows. Prints a table per run; writes nothing.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { buildIndex } from "../src/ann/index.js";
import type { BuildProgress, IndexKind } from "../src/ann/types.js";
import { createScanPool, type ScanPool } from "../src/pool/pool.js";
import { startTsWorker } from "../test/unit/worker-harness.js";
import { loadGlove, recallAtK } from "./datasets.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const KIND = arg("kind", "HNSW") as IndexKind;
const WORKERS = arg("workers", "1,2").split(",").map(Number);
const TRANSPORT = arg("transport", "shared") as "shared" | "message";
const N = Number(arg("n", "100000"));
const REPEAT = Number(arg("repeat", "1"));
const RECALL = args.includes("--recall");

/** A pool worker that first tells the coordinator its thread id, then serves the pool. */
const TID_WORKER = `data:text/javascript,${encodeURIComponent(
  `import { readlinkSync } from "node:fs"; import { parentPort } from "node:worker_threads";` +
  `parentPort.postMessage({ tid: Number(readlinkSync("/proc/thread-self").split("/").pop()) });` +
  `await import(${JSON.stringify(new URL("../src/pool/pool-node-worker.ts", import.meta.url).href)});`,
)}`;

function threadNs(tid: number): number {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
  } catch {
    return 0;
  }
}

function allThreadsNs(): number {
  let total = 0;
  for (const t of readdirSync("/proc/self/task")) total += threadNs(Number(t));
  return total;
}

const mainTid = Number(readlinkSync("/proc/thread-self").split("/").pop());

interface Mark {
  at: number;
  main: number;
  workers: number;
  all: number;
}

async function run(workers: number): Promise<void> {
  const tids: number[] = [];
  const pool: ScanPool | undefined = workers > 0
    ? await createScanPool({
      workers, transport: TRANSPORT,
      createWorker: () => {
        const w = startTsWorker(TID_WORKER);
        w.on("message", (m: { tid?: number }) => m.tid !== undefined && tids.push(m.tid));
        return w;
      },
    })
    : undefined;
  const ds = loadGlove("cosine");
  const dim = ds.base.dim;
  const base = ds.base.data.subarray(0, N * dim);
  const mark = (): Mark => ({ at: performance.now(), main: threadNs(mainTid), workers: tids.reduce((s, t) => s + threadNs(t), 0), all: allThreadsNs() });
  const phases: { phase: string; from: Mark; to?: Mark }[] = [];
  let current = "";
  const progress = (p: BuildProgress): void => {
    if (p.phase === current) return;
    const now = mark();
    if (phases.length > 0) phases[phases.length - 1]!.to = now;
    phases.push({ phase: p.phase, from: now });
    current = p.phase;
  };
  const kernels = pool ? pool.kernels : await (await import("../src/kernels/index.js")).loadKernels({ flavor: "simd" });
  const start = mark();
  phases.push({ phase: "setup", from: start });
  current = "setup";
  // This thread's CPU while a row task is in the workers' hands: serial work hidden behind theirs.
  // And the workers' time off the CPU while they held one (workers × wall − their CPU): the
  // barrier at its end (a worker done while another finishes its last range), the messages to
  // start and end it, and any time the OS gave their core to another thread or process.
  let hidden = 0;
  let tasks = 0;
  let offCpu = 0;
  const parallel = pool?.rowParallel();
  if (parallel) {
    const runRows = parallel.runRows;
    parallel.runRows = (task, rows) => {
      const before = threadNs(mainTid);
      const started = { at: performance.now(), workers: tids.reduce((s, t) => s + threadNs(t), 0) };
      return runRows(task, rows).finally(() => {
        hidden += threadNs(mainTid) - before;
        tasks++;
        const cpu = tids.reduce((s, t) => s + threadNs(t), 0) - started.workers;
        offCpu += workers * (performance.now() - started.at) * 1e6 - cpu;
      });
    };
  }
  const index = await buildIndex(kernels, KIND, base, dim, undefined, {
    distanceType: "cosine", numPartitions: Math.round(Math.sqrt(N)), numSubVectors: dim / 4, m: 16, efConstruction: 100,
    progress, ...(parallel ? { parallel } : {}),
  });
  const end = mark();
  phases[phases.length - 1]!.to = end;
  const ms = (ns: number): string => (ns / 1e6).toFixed(0).padStart(7);
  console.log(`\n${KIND} n=${N} ${workers} worker(s) ${pool ? pool.transport : "(no pool, this thread)"}: wall ${((end.at - start.at) / 1000).toFixed(2)} s`);
  console.log("phase        wall ms  main cpu ms  workers cpu ms  other threads ms");
  for (const p of phases) {
    const t = p.to!;
    const other = t.all - p.from.all - (t.main - p.from.main) - (t.workers - p.from.workers);
    console.log(`${p.phase.padEnd(10)} ${(t.at - p.from.at).toFixed(0).padStart(8)} ${ms(t.main - p.from.main).padStart(12)} ${ms(t.workers - p.from.workers).padStart(15)} ${ms(other).padStart(17)}`);
  }
  const serial = end.main - start.main;
  const work = end.workers - start.workers;
  console.log(`total      ${(end.at - start.at).toFixed(0).padStart(8)} ${ms(serial).padStart(12)} ${ms(work).padStart(15)}`);
  const exposed = serial - hidden;
  console.log(`coordinator CPU while the workers held a row task (hidden): ${ms(hidden).trim()} ms; exposed serial ${ms(exposed).trim()} ms = ${((100 * exposed) / (serial + work)).toFixed(1)} % of all CPU`);
  if (tasks > 0) console.log(`${tasks} row tasks; the workers' time off the CPU while holding them (barrier tails, messages, descheduling): ${ms(offCpu).trim()} ms = ${((100 * offCpu) / work).toFixed(1)} % of their CPU`);
  // On 2 cores the hidden work shares them with 2 workers: their part and it split two ways.
  console.log(`bounds on 2 cores from CPU (ideal split, no waits): 1 worker ≥ ${((exposed + Math.max(hidden, work)) / 1e9).toFixed(2)} s, ` +
    `2 workers ≥ ${((exposed + Math.max(hidden, (hidden + work) / 2)) / 1e9).toFixed(2)} s; all of it on one thread ${((serial + work) / 1e9).toFixed(2)} s`);
  if (RECALL) {
    const nq = 1000;
    const found: number[][] = [];
    for (let q = 0; q < nq; q++) {
      const hits = await index.search(ds.queries.data.subarray(q * dim, (q + 1) * dim), 10, KIND === "HNSW" ? { ef: 64 } : { nprobes: 20, refineFactor: 4, fetchVectors: async (rows) => {
        const out = new Float32Array(rows.length * dim);
        rows.forEach((r, i) => out.set(base.subarray(r * dim, (r + 1) * dim), i * dim));
        return out;
      } });
      found.push(Array.from(hits.rows));
    }
    console.log(`recall@10 (${KIND === "HNSW" ? "ef 64" : "nprobes 20, refine 4"}, ${nq} queries): ${recallAtK(found, ds.groundTruth, 10).toFixed(4)}`);
  }
  index.free();
  await pool?.close();
}

for (let r = 0; r < REPEAT; r++) for (const w of WORKERS) await run(w);
