/**
 * `npm run bench -- parallel [--quick]`: exact search split across worker threads (src/pool/pool.ts).
 *
 * 1. Exact top-10 cosine search, in-thread (`Kernels.searchBatch`) and through a ScanPool with 1
 *    and 2 workers over both transports (shared WebAssembly memory; message passing with a copy
 *    of the block in each worker), on glove-100d-100k (real, 1,000 queries) and a synthetic
 *    100K × 384 set (the generator and seed of bench/exact.ts). Single queries (latency) and
 *    batches of 32 (throughput). The runners take turns in chunks so machine noise hits all alike;
 *    every pool answer is checked against the in-thread one.
 * 2. The worker hop: round-trip of a small query (top-10 over 1,000 rows) in-thread vs through the
 *    comlink worker API (`connectWorker`), and kernels vs the scan pool, back to back per query.
 *
 * Each pool row also counts how its searches were cut and run (ScanPoolOptions.onScan): chunks per
 * search, chunk scans that were copies backing up a late worker (and how many of those answered),
 * the share of chunks the busier worker answered, and the median tail (from the first start of the
 * chunk that started last to the answer).
 *
 * `--background-load`: a busy-loop process runs beside the scan rows (one core taken, as when the
 * OS gives a worker's core to another program), to measure the work-stealing split under load;
 * rows are marked `background: "1 busy process"`. `--rows=N` keeps the first N rows of each data
 * set (smoke runs); `--batch-only` runs only the batches of 32 and prints the table instead of
 * writing it (quick before/after comparisons). Writes bench/results/parallel.json and .md
 * (parallel-load.* with the load).
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Worker } from "node:worker_threads";
import type { Kernels, SearchResult, VectorBlock } from "../src/kernels/index.js";
import type { ScanPool, ScanReport, ScanTransport } from "../src/pool/pool.js";
import { startTsWorker } from "../test/unit/worker-harness.js";
import { loadGlove, syntheticClusters } from "./datasets.js";
import { cpuWindow, machineInfo, median, p99, progress, renderMarkdown, round, sig, writeResults, type ResultRow } from "./report.js";

const K = 10;
const BATCH = 32;
const CHUNK = 64;
const QUICK = process.argv.includes("--quick");
const LOAD = process.argv.includes("--background-load");
/** `--chunk-elements=N`: the pools' chunk size (rows × dim × queries; default the pool's own). */
const CHUNK_ELEMENTS = ((v) => (v === undefined ? undefined : Number(v)))(process.argv.find((a) => a.startsWith("--chunk-elements="))?.slice(17));
const ROWS = Number(process.argv.find((a) => a.startsWith("--rows="))?.slice(7) ?? Infinity);
/** `--batch-only`: batches of 32 only (no single queries, no hop rows); prints the table, writes nothing. */
const BATCH_ONLY = process.argv.includes("--batch-only");
const poolWorker = new URL("../src/pool/pool-node-worker.ts", import.meta.url).href;
const tableWorker = new URL("../src/worker/node-worker.ts", import.meta.url).href;

interface Dataset {
  name: string;
  description: string;
  n: number;
  dim: number;
  base: Float32Array;
  queries: Float32Array[];
}

function rows(data: Float32Array, dim: number, limit: number): Float32Array[] {
  return Array.from({ length: Math.min(limit, data.length / dim) }, (_, i) => data.slice(i * dim, (i + 1) * dim));
}

function loadDatasets(): Dataset[] {
  const g = loadGlove("cosine");
  const s = syntheticClusters({ n: Math.min(100_000, ROWS), dim: 384, queries: QUICK ? 64 : 256, clusters: 100, spread: 0.5, seed: 42 });
  const gn = Math.min(g.base.n, ROWS);
  return [
    {
      name: "glove-100d-100k", n: gn, dim: g.base.dim, base: g.base.data.subarray(0, gn * g.base.dim), queries: rows(g.queries.data, g.queries.dim, QUICK ? 128 : 1000),
      description: "Real data: 100,000 GloVe word vectors (100-d, 40 MB of f32), the published query words.",
    },
    {
      name: "synthetic-100k-384d", n: s.base.n, dim: s.base.dim, base: s.base.data, queries: rows(s.queries.data, s.queries.dim, QUICK ? 64 : 256),
      description: "**Synthetic** (in addition to the real set): 100,000 × 384 float32 (154 MB), bench/exact.ts's generator — 100 seeded Gaussian clusters, spread 0.5, seed 42, L2-normalized.",
    },
  ];
}

interface Runner {
  variant: string;
  transport: "in-thread" | ScanTransport;
  workers: number;
  /** The pool's onScan reports (pool runners), and the searches made since they were cleared. */
  reports?: ScanReport[];
  calls?: number;
  search(queries: Float32Array[]): Promise<SearchResult[]> | SearchResult[];
}

interface Timing {
  latencies: number[];
  wallMs: number;
  cpuMs: number;
  othersMs: number;
  results: SearchResult[];
}

/** Runs every runner over all queries in calls of `batch`, taking turns chunk by chunk (first runner rotating). */
async function interleaved(runners: Runner[], queries: Float32Array[], batch: number, warmedUp?: () => Promise<void>): Promise<Timing[]> {
  const out = runners.map((): Timing => ({ latencies: [], wallMs: 0, cpuMs: 0, othersMs: 0, results: [] }));
  for (const r of runners) await r.search(queries.slice(0, Math.min(batch, queries.length))); // warm-up
  await warmedUp?.();
  const chunk = Math.max(CHUNK, batch * 2);
  for (let from = 0, turn = 0; from < queries.length; from += chunk, turn++) {
    for (let j = 0; j < runners.length; j++) {
      const i = (j + turn) % runners.length;
      const t = out[i]!;
      const end = cpuWindow();
      for (let at = from; at < Math.min(queries.length, from + chunk); at += batch) {
        const group = queries.slice(at, Math.min(queries.length, from + chunk, at + batch));
        const t0 = performance.now();
        const res = await runners[i]!.search(group);
        t.latencies.push(performance.now() - t0);
        t.results.push(...res);
      }
      const w = end();
      t.wallMs += w.wallMs;
      t.cpuMs += w.ownCpuMs;
      t.othersMs += w.othersCpuMs;
    }
  }
  return out;
}

function same(a: SearchResult[], b: SearchResult[]): boolean {
  return a.length === b.length && a.every((r, i) => {
    const s = b[i]!;
    return r.row.length === s.row.length && r.row.every((x, j) => x === s.row[j] && r.distance[j] === s.distance[j] && r.target[j] === s.target[j]);
  });
}

/** Counts over a runner's onScan reports (see the header). */
function scanCounts(reports: ScanReport[]): Record<string, number> {
  if (reports.length === 0) return {};
  const n = reports.length;
  const scans = reports.flatMap((r) => r.scans);
  const byWorker = new Map<number, number>();
  for (const x of scans) if (x.used) byWorker.set(x.worker, (byWorker.get(x.worker) ?? 0) + 1);
  const used = scans.filter((x) => x.used).length;
  return {
    chunks_per_search: round(reports.reduce((a, r) => a + r.chunks, 0) / n, 1),
    copies_per_search: round(scans.filter((x) => x.copy).length / n, 2),
    copies_used_per_search: round(scans.filter((x) => x.copy && x.used).length / n, 2),
    busier_worker_share: round(Math.max(...byWorker.values()) / used, 2),
    tail_ms_p50: sig(median(reports.map((r) => r.tailMs))),
  };
}

async function scanRows(ds: Dataset, kernels: Kernels, pools: Map<string, ScanPool>, reports: Map<ScanPool, ScanReport[]>): Promise<ResultRow[]> {
  const block = kernels.upload(ds.base, ds.dim);
  const blocks = new Map<ScanPool, VectorBlock>();
  for (const pool of pools.values()) blocks.set(pool, pool.transport === "shared" ? pool.kernels.upload(ds.base, ds.dim) : block);
  const runners: Runner[] = [
    { variant: "in-thread", transport: "in-thread", workers: 1, search: (qs) => kernels.searchBatch("cosine", qs, [{ block }], ds.dim, K) },
    ...[...pools.entries()].map(([name, pool]): Runner => {
      const runner: Runner = {
        variant: name, transport: pool.transport, workers: pool.size, reports: reports.get(pool), calls: 0,
        search: (qs) => {
          runner.calls!++;
          return pool.searchBatch("cosine", qs, [{ block: blocks.get(pool)! }], ds.dim, K);
        },
      };
      return runner;
    }),
  ];
  const out: ResultRow[] = [];
  for (const batch of BATCH_ONLY ? [BATCH] : [1, BATCH]) {
    progress(`${ds.name} · ${batch === 1 ? "single queries" : `batches of ${batch}`} · ${runners.map((r) => r.variant).join(", ")}`);
    const timings = await interleaved(runners, ds.queries, batch, async () => {
      // After the warm-up: every worker holds the block and has answered; count from here.
      await settleReports(runners);
      for (const r of runners) {
        r.reports?.splice(0);
        r.calls = 0;
      }
    });
    await settleReports(runners);
    const reference = timings[0]!.results;
    const qps = timings.map((t) => (ds.queries.length * 1000) / t.wallMs);
    runners.forEach((r, i) => {
      const t = timings[i]!;
      const one = runners.findIndex((x) => x.transport === r.transport && x.workers === 1);
      out.push({
        system: "quiver", variant: `${r.variant}${batch > 1 ? "-batch" : ""}`, dataset: ds.name, metric: "cosine",
        params: { k: K, n: ds.n, dim: ds.dim, queries: ds.queries.length, transport: r.transport, workers: r.workers, batch, ...(LOAD ? { background: "1 busy process" } : {}) },
        qps: sig(qps[i]!), p50_ms: sig(median(t.latencies)), p99_ms: sig(p99(t.latencies)),
        latency_per: batch === 1 ? "query" : `batch of ${batch}`,
        speedup: round(qps[i]! / qps[one]!, 2), speedup_vs_in_thread: round(qps[i]! / qps[0]!, 2),
        cpu_util: round(t.cpuMs / t.wallMs, 2), cpu_ms_per_search: sig(t.cpuMs / t.latencies.length), others_cores: round(t.othersMs / t.wallMs, 2),
        identical_to_in_thread: same(t.results, reference),
        ...scanCounts(r.reports ?? []),
      });
    });
  }
  block.free();
  for (const [pool, b] of blocks) {
    if (b !== block) b.free();
    pool.release(block);
  }
  return out;
}

/**
 * Waits (up to 5 s) until every pooled search has been reported: a report comes once every worker
 * of the search answered, so a late worker's comes after the answer.
 */
async function settleReports(runners: Runner[]): Promise<void> {
  const until = performance.now() + 5000;
  const pending = () => runners.some((r) => r.reports !== undefined && r.reports.length < (r.calls ?? 0));
  while (pending() && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
}

/** Per-query back-to-back pairs (alternating which goes first): a vs b, and the difference of medians of pairs. */
async function pairs(n: number, a: (i: number) => Promise<unknown> | unknown, b: (i: number) => Promise<unknown> | unknown): Promise<{ a: number[]; b: number[]; diff: number[] }> {
  const res = { a: [] as number[], b: [] as number[], diff: [] as number[] };
  for (let i = 0; i < 20; i++) {
    await a(i);
    await b(i);
  }
  for (let i = 0; i < n; i++) {
    const time = async (f: (i: number) => unknown) => {
      const t = performance.now();
      await f(i);
      return performance.now() - t;
    };
    let ta: number, tb: number;
    if (i % 2 === 0) { ta = await time(a); tb = await time(b); } else { tb = await time(b); ta = await time(a); }
    res.a.push(ta);
    res.b.push(tb);
    res.diff.push(tb - ta);
  }
  return res;
}

async function hopRows(ds: Dataset, kernels: Kernels, pools: Map<string, ScanPool>): Promise<ResultRow[]> {
  const { connect } = await import("../src/index.js");
  const { connectWorker } = await import("../src/worker/index.node.js");
  const n = 1000;
  const base = ds.base.subarray(0, n * ds.dim);
  const data = Array.from({ length: n }, (_, i) => ({ id: i, vector: base.slice(i * ds.dim, (i + 1) * ds.dim) }));
  const queries = ds.queries;
  const count = QUICK ? 200 : 1000;
  const q = (i: number) => queries[i % queries.length]!;
  const dataset = `hop: top-10 over 1,000 rows (${ds.name} prefix)`;
  const out: ResultRow[] = [];
  const row = (variant: string, api: string, lat: number[], hop?: number[]): ResultRow => ({
    system: "quiver", variant, dataset, metric: "cosine", params: { api, rows: n, k: K, queries: count },
    p50_ms: sig(median(lat)), p99_ms: sig(p99(lat)), qps: sig(1000 / (lat.reduce((s, x) => s + x, 0) / lat.length)),
    ...(hop ? { hop_p50_us: round(median(hop) * 1000, 0), hop_ms_goal_met: median(hop) < 1 } : {}),
  });

  progress("worker hop · table API in-thread vs connectWorker (comlink, worker_threads)");
  const local = await connect("memory://", { kernels: "simd" });
  const localTable = await local.createTable("hop", data);
  const worker: Worker = startTsWorker(tableWorker);
  const remote = await connectWorker("memory://", { kernels: "simd", worker });
  const remoteTable = await remote.createTable("hop", data);
  const t = await pairs(
    count,
    (i) => localTable.search(q(i)).distanceType("cosine").select(["id"]).limit(K).toArray(),
    (i) => remoteTable.search(q(i)).distanceType("cosine").select(["id"]).limit(K).toArray(),
  );
  out.push(row("table in-thread", "connect() table.search().toArray()", t.a));
  out.push(row("table via worker", "connectWorker() table.search().toArray()", t.b, t.diff));
  await remote.close();
  await worker.terminate();
  local.close();

  progress("worker hop · kernels.search vs ScanPool.search on the same 1,000 rows");
  const block = kernels.upload(base, ds.dim);
  for (const [name, pool] of pools) {
    if (pool.size !== 2) continue;
    const pb = pool.transport === "shared" ? pool.kernels.upload(base, ds.dim) : block;
    const p = await pairs(count, (i) => kernels.search("cosine", q(i), [{ block }], ds.dim, K), (i) => pool.search("cosine", q(i), [{ block: pb }], ds.dim, K));
    if (!out.some((r) => r.variant === "kernels in-thread")) out.push(row("kernels in-thread", "kernels.search", p.a));
    out.push(row(`pool ${name}`, "ScanPool.search", p.b, p.diff));
    if (pb !== block) pb.free();
    pool.release(block);
  }
  block.free();
  return out;
}

/** A process spinning on one core for as long as it runs (the background load). */
function startBusyLoop(): ChildProcess {
  progress("background load: one busy-loop process beside the scans");
  const child = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  process.once("exit", () => child.kill());
  return child;
}

async function main(): Promise<void> {
  const { loadKernels } = await import("../src/kernels/index.js");
  const { createScanPool } = await import("../src/pool/pool.js");
  const machine = machineInfo("Shared VM (other engineers' builds and tests run alongside): ratios within this run are the headline; absolute figures are context.");
  const kernels = await loadKernels({ flavor: "simd" });
  const createWorker = () => startTsWorker(poolWorker);
  const pools = new Map<string, ScanPool>();
  const reports = new Map<ScanPool, ScanReport[]>();
  for (const transport of ["shared", "message"] as const) {
    for (const workers of [1, 2]) {
      const list: ScanReport[] = [];
      const pool = await createScanPool({ workers, transport, kernels: transport === "message" ? kernels : undefined, createWorker, onScan: (r) => list.push(r), chunkElements: CHUNK_ELEMENTS });
      pools.set(`${transport}-${workers}w`, pool);
      reports.set(pool, list);
    }
  }
  const datasets = loadDatasets();
  const results: ResultRow[] = [];
  const load = LOAD ? startBusyLoop() : undefined;
  try {
    for (const ds of datasets) results.push(...(await scanRows(ds, kernels, pools, reports)));
  } finally {
    load?.kill();
  }
  if (!BATCH_ONLY) results.push(...(await hopRows(datasets[0]!, kernels, pools)));
  for (const pool of pools.values()) await pool.close();

  const find = (ds: string, variant: string) => results.find((r) => r.dataset === ds && r.variant === variant);
  const findings = ["## Goals (computed from this run, not asserted)", ""];
  for (const ds of datasets) {
    for (const v of ["shared-2w", "message-2w", "shared-2w-batch", "message-2w-batch"]) {
      const r = find(ds.name, v);
      if (r) findings.push(`- ${ds.name} · ${v}: ${r.speedup}× the 1-worker pool of the same transport, ${r.speedup_vs_in_thread}× in-thread (goal ≥ 1.7× on 2 cores: ${(r.speedup as number) >= 1.7 ? "met" : "**not met**"}); identical results: ${r.identical_to_in_thread}`);
    }
  }
  const scanRowsOnly = results.filter((r) => r.others_cores !== undefined);
  const others = scanRowsOnly.reduce((s, r) => s + (r.others_cores as number), 0) / Math.max(1, scanRowsOnly.length);
  const freeCores = Math.max(0, machine.cpus - others);
  findings.push(
    `- Contention: other processes kept ${round(others, 2)} of the ${machine.cpus} cores busy on average during the scan rows, leaving about ${round(freeCores, 2)} ` +
      `for this benchmark${freeCores < 1.8 ? " — too few to show a 2-worker speed-up; rerun on a quiet machine before reading the speed-up column" : ""}.`,
  );
  for (const r of results.filter((x) => x.hop_p50_us !== undefined)) {
    findings.push(`- hop · ${r.variant}: +${r.hop_p50_us} µs per query at the median over the in-thread call (goal < 1 ms: ${r.hop_ms_goal_met ? "met" : "**not met**"})`);
  }
  const report = { benchmark: LOAD ? "parallel-load" : "parallel", date: new Date().toISOString(), machine, rows: results };
  const markdown = {
    title: "Parallel exact scans and the worker hop",
    intro: [
      "Exact top-10 cosine search (no index) in-thread and through `createScanPool()` (src/pool/pool.ts) with 1 and 2 worker threads, " +
        "over shared WebAssembly memory (`shared`) and message passing with a copy of the block per worker (`message`). The runners take " +
        `turns in chunks of ${CHUNK} queries (first runner rotating). **speedup**: qps over the 1-worker pool of the same transport ` +
        "(in-thread rows: 1); **vs in-thread**: qps over `Kernels.searchBatch` on this thread. **CPU util**: process CPU time / wall time " +
        "(all threads); **CPU ms / search**: process CPU time per search, all threads (the 2-worker rows' excess over the 1-worker rows is what splitting costs). **identical**: every answer equals the in-thread one (rows, distances, order).",
    ],
    columns: [
      { heading: "variant", value: (r: ResultRow) => r.variant },
      { heading: "params", value: (r: ResultRow) => { const { k, n, dim, queries, rows: _r, ...rest } = r.params as Record<string, unknown>; return rest; } },
      { heading: "qps", value: (r: ResultRow) => r.qps },
      { heading: "p50 ms", value: (r: ResultRow) => r.p50_ms },
      { heading: "p99 ms", value: (r: ResultRow) => r.p99_ms },
      { heading: "latency per", value: (r: ResultRow) => r.latency_per },
      { heading: "speedup", value: (r: ResultRow) => (r.speedup === undefined ? "–" : `${r.speedup}×`) },
      { heading: "vs in-thread", value: (r: ResultRow) => (r.speedup_vs_in_thread === undefined ? "–" : `${r.speedup_vs_in_thread}×`) },
      { heading: "CPU util", value: (r: ResultRow) => r.cpu_util },
      { heading: "CPU ms / search", value: (r: ResultRow) => r.cpu_ms_per_search },
      { heading: "other procs (cores)", value: (r: ResultRow) => r.others_cores },
      { heading: "identical", value: (r: ResultRow) => r.identical_to_in_thread },
      { heading: "hop µs (p50)", value: (r: ResultRow) => r.hop_p50_us },
      { heading: "chunks / search", value: (r: ResultRow) => r.chunks_per_search },
      { heading: "copies / search (used)", value: (r: ResultRow) => (r.copies_per_search === undefined ? undefined : `${r.copies_per_search} (${r.copies_used_per_search})`) },
      { heading: "busier worker's share", value: (r: ResultRow) => r.busier_worker_share },
      { heading: "tail ms (p50)", value: (r: ResultRow) => r.tail_ms_p50 },
    ],
    groupIntro: (g: string) => datasets.find((d) => d.name === g)?.description ??
      "Worker hop: the same query timed back to back through both paths (alternating which goes first); hop = median of the per-query differences.",
    notes: [findings.join("\n")],
    reproduce: `npm run bench -- parallel${LOAD ? " --background-load" : ""}`,
  };
  if (QUICK || BATCH_ONLY) {
    console.log(renderMarkdown(report, markdown));
    return;
  }
  const paths = writeResults(report, markdown);
  progress(`wrote ${paths.json} and ${paths.md}`);
}

await main();
