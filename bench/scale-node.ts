/**
 * The Chromium scale benchmark's table and queries (bench/scale-chromium.ts: the same seeded
 * `spectrum` or `clusters` vectors, IVF_PQ cosine, top-10 with select(["id"])) in Node on the file
 * system, to see where one query's time and bytes go without a browser:
 *
 *   npx tsx bench/scale-node.ts --dir /tmp/t --rows 200000 --nprobes 45 --refine 10
 *   npx tsx bench/scale-node.ts --dir /tmp/t --dataset clusters --subvectors 96 --queries 50
 *
 * `--dir` keeps the table: a later run with the same directory (and the same --rows, --dataset,
 * --partitions, --subvectors) reuses it instead of ingesting and building again. Per search
 * configuration it prints recall@10 against exact search (the table's own, bypassVectorIndex), the
 * bytes and requests each warm query reads (a counting BlobStore), the session's WebAssembly and
 * cache bytes, page-free latency, and one query's analyzePlan() with its per-stage timings.
 * Timings on a shared machine are indications only; the counts are exact. Run with
 * `node --expose-gc --import tsx bench/scale-node.ts …` for the JS heap and ArrayBuffer bytes kept
 * after a gc.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BlobStore } from "../src/storage/blob-store.js";
import { countReads } from "../src/storage/read-counter.js";
import { median, p99, round } from "./report.js";
import { fitSpectrum } from "./scale-spectrum.js";
import { BASE_STREAM, QUERY_STREAM, vectorModel, type VectorModel } from "./scale-page/generate.js";

const args = process.argv.slice(2);
const str = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const num = (name: string, dflt: number): number => Number(str(name, String(dflt)));
const DIM = 384;
const K = 10;
const ROWS = num("rows", 200_000);
const DATASET = str("dataset", "spectrum") as "spectrum" | "clusters";
const PARTITIONS = num("partitions", Math.round(Math.sqrt(ROWS)));
const SUB_VECTORS = num("subvectors", 96);
const QUERIES = num("queries", 100);
const BATCH = num("batch", 50_000);
const DIR = str("dir", `/tmp/quiver-scale-node-${DATASET}-${ROWS}`);
const NPROBES = str("nprobes", String(Math.round(PARTITIONS / 10))).split(",").map(Number);
const REFINE = str("refine", "10").split(",").map(Number);
/** The measured connection's session budget (connect({ cacheBytes })); default the session's own. */
const CACHE_MIB = num("cache-mib", 0);

/** The data set's model; the spectrum fit (seconds of eigen-decomposition) is kept in the directory. */
async function model(): Promise<VectorModel> {
  if (DATASET === "clusters") return { kind: "clusters", dim: DIM, clusters: 100, spread: 0.5, seed: 42 };
  const file = join(DIR, "spectrum-model.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as VectorModel;
  const fitted = (await fitSpectrum(DIM, 42)).model;
  mkdirSync(DIR, { recursive: true });
  writeFileSync(file, JSON.stringify(fitted));
  return fitted;
}

/** Reads through the store, all of them and those of index files (src/storage/read-counter.ts). */
function counting(inner: BlobStore): { store: BlobStore; counts: { bytes: number; requests: number; indexBytes: number } } {
  const index = countReads(inner, (key) => key.includes("_indices/"));
  const all = countReads(index.store);
  const counts = {
    get bytes() { return all.reads.bytes; },
    get requests() { return all.reads.requests; },
    get indexBytes() { return index.reads.bytes; },
  };
  return { store: all.store, counts };
}

async function main(): Promise<void> {
  const { connect, openStore, Index } = await import("../src/index.js");
  const m = await model();
  const metaFile = join(DIR, "scale-node.json");
  const wanted = JSON.stringify({ ROWS, DATASET, PARTITIONS, SUB_VECTORS });
  if (!existsSync(metaFile) || readFileSync(metaFile, "utf8") !== wanted) {
    mkdirSync(DIR, { recursive: true });
    const db = await connect(DIR);
    const draw = vectorModel(m)(BASE_STREAM);
    let table: Awaited<ReturnType<typeof db.createTable>> | undefined;
    for (let first = 0; first < ROWS; first += BATCH) {
      const count = Math.min(BATCH, ROWS - first);
      const block = draw(count);
      const rows = Array.from({ length: count }, (_, i) => ({ id: first + i, vector: block.subarray(i * DIM, (i + 1) * DIM) }));
      if (table === undefined) table = await db.createTable("vectors", rows, { mode: "overwrite" });
      else await table.add(rows);
      process.stderr.write(`ingest ${first + count}/${ROWS}\n`);
    }
    const t = performance.now();
    await table!.createIndex("vector", { config: Index.ivfPq({ numPartitions: PARTITIONS, numSubVectors: SUB_VECTORS, maxIterations: 10, distanceType: "cosine" }) });
    process.stderr.write(`build ${round((performance.now() - t) / 1000, 1)} s\n`);
    await db.close();
    writeFileSync(metaFile, wanted);
  }

  const queries = vectorModel(m)(QUERY_STREAM)(QUERIES);
  const q = (i: number): Float32Array => queries.slice(i * DIM, (i + 1) * DIM);
  const truthFile = join(DIR, `truth-${QUERIES}.json`);
  let truth: number[][];
  if (existsSync(truthFile)) truth = JSON.parse(readFileSync(truthFile, "utf8")) as number[][];
  else {
    // Exact search on a connection of its own: its vector blocks must not warm the measured one.
    const exact = await connect(DIR);
    const all = Array.from({ length: QUERIES }, (_, i) => q(i));
    const hits = await (await exact.openTable("vectors")).search(all).bypassVectorIndex().distanceType("cosine").select(["id"]).limit(K).toArray();
    truth = all.map(() => []);
    for (const h of hits) truth[h._query_index as number]!.push(h.id as number);
    writeFileSync(truthFile, JSON.stringify(truth));
    await exact.close();
  }
  const { store, counts } = counting(await openStore(DIR));
  const db = await connect(store, CACHE_MIB > 0 ? { cacheBytes: CACHE_MIB * 2 ** 20 } : {});
  const table = await db.openTable("vectors");
  const search = (i: number, nprobes: number, refine: number) =>
    table.search(q(i)).distanceType("cosine").nprobes(nprobes).refineFactor(refine).select(["id"]).limit(K);
  for (const nprobes of NPROBES) {
    for (const refine of REFINE) {
      for (let i = 0; i < Math.min(10, QUERIES); i++) await search(i, nprobes, refine).toArray();
      const b0 = counts.bytes;
      const r0 = counts.requests;
      const i0 = counts.indexBytes;
      const lat: number[] = [];
      let hit = 0;
      for (let i = 0; i < QUERIES; i++) {
        const t = performance.now();
        const rows = await search(i, nprobes, refine).toArray();
        lat.push(performance.now() - t);
        const gt = new Set(truth[i]);
        for (const r of rows) if (gt.has(r.id as number)) hit++;
      }
      const stats = await db.memoryStats();
      (globalThis as { gc?: () => void }).gc?.();
      const js = process.memoryUsage();
      console.log(JSON.stringify({
        nprobes, refine, recall: round(hit / (QUERIES * K), 3), p50_ms: round(median(lat), 2), p99_ms: round(p99(lat), 2),
        bytes_per_query: Math.round((counts.bytes - b0) / QUERIES), requests_per_query: round((counts.requests - r0) / QUERIES, 1),
        index_bytes_per_query: Math.round((counts.indexBytes - i0) / QUERIES),
        wasm_reserved_mib: round(stats.wasm.reservedBytes / 2 ** 20, 1), wasm_allocated_mib: round(stats.wasm.allocatedBytes / 2 ** 20, 1),
        cache_mib: round(stats.cache.bytes / 2 ** 20, 1),
        // After a gc when run with --expose-gc (node --expose-gc --import tsx …): what the JS side keeps.
        js_heap_mib: round(js.heapUsed / 2 ** 20, 1), array_buffers_mib: round(js.arrayBuffers / 2 ** 20, 1),
      }));
      console.log(await search(QUERIES - 1, nprobes, refine).analyzePlan());
    }
  }
  await db.close();
}

await main();
