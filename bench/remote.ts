/**
 * Remote tables: what an indexed query costs when the table is behind HTTP with latency. A synthetic
 * N × 384 float32 table with an IVF_PQ index is built once in a cache directory (reused by later
 * runs), served by a local static server that adds `--latency` ms to every answer, and opened with
 * `connect("http://…")`. Per query, counted on the server: requests, round trips (the longest chain
 * of requests each sent after the one before was answered), body bytes, and wall time; cold (the
 * first query after opening the table) and warm (the next ones, each a different query vector).
 *
 *   npm run bench -- remote                        1M × 384, 50 queries, 50 ms per request
 *   npm run bench -- remote --n 20000 --queries 5  a quick smoke
 *   npm run bench -- remote --build-only           builds (or finds) the cached table and stops
 *
 * The table is cached in `<os tmpdir>/quiver-bench-remote-<n>x384-p<partitions>-m<subvectors>-b<batch>`
 * (or under `--cache <dir>`), with its queries and ground truth: later runs with the same
 * arguments reuse it and only query. At 1M rows the build dominates a first run: 20 fragments of
 * 50,000 rows (`--batch`), exact ground truth for the queries, then IVF_PQ (1,000 partitions × 48
 * sub-vectors; k-means `--iterations`, default 50) on `--workers` threads (default 2). Pre-build it
 * once with `--build-only` on an idle machine; the figures of a query do not depend on the build's
 * speed. A 1M cache takes ~1.6 GB of disk. Measured on the 2-core bench machine while shared with
 * other jobs, one worker: 400K rows in 20 fragments of 20,000 built in 305 s (IVF_PQ 632 partitions:
 * 228 s), and its 8 configurations (20 queries each) then ran in ~4 minutes. The 1M index is about
 * 3–4× that work (k-means grows with partitions², encoding with rows × partitions): expect a first
 * 1M build near 15 minutes with one worker, and the querying itself, which the cache leaves, at ~5.
 *
 * Variants: "multi-range" (the default reader: a query's partitions and each fragment's candidate
 * rows go out as multi-range requests, one wave each) and "one range per request" (HttpStore
 * `multiRange: false`: the same planned spans, one request each, 16 at a time per file). Node's
 * fetch opens as many connections as asked; a browser opens 6 per host over HTTP/1.1, so requests
 * go through a 6-connection limit here too, and again with none (`--connections 6,0`, the default).
 *
 * Data is synthetic (no real 1M-row set is on this machine): seeded Gaussian clusters (100 centres,
 * spread 0.5), L2-normalized, added in batches of 50K; ground truth (exact top-10 by cosine) is
 * computed while the batches are generated. Recall@10 is reported for every configuration.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../src/connection.js";
import { Index } from "../src/indexes/config.js";
import { openStore } from "../src/storage/open-store.js";
import { writeHttpListing } from "../src/storage/http-store.js";
import { roundTrips, serveStatic, type ServedRequest } from "../test/unit/static-server.js";
import { startTsWorker } from "../test/unit/worker-harness.js";
import { machineInfo, median, p99, progress, round, writeResults, type Column, type ResultRow } from "./report.js";
import { fitSpectrum } from "./scale-spectrum.js";
import { BASE_STREAM, QUERY_STREAM, vectorModel, type VectorModel } from "./scale-page/generate.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = opt("n", 1_000_000);
const DIM = 384;
const NQ = opt("queries", 50);
/**
 * Queries of the "one range per request" baseline (its counts per query vary little; at 1M and 6
 * connections one of its queries takes seconds, and 50 of them would double the run).
 */
const BASELINE_NQ = opt("baseline-queries", 10);
const LATENCY = opt("latency", 50);
/** Connection limits to run: 6 as a browser over HTTP/1.1, 0 = none (as over HTTP/2, one connection multiplexed). */
const CONNECTION_LIMITS = (args.includes("--connections") ? args[args.indexOf("--connections") + 1]! : "6,0").split(",").map(Number);
const PARTITIONS = opt("partitions", Math.max(1, Math.round(Math.sqrt(N))));
const SUB_VECTORS = opt("subvectors", 48);
/** Rows per fragment (one `add` each); the number of data files is what a query's reads fan out over. */
const BATCH = opt("batch", 250_000);
const ITERATIONS = opt("iterations", 10);
const WORKERS = opt("workers", 2);
const BUILD_ONLY = args.includes("--build-only");
const CACHE = args.includes("--cache") ? args[args.indexOf("--cache") + 1]! : tmpdir();
/** "spectrum" (fitted to real sentence embeddings, see scale-page/generate.ts) or "clusters" (isotropic). */
const DATA = (args.includes("--data") ? args[args.indexOf("--data") + 1]! : "spectrum") as "spectrum" | "clusters";
if (DATA !== "spectrum" && DATA !== "clusters") throw new Error(`--data must be spectrum or clusters, got ${DATA}`);
const K = 10;
/** `--sweep 20:10,100:20`: nprobes:refineFactor pairs, each run per reader and connection limit. */
const SWEEP = (args.includes("--sweep") ? args[args.indexOf("--sweep") + 1]! : "20:10,50:20,100:20,150:40").split(",").map((pair) => {
  const [nprobes, refineFactor] = pair.split(":").map(Number);
  return { nprobes: nprobes!, refineFactor: refineFactor! };
});
/** The one-range-per-request baseline runs these sweep entries only (by position; default the last). */
const BASELINE_SWEEP = (args.includes("--baseline-sweep") ? args[args.indexOf("--baseline-sweep") + 1]! : String(SWEEP.length - 1)).split(",").map(Number);
// The clusters table keeps the cache name it had before the spectrum model (and its 50 iterations).
const dir = join(CACHE, `quiver-bench-remote-${DATA === "spectrum" ? "spectrum-" : ""}${N}x${DIM}-p${PARTITIONS}-m${SUB_VECTORS}-b${BATCH}${ITERATIONS === 50 ? "" : `-i${ITERATIONS}`}`);

/** The vector model: the spectrum fitted to USE vectors of the SciFact claims, or 100 isotropic clusters. */
async function model(): Promise<VectorModel> {
  if (DATA === "clusters") return { kind: "clusters", dim: DIM, clusters: 100, spread: 0.5, seed: 42 };
  progress("fitting the spectrum model to USE vectors of the SciFact claims");
  return (await fitSpectrum(DIM, 42)).model;
}

/** Builds the table and ground truth in `dir` unless a previous run left them there. */
async function build(): Promise<{ queries: Float32Array; truth: Int32Array; buildSeconds?: number }> {
  const meta = join(dir, "bench-meta.json");
  if (existsSync(meta)) {
    progress(`reusing ${dir}`);
    const q = readFileSync(join(dir, "queries.f32"));
    const t = readFileSync(join(dir, "truth.i32"));
    return { queries: new Float32Array(q.buffer, q.byteOffset, q.byteLength / 4), truth: new Int32Array(t.buffer, t.byteOffset, t.byteLength / 4), buildSeconds: JSON.parse(readFileSync(meta, "utf8")).buildSeconds };
  }
  const started = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const streams = vectorModel(await model());
  const draw = streams(BASE_STREAM);
  const queries = streams(QUERY_STREAM)(NQ);
  const best = new Float64Array(NQ * K).fill(-Infinity);
  const truth = new Int32Array(NQ * K).fill(-1);
  // Under tsx the pool's workers run the TypeScript sources (as bench/ann.ts starts them).
  const poolWorker = new URL("../src/pool/pool-node-worker.ts", import.meta.url).href;
  const db = await connect(join(dir, "db"), WORKERS > 1 ? { workers: WORKERS, createScanWorker: () => startTsWorker(poolWorker) } : {});
  let table;
  for (let at = 0; at < N; at += BATCH) {
    const n = Math.min(BATCH, N - at);
    const vectors = draw(n);
    for (let q = 0; q < NQ; q++) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let j = 0; j < DIM; j++) s += queries[q * DIM + j]! * vectors[r * DIM + j]!;
        if (!(s > best[q * K + K - 1]!)) continue;
        let i = K - 1;
        for (; i > 0 && best[q * K + i - 1]! < s; i--) { best[q * K + i] = best[q * K + i - 1]!; truth[q * K + i] = truth[q * K + i - 1]!; }
        best[q * K + i] = s;
        truth[q * K + i] = at + r;
      }
    }
    const rows = Array.from({ length: n }, (_, r) => ({ id: at + r, vector: vectors.subarray(r * DIM, (r + 1) * DIM) }));
    table = table === undefined ? await db.createTable("t", rows) : (await table.add(rows), table);
    progress(`added ${at + n} / ${N}`);
  }
  const indexing = performance.now();
  await table!.createIndex("vector", {
    config: Index.ivfPq({ numPartitions: PARTITIONS, numSubVectors: SUB_VECTORS, distanceType: "cosine", maxIterations: ITERATIONS }),
    progress: (p) => { if (p.done === p.total) progress(`index: ${p.phase} done`); },
  });
  progress(`index built in ${round((performance.now() - indexing) / 1000, 0)} s`);
  await db.close();
  const store = await openStore(join(dir, "db"));
  await writeHttpListing(store);
  await store.close();
  writeFileSync(join(dir, "queries.f32"), queries);
  writeFileSync(join(dir, "truth.i32"), truth);
  const buildSeconds = round((performance.now() - started) / 1000, 0);
  writeFileSync(meta, JSON.stringify({ data: DATA, n: N, dim: DIM, nq: NQ, partitions: PARTITIONS, subVectors: SUB_VECTORS, batch: BATCH, iterations: ITERATIONS, buildSeconds }));
  progress(`built ${dir} in ${buildSeconds} s`);
  return { queries, truth, buildSeconds };
}

/** fetch with at most `limit` requests in flight, as a browser's connections to one host. */
function limitedFetch(limit: number): typeof fetch {
  if (limit <= 0) return fetch;
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (input, init) => {
    if (active >= limit) await new Promise<void>((go) => waiting.push(go));
    active++;
    try {
      const response = await fetch(input, init);
      const body = new Uint8Array(await response.arrayBuffer());
      return new Response(response.status === 204 || init?.method === "HEAD" ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

interface QueryCost { ms: number; requests: number; roundTrips: number; bytes: number }
const cost = (log: readonly ServedRequest[], ms: number): QueryCost => ({ ms, requests: log.length, roundTrips: roundTrips(log), bytes: log.reduce((s, r) => s + r.bytes, 0) });

async function main(): Promise<void> {
  const { queries, truth, buildSeconds } = await build();
  if (BUILD_ONLY) return;
  const nq = Math.min(NQ, queries.length / DIM);
  const server = await serveStatic(join(dir, "db"), { multiRange: "multipart", latencyMs: LATENCY });
  const rows: ResultRow[] = [];
  try {
    for (const connections of CONNECTION_LIMITS) for (const variant of ["multi-range", "one range per request"] as const) {
      for (const [entry, { nprobes, refineFactor }] of SWEEP.entries()) {
        if (variant !== "multi-range" && !BASELINE_SWEEP.includes(entry)) continue;
        const from = server.log.length;
        const t0 = performance.now();
        const db = await connect(server.origin, { http: { fetch: limitedFetch(connections), multiRange: variant === "multi-range" } });
        const table = await db.openTable("t");
        const open = cost(server.log.slice(from), performance.now() - t0);
        const runs: QueryCost[] = [];
        let hits = 0;
        const runQueries = variant === "multi-range" ? nq : Math.min(nq, BASELINE_NQ);
        for (let q = 0; q < runQueries; q++) {
          const at = server.log.length;
          const start = performance.now();
          const found = await table.search(queries.subarray(q * DIM, (q + 1) * DIM)).distanceType("cosine").nprobes(nprobes).refineFactor(refineFactor).select(["id"]).limit(K).toArray();
          runs.push(cost(server.log.slice(at), performance.now() - start));
          const want = new Set(truth.subarray(q * K, (q + 1) * K));
          hits += found.filter((r) => want.has(r.id as number)).length;
        }
        await db.close();
        const [cold, ...warm] = runs;
        const pick = (f: (c: QueryCost) => number): number[] => warm.map(f);
        const row: ResultRow = {
          system: "quiver", variant, dataset: `${DATA}-${N}x${DIM}`, metric: "cosine",
          params: { numPartitions: PARTITIONS, numSubVectors: SUB_VECTORS, nprobes, refineFactor, latency_ms: LATENCY, connections },
          recall_at_10: round(hits / (runQueries * K), 3), queries: runQueries,
          open_ms: round(open.ms, 0), open_requests: open.requests, open_round_trips: open.roundTrips, open_bytes: open.bytes,
          cold_ms: round(cold!.ms, 0), cold_requests: cold!.requests, cold_round_trips: cold!.roundTrips, cold_bytes: cold!.bytes,
          fragments: Math.ceil(N / BATCH),
          p50_ms: warm.length ? round(median(pick((c) => c.ms)), 0) : null, p99_ms: warm.length ? round(p99(pick((c) => c.ms)), 0) : null,
          warm_requests_p50: warm.length ? median(pick((c) => c.requests)) : null, warm_round_trips_p50: warm.length ? median(pick((c) => c.roundTrips)) : null,
          warm_round_trips_max: warm.length ? Math.max(...pick((c) => c.roundTrips)) : null,
          warm_bytes_p50: warm.length ? median(pick((c) => c.bytes)) : null,
        };
        rows.push(row);
        progress(JSON.stringify(row));
      }
    }
  } finally {
    await server.close();
  }
  const col = (heading: string, value: (r: ResultRow) => unknown): Column => ({ heading, value });
  const param = (name: string) => (r: ResultRow): unknown => r.params?.[name];
  writeResults(
    { benchmark: "remote", date: new Date().toISOString(), machine: machineInfo(`local HTTP server adding ${LATENCY} ms per request; table cached in ${dir}`), rows },
    {
      title: `Remote IVF_PQ queries over HTTP, ${LATENCY} ms per request`,
      intro: [
        `${N} × ${DIM} float32 (synthetic clusters, cosine) in ${Math.ceil(N / BATCH)} fragments of ${BATCH} rows, IVF_PQ ${PARTITIONS} partitions × ${SUB_VECTORS} sub-vectors (k-means ${ITERATIONS} iterations; table built ${buildSeconds === undefined ? "earlier" : `in ${buildSeconds} s`} and cached), k = ${K}; ` +
          `${nq} queries per configuration (${Math.min(nq, BASELINE_NQ)} for the one-range-per-request baseline), each a different vector; a fresh connection per configuration. Requests, round trips and bytes are counted on the server; ` +
          "Requests pass through a connection limit: 6 (a browser over HTTP/1.1: a fragment's multi-range request waits for a free connection) or none (0; as HTTP/2 multiplexing would).",
        "Open: connect + openTable (listing, manifest). Cold: the first query (the index head in one read with the data files' footers, the partitions, the candidates' vectors and output rows with the chunk checksum tables). Warm: the other queries (median, p99 of time; median and max of round trips).",
      ],
      columns: [
        col("reader", (r) => r.variant), col("connections", param("connections")), col("nprobes", param("nprobes")), col("refine", param("refineFactor")), col("recall@10", (r) => r.recall_at_10),
        col("open ms / trips", (r) => `${r.open_ms} / ${r.open_round_trips}`),
        col("cold ms / requests / trips", (r) => `${r.cold_ms} / ${r.cold_requests} / ${r.cold_round_trips}`), col("cold KB", (r) => round((r.cold_bytes as number) / 1024, 0)),
        col("warm p50 / p99 ms", (r) => `${r.p50_ms} / ${r.p99_ms}`), col("warm requests", (r) => r.warm_requests_p50),
        col("warm trips p50 / max", (r) => `${r.warm_round_trips_p50} / ${r.warm_round_trips_max}`), col("warm KB", (r) => r.warm_bytes_p50 === null ? null : round((r.warm_bytes_p50 as number) / 1024, 0)),
      ],
      groupBy: "dataset",
      reproduce: `npm run bench -- remote --n ${N} --batch ${BATCH} --queries ${NQ} --baseline-queries ${BASELINE_NQ} --latency ${LATENCY} --connections ${CONNECTION_LIMITS.join(",")}${ITERATIONS === 50 ? "" : ` --iterations ${ITERATIONS}`}`,
    },
  );
}

await main();
