/**
 * Out of core: a 1,000,000 × 384 float32 table (1.5 GB of vectors) on disk with an IVF_PQ index,
 * searched after reopening by a process that never holds the vectors in memory.
 *
 *   npm run bench -- out-of-core                     1M × 384, writes bench/results/out-of-core.{json,md}
 *   npm run bench -- out-of-core --n 300000          a smaller table
 *   npm run bench -- out-of-core --keep              keep the temp table directory
 *   npm run bench -- out-of-core --rq                IVF_RQ (RaBitQ, 1 bit per dimension) instead of IVF_PQ,
 *                                                    writes bench/results/out-of-core-rq.{json,md}
 *
 * Data is **synthetic** (no real 1M × 384 set is on this machine): seeded Gaussian clusters (as
 * `syntheticClusters` in datasets.ts: 100 centres, spread 0.5), every vector L2-normalized, generated
 * and added in batches of 50K so no step of the generator holds more than one batch. Ground truth for
 * the queries (fresh draws from the same mixture) is exact: each batch is scanned for the queries'
 * top-10 by cosine (= dot, unit vectors) in float64 while it is generated.
 *
 * Phase 1 (this process): ingest, createIndex with progress, index bytes. Phase 2 (a fresh child
 * process, so nothing of the build stays resident): reopen the table through a BlobStore wrapper that
 * counts the bytes of every get / getRange, run the queries for a sweep of nprobes / refineFactor,
 * and report latency, recall@10, bytes read per query, and the process's RSS before the open, after it
 * and after all queries (peak RSS of the child too).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlobInfo, BlobStore } from "../src/storage/blob-store.js";
import { gaussian, seededRandom } from "./datasets.js";
import { machineInfo, median, p99, peakRssMb, progress, round, sig, writeResults, type ResultRow } from "./report.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = opt("n", 1_000_000);
const DIM = 384;
const BATCH = opt("batch", 50_000);
const NQ = opt("queries", 100);
const K = 10;
const CLUSTERS = 100;
const SPREAD = 0.5;
const SEED = 42;
const NUM_PARTITIONS = opt("partitions", 1000);
const NUM_SUB_VECTORS = opt("subvectors", 96);
const MAX_ITERATIONS = opt("iterations", 10);
/** `--rq`: the same run with IVF_RQ (no sub-vectors: one bit per dimension, 384 bits + 8 bytes a row). */
const RQ = args.includes("--rq");
const KIND = RQ ? "IVF_RQ" : "IVF_PQ";
const CODEC_NOTE = RQ ? "1 bit per dimension (RaBitQ)" : `${NUM_SUB_VECTORS} sub-vectors`;
const SWEEP: { nprobes: number; refineFactor: number }[] = [
  { nprobes: 10, refineFactor: 1 },
  { nprobes: 20, refineFactor: 1 },
  { nprobes: 20, refineFactor: 10 },
  { nprobes: 40, refineFactor: 10 },
  { nprobes: 40, refineFactor: 30 },
  { nprobes: 80, refineFactor: 50 },
];
const MB = 2 ** 20;
const rssMb = (): number => round(process.memoryUsage().rss / MB, 0);
/**
 * Peak RSS of this process since exec (VmHWM). `process.resourceUsage().maxRSS` is not used in the
 * query child: Linux keeps ru_maxrss across fork + exec, so a child would report its parent's peak.
 */
const hwmMb = (): number => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
    if (m) return round(Number(m[1]) / 1024, 0);
  } catch { /* not Linux */ }
  return peakRssMb();
};
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

// ── streaming synthetic generator ───────────────────────────────────────────────────────────

/** Cluster centres, then rows drawn batch by batch (same mixture as `syntheticClusters`). */
function mixture(seed: number) {
  const centreNormal = gaussian(seededRandom(seed));
  const centres = new Float32Array(CLUSTERS * DIM);
  for (let i = 0; i < centres.length; i++) centres[i] = centreNormal();
  return (uniformSeed: number) => {
    const uniform = seededRandom(uniformSeed);
    const normal = gaussian(uniform);
    return (count: number): Float32Array => {
      const out = new Float32Array(count * DIM);
      for (let r = 0; r < count; r++) {
        const c = Math.floor(uniform() * CLUSTERS) * DIM;
        let ss = 0;
        for (let j = 0; j < DIM; j++) {
          const v = centres[c + j]! + SPREAD * normal();
          out[r * DIM + j] = v;
          ss += v * v;
        }
        const inv = 1 / Math.sqrt(ss);
        for (let j = 0; j < DIM; j++) out[r * DIM + j]! *= inv;
      }
      return out;
    };
  };
}

/** Running exact top-k (largest dot = smallest 1 − cos) per query over streamed batches. */
class StreamingTopK {
  readonly best: Float64Array;
  readonly ids: Int32Array;
  constructor(readonly queries: Float32Array, readonly nq: number) {
    this.best = new Float64Array(nq * K).fill(-Infinity);
    this.ids = new Int32Array(nq * K).fill(-1);
  }
  scan(batch: Float32Array, firstId: number): void {
    const rows = batch.length / DIM;
    const q = this.queries;
    for (let qi = 0; qi < this.nq; qi++) {
      const qo = qi * DIM;
      const bo = qi * K;
      for (let r = 0; r < rows; r++) {
        const ro = r * DIM;
        let s = 0;
        for (let j = 0; j < DIM; j++) s += q[qo + j]! * batch[ro + j]!;
        if (!(s > this.best[bo + K - 1]!)) continue;
        let at = K - 1;
        while (at > 0 && this.best[bo + at - 1]! < s) {
          this.best[bo + at] = this.best[bo + at - 1]!;
          this.ids[bo + at] = this.ids[bo + at - 1]!;
          at--;
        }
        this.best[bo + at] = s;
        this.ids[bo + at] = firstId + r;
      }
    }
  }
}

// ── counting store ──────────────────────────────────────────────────────────────────────────

interface Counts { gets: number; ranges: number; bytes: number; indexBytes: number; vectorBytes: number; otherBytes: number }

function countingStore(inner: BlobStore): { store: BlobStore; counts: Counts; indexRanges: Map<string, number> } {
  const counts: Counts = { gets: 0, ranges: 0, bytes: 0, indexBytes: 0, vectorBytes: 0, otherBytes: 0 };
  const indexRanges = new Map<string, number>();
  const tally = (key: string, n: number): void => {
    counts.bytes += n;
    if (key.includes("_indices/")) counts.indexBytes += n;
    else if (key.includes("/data/") || key.endsWith(".qvf") || key.includes("fragment")) counts.vectorBytes += n;
    else counts.otherBytes += n;
  };
  const store: BlobStore = {
    get uri() { return inner.uri; },
    get readOnly() { return inner.readOnly; },
    async get(key) {
      const b = await inner.get(key);
      counts.gets++;
      tally(key, b.byteLength);
      return b;
    },
    async getRange(key, offset, length) {
      const b = await inner.getRange(key, offset, length);
      counts.ranges++;
      tally(key, b.byteLength);
      if (key.includes("_indices/")) indexRanges.set(`${offset}:${length}`, length);
      return b;
    },
    head: (key): Promise<BlobInfo | undefined> => inner.head(key),
    put: (key, data) => inner.put(key, data),
    putIfAbsent: (key, data) => inner.putIfAbsent(key, data),
    list: (prefix) => inner.list(prefix),
    delete: (key) => inner.delete(key),
    close: () => inner.close(),
  };
  return { store, counts, indexRanges };
}

// ── phase 2: query child ────────────────────────────────────────────────────────────────────

interface ChildReport {
  rss_before_open_mb: number;
  rss_after_open_mb: number;
  rss_after_queries_mb: number;
  peak_rss_mb: number;
  open: { ms: number; bytes: number; ranges: number; gets: number };
  first_query: { ms: number; bytes: number };
  store_keys_read: string[];
  distinct_index_bytes: number;
  total_bytes_read: number;
  memory: NodeJS.MemoryUsage;
  configs: {
    nprobes: number; refineFactor: number; qps: number; p50_ms: number; p99_ms: number; recall_at_10: number;
    bytes_per_query: number; index_bytes_per_query: number; vector_bytes_per_query: number; ranges_per_query: number; rss_mb: number;
  }[];
}

async function queryChild(dir: string): Promise<void> {
  const meta = JSON.parse(readFileSync(join(dir, "bench-meta.json"), "utf8")) as { nq: number };
  const qbuf = readFileSync(join(dir, "bench-queries.f32"));
  const queries = new Float32Array(qbuf.buffer.slice(qbuf.byteOffset, qbuf.byteOffset + qbuf.byteLength));
  const tbuf = readFileSync(join(dir, "bench-truth.i32"));
  const truth = new Int32Array(tbuf.buffer.slice(tbuf.byteOffset, tbuf.byteOffset + tbuf.byteLength));
  const { connect, openStore } = await import("../src/index.js");
  // Load the kernels (and the JS of Quiver) before the baseline, so the delta is the table's.
  const warm = await connect("memory://warm");
  const wt = await warm.createTable("w", [{ id: 0, vector: new Float32Array(DIM) }]);
  await wt.search(new Float32Array(DIM).fill(1)).limit(1).toArray();
  await warm.close();
  gc();
  const rss_before_open_mb = rssMb();

  const keys = new Set<string>();
  const { store, counts, indexRanges } = countingStore(await openStore(dir));
  const origGetRange = store.getRange.bind(store);
  store.getRange = (key, offset, length) => { keys.add(key.replace(/[0-9a-f]{8,}/g, "*")); return origGetRange(key, offset, length); };
  const origGet = store.get.bind(store);
  store.get = (key) => { keys.add(key.replace(/[0-9a-f]{8,}/g, "*")); return origGet(key); };

  let t = performance.now();
  const db = await connect(store);
  const table = await db.openTable("vectors");
  const open = { ms: round(performance.now() - t, 1), bytes: counts.bytes, ranges: counts.ranges, gets: counts.gets };
  const rss_after_open_mb = rssMb();
  const q = (i: number): Float32Array => queries.subarray(i * DIM, (i + 1) * DIM);
  const run = (i: number, nprobes: number, refineFactor: number) =>
    table.search(q(i)).distanceType("cosine").nprobes(nprobes).refineFactor(refineFactor).select(["id"]).limit(K).toArray();

  const b0 = counts.bytes;
  t = performance.now();
  await run(0, SWEEP[0]!.nprobes, SWEEP[0]!.refineFactor);
  const first_query = { ms: round(performance.now() - t, 1), bytes: counts.bytes - b0 };

  const configs: ChildReport["configs"] = [];
  for (const { nprobes, refineFactor } of SWEEP) {
    for (let i = 0; i < Math.min(10, meta.nq); i++) await run(i, nprobes, refineFactor); // warm-up
    const before = { ...counts };
    const lat: number[] = [];
    let hit = 0;
    const t0 = performance.now();
    for (let i = 0; i < meta.nq; i++) {
      const s = performance.now();
      const rows = await run(i, nprobes, refineFactor);
      lat.push(performance.now() - s);
      const gt = new Set(truth.subarray(i * K, (i + 1) * K));
      for (const r of rows) if (gt.has(r.id as number)) hit++;
    }
    const wall = performance.now() - t0;
    const per = (f: keyof Counts): number => round((counts[f] - before[f]) / meta.nq, 0);
    configs.push({
      nprobes, refineFactor, qps: sig((meta.nq * 1000) / wall), p50_ms: sig(median(lat)), p99_ms: sig(p99(lat)),
      recall_at_10: round(hit / (meta.nq * K), 3), bytes_per_query: per("bytes"), index_bytes_per_query: per("indexBytes"),
      vector_bytes_per_query: per("vectorBytes"), ranges_per_query: round((counts.ranges - before.ranges) / meta.nq, 1), rss_mb: rssMb(),
    });
    process.stderr.write(`[bench] child: ${JSON.stringify(configs.at(-1))}\n`);
  }
  gc();
  const report: ChildReport = {
    rss_before_open_mb, rss_after_open_mb, rss_after_queries_mb: rssMb(), peak_rss_mb: hwmMb(), open, first_query,
    store_keys_read: [...keys].sort(), distinct_index_bytes: [...indexRanges.values()].reduce((a, b) => a + b, 0),
    total_bytes_read: counts.bytes, memory: process.memoryUsage(), configs,
  };
  await db.close();
  process.stdout.write(JSON.stringify(report) + "\n");
}

// ── phase 1: build ──────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const { connect } = await import("../src/index.js");
  const dir = mkdtempSync(join(tmpdir(), "quiver-ooc-"));
  progress(`table directory ${dir}; ${N} × ${DIM} float32 (${round((N * DIM * 4) / 1e9, 2)} GB of vectors)`);
  const mix = mixture(SEED);
  const queries = mix(SEED + 1_000_003)(NQ);
  const drawBase = mix(SEED + 1);
  const truth = new StreamingTopK(queries, NQ);

  const db = await connect(dir);
  let table: Awaited<ReturnType<typeof db.createTable>> | undefined;
  let genMs = 0, addMs = 0, gtMs = 0;
  const ingestStart = performance.now();
  for (let first = 0; first < N; first += BATCH) {
    const count = Math.min(BATCH, N - first);
    let t = performance.now();
    const block = drawBase(count);
    genMs += performance.now() - t;
    t = performance.now();
    truth.scan(block, first);
    gtMs += performance.now() - t;
    const rows = Array.from({ length: count }, (_, i) => ({ id: first + i, vector: block.subarray(i * DIM, (i + 1) * DIM) }));
    t = performance.now();
    if (table === undefined) table = await db.createTable("vectors", rows);
    else await table.add(rows);
    addMs += performance.now() - t;
    progress(`ingest ${first + count}/${N}: add ${round((first + count) / (addMs / 1000), 0)} rows/s, rss ${rssMb()} MB`);
  }
  const ingestWall = performance.now() - ingestStart;
  writeFileSync(join(dir, "bench-queries.f32"), queries);
  writeFileSync(join(dir, "bench-truth.i32"), truth.ids);
  writeFileSync(join(dir, "bench-meta.json"), JSON.stringify({ nq: NQ }));

  gc();
  const rssBeforeIndex = rssMb();
  let last = 0;
  const tIdx = performance.now();
  await table!.createIndex("vector", {
    config: RQ
      ? (await import("../src/index.js")).Index.ivfRq({ numPartitions: NUM_PARTITIONS, numBits: 1, distanceType: "cosine", maxIterations: MAX_ITERATIONS })
      : (await import("../src/index.js")).Index.ivfPq({
        numPartitions: NUM_PARTITIONS, numSubVectors: NUM_SUB_VECTORS, distanceType: "cosine", maxIterations: MAX_ITERATIONS,
      } as never),
    progress: ({ phase, done, total }) => {
      const now = performance.now();
      if (now - last > 5000 || done === total) {
        last = now;
        progress(`index ${phase} ${done}/${total} at ${round((now - tIdx) / 1000, 1)} s, rss ${rssMb()} MB`);
      }
    },
  });
  const build_s = round((performance.now() - tIdx) / 1000, 1);
  const stats = await table!.indexStats("vector_idx");
  const buildPeakRss = peakRssMb();
  progress(`index built in ${build_s} s, ${stats?.sizeBytes} bytes; build process peak RSS ${buildPeakRss} MB`);
  await db.close();

  // Phase 2 in a fresh process.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, "--query-child", dir, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  const code = await new Promise<number | null>((res) => child.on("close", res));
  if (code !== 0) throw new Error(`query child exited with ${code}`);
  const rep = JSON.parse(out.trim().split("\n").at(-1)!) as ChildReport;

  const diskBytes = dirBytes(dir);
  if (!args.includes("--keep")) rmSync(dir, { recursive: true, force: true });
  else progress(`kept ${dir}`);

  const vectorBytes = N * DIM * 4;
  const dataset = `synthetic-${N >= 1e6 ? `${N / 1e6}M` : `${N / 1e3}K`}-${DIM}d`;
  const common = {
    system: "quiver", variant: `${KIND.toLowerCase()} (fs store, reopened)`, dataset, metric: "cosine",
    build_s, index_bytes: stats?.sizeBytes,
  };
  const rows: ResultRow[] = rep.configs.map((c) => ({
    ...common,
    params: { numPartitions: NUM_PARTITIONS, ...(RQ ? { numBits: 1 } : { numSubVectors: NUM_SUB_VECTORS }), maxIterations: MAX_ITERATIONS, nprobes: c.nprobes, refineFactor: c.refineFactor },
    qps: c.qps, p50_ms: c.p50_ms, p99_ms: c.p99_ms, recall_at_10: c.recall_at_10,
    bytes_fetched: c.bytes_per_query, index_bytes_per_query: c.index_bytes_per_query, vector_bytes_per_query: c.vector_bytes_per_query,
    ranges_per_query: c.ranges_per_query, rss_mb: c.rss_mb,
  }));
  const results = {
    benchmark: RQ ? "out-of-core-rq" : "out-of-core",
    date: new Date().toISOString(),
    machine: machineInfo("Shared machine; single-threaded queries (one at a time). Peak RSS is the build process's; the query process's is under `query_process`."),
    rows,
    data: {
      n: N, dim: DIM, vector_bytes: vectorBytes, on_disk_bytes: diskBytes, synthetic: true, clusters: CLUSTERS, spread: SPREAD, seed: SEED,
      queries: NQ, ground_truth: "exact cosine top-10, float64, streamed batch by batch during generation",
    },
    ingest: {
      batch: BATCH, rows_per_s: round(N / (addMs / 1000), 0), add_s: round(addMs / 1000, 1), generate_s: round(genMs / 1000, 1),
      ground_truth_s: round(gtMs / 1000, 1), wall_s: round(ingestWall / 1000, 1),
    },
    build: { build_s, index_bytes: stats?.sizeBytes, bytes_per_vector: stats ? round(stats.sizeBytes / N, 1) : undefined, rss_before_index_mb: rssBeforeIndex, peak_rss_mb: buildPeakRss },
    query_process: {
      rss_before_open_mb: rep.rss_before_open_mb, rss_after_open_mb: rep.rss_after_open_mb, rss_after_queries_mb: rep.rss_after_queries_mb,
      rss_delta_mb: round(rep.rss_after_queries_mb - rep.rss_before_open_mb, 0), peak_rss_mb: rep.peak_rss_mb,
      index_cache_budget_bytes: 64 * MB, distinct_index_bytes_read: rep.distinct_index_bytes, total_bytes_read: rep.total_bytes_read,
      open: rep.open, first_query: rep.first_query, store_keys_read: rep.store_keys_read, memory_usage: rep.memory,
    },
  };
  results.machine.peak_rss_mb = buildPeakRss;
  const qp = results.query_process;
  const { md } = writeResults(results, {
    title: `Out of core: ${KIND} over ${N.toLocaleString("en")} × ${DIM} float32 on disk`,
    intro: [
      `**Synthetic data** (no real set of this size is on this machine): ${N.toLocaleString("en")} × ${DIM} float32 ` +
        `(${round(vectorBytes / 1e9, 2)} GB of vectors, ${round(diskBytes / 1e9, 2)} GB on disk), ${CLUSTERS} seeded Gaussian clusters ` +
        `(spread ${SPREAD}, seed ${SEED}), every vector L2-normalized; generated and added in batches of ${BATCH.toLocaleString("en")}. ` +
        `${NQ} fresh queries from the same mixture; ground truth = exact cosine top-10 (float64 scan of every batch as it was generated).`,
      `Table in a temp directory through Quiver's file-system store (\`connect(dir)\`). Ingest: **${results.ingest.rows_per_s.toLocaleString("en")} rows/s** ` +
        `(add calls only; ${results.ingest.add_s} s). Index: ${KIND}, ${NUM_PARTITIONS} partitions, ${CODEC_NOTE}, maxIterations ${MAX_ITERATIONS}, ` +
        `built in **${build_s} s**, **${round((stats?.sizeBytes ?? 0) / MB, 1)} MiB** (${results.build.bytes_per_vector} B/vector). Build process peak RSS ${buildPeakRss} MB.`,
      `Queries run in a **fresh process** that reopens the table through a BlobStore wrapper counting every byte read. ` +
        `RSS before open ${qp.rss_before_open_mb} MB (Node + Quiver + kernels loaded), after open ${qp.rss_after_open_mb} MB, ` +
        `after all ${SWEEP.length * (NQ + 10) + 1} queries ${qp.rss_after_queries_mb} MB (**+${qp.rss_delta_mb} MB**, vs ${round(vectorBytes / MB, 0)} MiB of vectors); ` +
        `query process peak RSS **${qp.peak_rss_mb} MB**. Opening read ${round(qp.open.bytes / MB, 2)} MiB; the first (cold) query ${round(qp.first_query.bytes / MB, 2)} MiB; ` +
        `${round(qp.total_bytes_read / MB, 1)} MiB were read in all (${round(qp.distinct_index_bytes_read / MB, 1)} MiB distinct index ranges; partition cache budget: half the session budget).`,
      `Columns: bytes/query = all bytes read from the store per query (index partitions + refine rows), averaged over the ${NQ} timed queries after a 10-query warm-up; rss = the query process's RSS after that configuration.`,
    ],
    columns: [
      { heading: "nprobes", value: (r) => (r.params as Record<string, unknown>).nprobes },
      { heading: "refine", value: (r) => (r.params as Record<string, unknown>).refineFactor },
      { heading: "recall@10", value: (r) => r.recall_at_10 },
      { heading: "QPS", value: (r) => r.qps },
      { heading: "p50 ms", value: (r) => r.p50_ms },
      { heading: "p99 ms", value: (r) => r.p99_ms },
      { heading: "bytes/query", value: (r) => r.bytes_fetched },
      { heading: "index B/query", value: (r) => r.index_bytes_per_query },
      { heading: "row B/query", value: (r) => r.vector_bytes_per_query },
      { heading: "ranges/query", value: (r) => r.ranges_per_query },
      { heading: "rss MB", value: (r) => r.rss_mb },
    ],
    notes: [`Store keys read by the query process: ${rep.store_keys_read.map((k) => `\`${k}\``).join(", ")}.`],
    reproduce: `npm run bench -- out-of-core${N !== 1_000_000 ? ` --n ${N}` : ""}${RQ ? " --rq" : ""}`,
  });
  progress(`wrote ${md}`);
  process.stdout.write(readFileSync(md, "utf8"));
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSyncRec(dir)) total += e;
  return total;
}
function readdirSyncRec(dir: string): number[] {
  const { readdirSync, statSync } = require_fs();
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? readdirSyncRec(p) : [statSync(p).size];
  });
}
import * as fs from "node:fs";
const require_fs = () => fs;

const childAt = args.indexOf("--query-child");
if (childAt >= 0) await queryChild(args[childAt + 1]!);
else await main();
