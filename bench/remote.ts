/**
 * Remote tables: what an indexed query costs when the table is behind HTTP with latency. An
 * N × 384 float32 table with an IVF_PQ index is built once in a cache directory (reused by later
 * runs), served by a local static server that adds `--latency` ms to every answer, and opened with
 * `connect("http://…")`. Per query, counted on the server: requests, round trips (the longest chain
 * of requests each sent after the one before was answered), body bytes, and wall time; cold (the
 * first query after opening the table) and warm (the next ones, each a different query vector),
 * with recall@10 against exact ground truth, over a sweep of nprobes:refineFactor (`--sweep`).
 *
 *   npm run bench -- remote                        1M × 384, 50 queries, 50 ms per request
 *   npm run bench -- remote --n 20000 --batch 5000 --queries 5 --sweep 10:10   a quick smoke
 *   npm run bench -- remote --build-only           builds (or finds) the cached table and stops
 *   npm run bench -- remote --reindex              builds the cached tables' vector index again first (after
 *                                                  a change to the index or its file format)
 *
 * Data (`--data`): "spectrum" (default) draws x = μ + U·diag(√λ)·z with the eigenvalues fitted to
 * real sentence embeddings (USE vectors of the SciFact claims; bench/scale-spectrum.ts and
 * scale-page/generate.ts, the model of the Chromium scale bench), so recall behaves as on real
 * embeddings; "clusters" is 100 isotropic Gaussian clusters, on which PQ recall stalls well below
 * 0.9 whatever nprobes. Ground truth (exact top-10 by cosine) is computed while the rows are drawn.
 *
 * The table is cached in `<os tmpdir>/quiver-bench-remote-[spectrum-]<n>x384-p<partitions>-m<subvectors>-b<batch>[-i<iterations>][-f<data file format>]`
 * (or under `--cache <dir>`), with its queries and ground truth: later runs with the same
 * arguments reuse it and only query. Two 1M tables of the same rows: 4 fragments of 250,000 rows
 * and 20 of 50,000 (`--batch 250000,50000`), IVF_PQ 1,000 partitions × 48 sub-vectors, k-means
 * `--iterations` 10, built on `--workers` 2 threads: 426 s for the first on the shared 2-core
 * machine (index 230 s); 1.6 GB of disk each. The data-file count matters because a query's
 * candidate reads go to every data file, one request each (a Range names one URL): a browser over
 * HTTP/1.1 opens 6 connections per host, so 20 data files need ⌈20/6⌉ = 4 round trips for the
 * candidates alone and a cold query at least 7 (`optimize()` compacts a table to 1M rows per
 * fragment before publishing; appending in batches leaves one fragment per batch).
 *
 * Readers: "multi-range" (the default reader: the probed partitions and each data file's
 * candidate rows with their chunk checksum tables go out as multi-range requests, with the
 * connection limit given to HttpStore as `maxConnections`: read-ahead after reads a query waits on,
 * up to 192 ranges per request), "multi-range, no budget" (the same reader without
 * `maxConnections`: at most 64 ranges per request, requests queued in the order sent) and "one
 * range per request" (`multiRange: false`). Node's fetch opens as many connections as asked; a
 * browser over HTTP/1.1 opens 6 per host, so requests go through a 6-connection limit here too,
 * and again with none (`--connections 6,0`, the default; none is as HTTP/2 multiplexing).
 *
 *   npm run bench -- remote --http2                real Chromium instead (bench/remote-chromium.ts),
 *                                                  over HTTP/2 (TLS) and over HTTP/1.1; writes remote-http2.*
 *
 * `--quick` prints the rows as JSON on stdout and writes no results file (for trying a change
 * without touching bench/results); `--protocols http2` (or `http1.1`) runs one protocol of
 * `--http2` only (default both). QUIVER_BENCH_CPU_PROFILE=<dir> with `--http2` records a CPU
 * profile of each configuration's cold query into <dir> (see bench/remote-chromium.ts).
 *
 * `--http2` runs the multi-range reader in Chromium, from a page served by the table's server:
 * over HTTP/2 with TLS, as static hosting serves (one connection multiplexes every request), and
 * over plain HTTP/1.1, where Chromium itself holds 6 connections per host (the page sets
 * `maxConnections: 6`). Node's connection limits (`--connections`) do not apply there.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../src/connection.js";
import { Index } from "../src/indexes/config.js";
import { openStore } from "../src/storage/open-store.js";
import { writeHttpListing } from "../src/storage/http-store.js";
import { publishTable } from "../src/cli/publish.js";
import { FRAGMENT_FORMAT_VERSION } from "../src/storage/fragment-file.js";
import { limitedFetch, serveStatic, type StaticServer } from "../test/unit/static-server.js";
import { startTsWorker } from "../test/unit/worker-harness.js";
import { machineInfo, progress, round, writeResults, type Column, type ResultRow } from "./report.js";
import { chromiumRows, cost, remoteRow, type QueryCost, type RemoteRun } from "./remote-chromium.js";
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
/**
 * Readers: "multi-range" (the default reader, given the connection limit as HttpStore
 * `maxConnections`), "multi-range, no budget" (the same without it: requests queue in the
 * connection limit in the order sent) and "one range per request" (`multiRange: false`).
 */
const VARIANTS = ["multi-range", "multi-range, no budget", "one range per request"] as const;
/** Connection limits to run: 6 as a browser over HTTP/1.1, 0 = none (as over HTTP/2, one connection multiplexed). */
const CONNECTION_LIMITS = (args.includes("--connections") ? args[args.indexOf("--connections") + 1]! : "6,0").split(",").map(Number);
const PARTITIONS = opt("partitions", Math.max(1, Math.round(Math.sqrt(N))));
const SUB_VECTORS = opt("subvectors", 48);
/**
 * Rows per fragment (one `add` each), one table per value: the number of data files is what a
 * query's reads fan out over. Default 250,000 and 50,000: 4 and 20 data files at 1M rows.
 */
const BATCHES = (args.includes("--batch") ? args[args.indexOf("--batch") + 1]! : "250000,50000").split(",").map(Number);
const ITERATIONS = opt("iterations", 10);
const WORKERS = opt("workers", 2);
const BUILD_ONLY = args.includes("--build-only");
const REINDEX = args.includes("--reindex");
/**
 * `--compact`: query each table as `publishTable(…, { compact: true })` publishes it (the latest
 * version, compacted into fragments of up to 1,048,576 rows, the index rebuilt), cached next to it
 * in `<table dir>-compact`.
 */
const COMPACT = args.includes("--compact");
/** Real Chromium over HTTP/2 and HTTP/1.1 (bench/remote-chromium.ts) instead of Node's fetch. */
const HTTP2 = args.includes("--http2");
/** `--protocols http2,http1.1`: the protocols `--http2` runs (default both). */
const PROTOCOLS = (args.includes("--protocols") ? args[args.indexOf("--protocols") + 1]! : "http2,http1.1").split(",");
/** Prints the rows as JSON instead of writing bench/results. */
const QUICK = args.includes("--quick");
const CACHE = args.includes("--cache") ? args[args.indexOf("--cache") + 1]! : tmpdir();
/** "spectrum" (fitted to real sentence embeddings, see scale-page/generate.ts) or "clusters" (isotropic). */
const DATA = (args.includes("--data") ? args[args.indexOf("--data") + 1]! : "spectrum") as "spectrum" | "clusters";
if (DATA !== "spectrum" && DATA !== "clusters") throw new Error(`--data must be spectrum or clusters, got ${DATA}`);
/** `--note "…"`: a line for the report (e.g. that the machine was shared during the run). */
const NOTE = args.includes("--note") ? args[args.indexOf("--note") + 1]! : undefined;
const K = 10;
/** `--sweep 20:10,100:20`: nprobes:refineFactor pairs, each run per reader and connection limit. */
const SWEEP = (args.includes("--sweep") ? args[args.indexOf("--sweep") + 1]! : "20:10,50:20,100:20,150:40").split(",").map((pair) => {
  const [nprobes, refineFactor] = pair.split(":").map(Number);
  return { nprobes: nprobes!, refineFactor: refineFactor! };
});
/** The one-range-per-request baseline runs these sweep entries only (by position; default the last). */
const BASELINE_SWEEP = (args.includes("--baseline-sweep") ? args[args.indexOf("--baseline-sweep") + 1]! : String(SWEEP.length - 1)).split(",").map(Number);
// The clusters table keeps the cache name it had before the spectrum model (and its 50 iterations).
// The data files' format is part of the key (from format 3, which chunks vector rows for their checksums): a
// table cached by an older writer is not measured as today's.
const dirOf = (batch: number): string => join(CACHE, `quiver-bench-remote-${DATA === "spectrum" ? "spectrum-" : ""}${N}x${DIM}-p${PARTITIONS}-m${SUB_VECTORS}-b${batch}${ITERATIONS === 50 ? "" : `-i${ITERATIONS}`}${FRAGMENT_FORMAT_VERSION > 2 ? `-f${FRAGMENT_FORMAT_VERSION}` : ""}`);

/** Connection options of the builds: `--workers` pool threads (under tsx they run the TypeScript sources, as bench/ann.ts starts them). */
const POOL_WORKER = new URL("../src/pool/pool-node-worker.ts", import.meta.url).href;
const POOL = WORKERS > 1 ? { workers: WORKERS, createScanWorker: () => startTsWorker(POOL_WORKER) } : {};
/** The tables' vector index, built by the first run and by `--reindex`. */
const INDEX_CONFIG = Index.ivfPq({ numPartitions: PARTITIONS, numSubVectors: SUB_VECTORS, distanceType: "cosine", maxIterations: ITERATIONS });

/** The vector model: the spectrum fitted to USE vectors of the SciFact claims, or 100 isotropic clusters. */
async function model(): Promise<VectorModel> {
  if (DATA === "clusters") return { kind: "clusters", dim: DIM, clusters: 100, spread: 0.5, seed: 42 };
  progress("fitting the spectrum model to USE vectors of the SciFact claims");
  return (await fitSpectrum(DIM, 42)).model;
}

/** Builds the table of `batch`-row fragments and the ground truth unless a previous run left them. */
async function build(batch: number): Promise<{ dir: string; queries: Float32Array; truth: Int32Array; buildSeconds?: number }> {
  const dir = dirOf(batch);
  const meta = join(dir, "bench-meta.json");
  if (existsSync(meta)) {
    progress(`reusing ${dir}`);
    if (REINDEX) await reindex(join(dir, "db"));
    const q = readFileSync(join(dir, "queries.f32"));
    const t = readFileSync(join(dir, "truth.i32"));
    return { dir, queries: new Float32Array(q.buffer, q.byteOffset, q.byteLength / 4), truth: new Int32Array(t.buffer, t.byteOffset, t.byteLength / 4), buildSeconds: JSON.parse(readFileSync(meta, "utf8")).buildSeconds };
  }
  const started = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const streams = vectorModel(await model());
  const draw = streams(BASE_STREAM);
  const queries = streams(QUERY_STREAM)(NQ);
  const best = new Float64Array(NQ * K).fill(-Infinity);
  const truth = new Int32Array(NQ * K).fill(-1);
  const db = await connect(join(dir, "db"), POOL);
  let table;
  for (let at = 0; at < N; at += batch) {
    const n = Math.min(batch, N - at);
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
    config: INDEX_CONFIG,
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
  writeFileSync(meta, JSON.stringify({ data: DATA, n: N, dim: DIM, nq: NQ, partitions: PARTITIONS, subVectors: SUB_VECTORS, batch, iterations: ITERATIONS, buildSeconds }));
  progress(`built ${dir} in ${buildSeconds} s`);
  return { dir, queries, truth, buildSeconds };
}

/** Builds the vector index of the cached table in `db` again (same options), as a new version, and rewrites the listing. */
async function reindex(db: string): Promise<void> {
  const started = performance.now();
  const conn = await connect(db, POOL);
  await (await conn.openTable("t")).createIndex("vector", {
    config: INDEX_CONFIG,
  });
  await conn.close();
  const store = await openStore(db);
  await writeHttpListing(store);
  await store.close();
  progress(`index of ${db} built again in ${round((performance.now() - started) / 1000, 0)} s`);
}

/** Data files a query reads: one per fragment, or per 1,048,576 rows once compacted. */
const dataFiles = (batch: number): number => Math.ceil(N / (COMPACT ? 1_048_576 : batch));

/** The table of `dir` as a compacted publication, published once into `<dir>-compact` (its `db`). */
async function compacted(dir: string): Promise<string> {
  const out = `${dir}-compact`;
  if (existsSync(join(out, "published.json"))) {
    progress(`reusing ${out}`);
    if (REINDEX) await reindex(join(out, "db"));
    return out;
  }
  rmSync(out, { recursive: true, force: true });
  const started = performance.now();
  const connection = POOL;
  const stats = await publishTable(join(dir, "db"), "t", join(out, "db"), { compact: true, connection });
  const seconds = round((performance.now() - started) / 1000, 0);
  writeFileSync(join(out, "published.json"), JSON.stringify({ ...stats, seconds }));
  progress(`published ${dir} compacted into ${out} in ${seconds} s (${stats.files} files)`);
  return out;
}

const RUN: RemoteRun = { dataset: `${DATA}-${N}x${DIM}`, partitions: PARTITIONS, subVectors: SUB_VECTORS, latency: LATENCY, k: K, dim: DIM, nq: NQ, sweep: SWEEP };

async function main(): Promise<void> {
  const tables = [];
  for (const batch of BATCHES) tables.push({ batch, ...(await build(batch)) });
  if (COMPACT) for (const t of tables) t.dir = await compacted(t.dir);
  if (BUILD_ONLY) return;
  if (HTTP2) {
    const nq = Math.min(NQ, tables[0]!.queries.length / DIM);
    const { rows, browser } = await chromiumRows({ ...RUN, nq }, tables.map((t) => ({ ...t, fragments: dataFiles(t.batch) })), PROTOCOLS);
    return QUICK ? console.log(JSON.stringify(rows, null, 1)) : report(rows, tables, browser);
  }
  const rows: ResultRow[] = [];
  for (const { batch, dir, queries, truth } of tables) {
    const server = await serveStatic(join(dir, "db"), { multiRange: "multipart", latencyMs: LATENCY });
    try {
      await runTable(server, join(dir, "db"), dataFiles(batch), queries, truth, rows);
    } finally {
      await server.close();
    }
  }
  if (QUICK) console.log(JSON.stringify(rows, null, 1));
  else report(rows, tables);
}

/**
 * Reads every file under `root` through once, so that the server finds them in the page cache. The
 * bench's server reads a multi-range answer's ranges synchronously (test/unit/static-server.ts): a
 * range missing from the page cache stalls every connection while the disk answers, which a static
 * host or CDN serving from its cache would not. Which configuration ran first — after the machine
 * had reclaimed the files' pages — would otherwise decide whose cold query paid the disk.
 */
function warmFiles(root: string): void {
  const buffer = Buffer.alloc(8 * 2 ** 20);
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const fd = openSync(join(entry.parentPath, entry.name), "r");
    try {
      while (readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

/** Every reader, connection limit and sweep entry on one served table; a row each into `rows`. */
async function runTable(server: StaticServer, root: string, fragments: number, queries: Float32Array, truth: Int32Array, rows: ResultRow[]): Promise<void> {
  const nq = Math.min(NQ, queries.length / DIM);
  for (const connections of CONNECTION_LIMITS) for (const variant of VARIANTS) {
    // Without a limit, the store's budget is none either way.
    if (variant === "multi-range, no budget" && connections === 0) continue;
    for (const [entry, { nprobes, refineFactor }] of SWEEP.entries()) {
      if (variant !== "multi-range" && !BASELINE_SWEEP.includes(entry)) continue;
      warmFiles(root);
      const from = server.log.length;
      const t0 = performance.now();
      const http = { fetch: limitedFetch(connections), multiRange: variant !== "one range per request", maxConnections: variant === "multi-range" ? connections : 0 };
      const db = await connect(server.origin, { http });
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
      const row = remoteRow(RUN, variant, fragments, { nprobes, refineFactor, connections }, open, runs, hits);
      rows.push(row);
      progress(JSON.stringify(row));
    }
  }
}

/** Per table and multi-range configuration (reader and connections), the fastest at recall@10 ≥ 0.95 against the goal. */
function goals(rows: readonly ResultRow[]): string[] {
  const groups = new Map<string, ResultRow[]>();
  for (const r of rows) {
    if (!String(r.variant).startsWith("multi-range") || String(r.variant).includes("no budget")) continue;
    const key = `${r.fragments} data files, ${r.variant}, connections ${r.params?.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups].map(([key, group]) => {
    const best = group.filter((r) => (r.recall_at_10 as number) >= 0.95).sort((a, b) => (a.p50_ms as number) - (b.p50_ms as number))[0];
    return best === undefined
      ? `${key}: no configuration reached recall@10 ≥ 0.95.`
      : `${key}, fastest configuration at recall@10 ≥ 0.95: nprobes ${best.params?.nprobes}, refine ${best.params?.refineFactor} (recall ${best.recall_at_10}): cold ${best.cold_round_trips} round trips / ${best.cold_ms} ms, warm ${best.warm_round_trips_p50} (max ${best.warm_round_trips_max}) / p50 ${best.p50_ms} ms. Goal (issue 14: ≤ 4 round trips and < 1 s at 50 ms): round trips ${(best.cold_round_trips as number) <= 4 && (best.warm_round_trips_max as number) <= 4 ? "met" : "NOT met"}, cold time ${(best.cold_ms as number) < 1000 ? "met" : "NOT met"}, warm p50 ${(best.p50_ms as number) < 1000 ? "met" : "NOT met"}.`;
  });
}

function report(rows: ResultRow[], tables: readonly { batch: number; dir: string; buildSeconds?: number; queries: Float32Array }[], browser?: string): void {
  const nq = Math.min(NQ, tables[0]!.queries.length / DIM);
  const col = (heading: string, value: (r: ResultRow) => unknown): Column => ({ heading, value });
  const param = (name: string) => (r: ResultRow): unknown => r.params?.[name];
  writeResults(
    { benchmark: `remote${HTTP2 ? "-http2" : ""}${COMPACT ? "-compact" : ""}`, date: new Date().toISOString(), machine: machineInfo(`local ${HTTP2 ? "HTTP/2 (TLS) and HTTP/1.1 servers" : "HTTP server"} adding ${LATENCY} ms per request; tables cached in ${tables.map((t) => t.dir).join(", ")}${browser ? `; ${browser}` : ""}`), rows },
    {
      title: HTTP2 ? `Remote IVF_PQ queries from Chromium over HTTP/2 and HTTP/1.1, ${LATENCY} ms per request` : `Remote IVF_PQ queries over HTTP, ${LATENCY} ms per request`,
      intro: [
        `${N} × ${DIM} float32 (${DATA === "spectrum" ? "spectrum model fitted to USE sentence embeddings" : "isotropic Gaussian clusters"}, cosine), IVF_PQ ${PARTITIONS} partitions × ${SUB_VECTORS} sub-vectors (k-means ${ITERATIONS} iterations), as ${tables.map((t) => `${Math.ceil(N / t.batch)} fragments of ${t.batch} rows (built ${t.buildSeconds === undefined ? "earlier" : `in ${t.buildSeconds} s`})${COMPACT ? `, published with publishTable(…, { compact: true }) as ${dataFiles(t.batch)} data file${dataFiles(t.batch) > 1 ? "s" : ""} (index rebuilt)` : ""}`).join(" and as ")}, cached; k = ${K}; ` +
          (HTTP2
            ? `${nq} queries per configuration, each a different vector; a fresh browser context (no connection, no cache) per configuration. Requests, round trips and bytes are counted on the server. ` +
              "Real Chromium (Playwright, launched with --ignore-certificate-errors) runs the queries through the public API, from a page served by the table's own server (same origin, so no CORS preflights). HTTP/2: TLS with a self-signed certificate made for the run, every request multiplexed over one connection; the page sets no `maxConnections`. HTTP/1.1: plain http://, where Chromium opens at most 6 connections per host and queues the rest; the page sets `maxConnections: 6`."
            : `${nq} queries per configuration (${Math.min(nq, BASELINE_NQ)} for the other readers, which run the sweep's ${BASELINE_SWEEP.map((i) => `${SWEEP[i]?.nprobes}:${SWEEP[i]?.refineFactor}`).join(", ")} only), each a different vector; a fresh connection per configuration. Requests, round trips and bytes are counted on the server. ` +
              "Requests pass through a connection limit: 6 (a browser over HTTP/1.1, which queues the rest in the order sent) or none (0; as HTTP/2 multiplexing would). The multi-range reader is given the limit as HttpStore `maxConnections`; \"no budget\" is the same reader without it. " +
              "Before each configuration the table's files are read through once, so the server answers from the page cache, as a static host or CDN answers from its cache (the bench's server reads ranges synchronously: a disk miss would stall every connection, and the configuration that ran first would pay it)."),
        "Open: connect + openTable (listing, manifest). \"On server\": from the first request's arrival to the last answer's end (the rest of a query's time is the client's work and its waits before sending). Cold: the first query (the index head with the data files' footers, the probed partitions, then per data file one request for the candidates' vectors and ids with the chunk checksum tables). Warm: the other queries (median, p99 of time; median and max of round trips).",
        ...goals(rows),
        ...(NOTE ? [NOTE] : []),
      ],
      columns: [
        col("reader", (r) => r.variant), col("connections", param("connections")), col("nprobes", param("nprobes")), col("refine", param("refineFactor")), col("queries", (r) => r.queries), col("recall@10", (r) => r.recall_at_10),
        col("open ms / trips", (r) => `${r.open_ms} / ${r.open_round_trips}`),
        col("cold ms / requests / trips", (r) => `${r.cold_ms} / ${r.cold_requests} / ${r.cold_round_trips}`), col("cold ms on server", (r) => r.cold_server_ms), col("cold KB", (r) => round((r.cold_bytes as number) / 1024, 0)),
        col("warm p50 / p99 ms", (r) => `${r.p50_ms} / ${r.p99_ms}`), col("warm p50 ms on server", (r) => r.server_p50_ms), col("warm requests", (r) => r.warm_requests_p50),
        col("warm trips p50 / max", (r) => `${r.warm_round_trips_p50} / ${r.warm_round_trips_max}`), col("warm KB", (r) => r.warm_bytes_p50 === null ? null : round((r.warm_bytes_p50 as number) / 1024, 0)),
      ],
      groupBy: "dataset",
      reproduce: HTTP2
        ? `npm run bench -- remote --http2${COMPACT ? " --compact" : ""} --data ${DATA} --n ${N} --batch ${BATCHES.join(",")} --iterations ${ITERATIONS} --queries ${NQ} --latency ${LATENCY} --sweep ${SWEEP.map((c) => `${c.nprobes}:${c.refineFactor}`).join(",")}`
        : `npm run bench -- remote${COMPACT ? " --compact" : ""} --data ${DATA} --n ${N} --batch ${BATCHES.join(",")} --iterations ${ITERATIONS} --queries ${NQ} --baseline-queries ${BASELINE_NQ} --latency ${LATENCY} --connections ${CONNECTION_LIMITS.join(",")} --sweep ${SWEEP.map((c) => `${c.nprobes}:${c.refineFactor}`).join(",")} --baseline-sweep ${BASELINE_SWEEP.join(",")}`,
    },
  );
}

await main();
