/**
 * The sharded part of `npm run bench -- scale`: one table vs the same rows published as 4 shards,
 * both read over HTTP from a local static server with a fixed latency added to every request (a
 * CDN far away). GloVe vectors (glove-100d-100k, cosine, IVF_PQ) with each vector's word as a
 * BM25-indexed text column; the query words' vectors and the words themselves as queries.
 *
 * Per layout and query type: cold open (connect + open + first query: ms, requests, bytes, round
 * trips of the open and of the first query), then per query (the caches warm) the median and p99
 * ms, requests, bytes and round trips (median and max), and recall@10 against exact search of the
 * local table. Requests, bytes and round trips are counted on the server (static-server.ts). A sharded query sends its shards' requests in parallel, so its
 * latency follows the slowest shard while its requests add up.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type Connection } from "../src/connection.js";
import type { Table } from "../src/table.js";
import { Index } from "../src/indexes/config.js";
import { HttpStore } from "../src/storage/http-store.js";
import { publishTable } from "../src/cli/publish.js";
import { publishShardedTable } from "../src/cli/publish-shards.js";
import type { Row } from "../src/data/rows.js";
import { roundTrips, serveStatic, type ServedRequest } from "../test/unit/static-server.js";
import { loadGlove } from "./datasets.js";
import { median, p99, progress, round, type ResultRow } from "./report.js";

export interface ShardedScaleOptions {
  /** Rows of glove-100d-100k to use (default all 100,000). */
  rows: number;
  /** Queries per layout and query type (default 200). */
  queries: number;
  shards: number;
  /** Added to every HTTP request, in ms (default 50). */
  latencyMs: number;
  nprobes: number;
  refineFactor: number;
}

type Reader = { search: (q: Float32Array | string, kind: QueryKind) => Promise<Row[]> };
/** What both a Table and a ShardedTable offer for the queries measured. */
type Searchable = Pick<Table, "search" | "query">;
type QueryKind = "vector" | "fts" | "hybrid";

const sum = (log: readonly ServedRequest[]): number => log.reduce((n, r) => n + r.bytes, 0);

export async function shardedScale(o: ShardedScaleOptions): Promise<{ rows: ResultRow[]; description: string }> {
  const glove = loadGlove("cosine");
  const n = Math.min(o.rows, glove.base.n);
  const dim = glove.base.dim;
  const dir = mkdtempSync(join(tmpdir(), "quiver-bench-scale-"));
  // Every answer waits `latencyMs`, as from a distant server; the server logs what it sent.
  const server = await serveStatic(join(dir, "site"), { latencyMs: o.latencyMs });
  try {
    progress(`scale/sharded: building ${n} rows with IVF_PQ and BM25`);
    const src = join(dir, "src");
    const local = await connect(src);
    const rows = Array.from({ length: n }, (_, i) => ({ id: i, word: glove.words![i]!, vector: glove.base.data.slice(i * dim, (i + 1) * dim) }));
    const table = await local.createTable("words", rows);
    await table.createIndex("vector", { config: Index.ivfPq({ distanceType: "cosine", numSubVectors: 25 }) });
    await table.createIndex("word", { config: Index.fts() });
    const nq = Math.min(o.queries, glove.queries.n);
    const vectors = Array.from({ length: nq }, (_, q) => glove.queries.data.slice(q * dim, (q + 1) * dim));
    const words = glove.queryWords!.slice(0, nq);
    const truth: Set<unknown>[] = [];
    for (const v of vectors) truth.push(new Set((await table.search(v).distanceType("cosine").bypassVectorIndex().select(["id"]).limit(10).toArray()).map((r) => r.id)));
    await local.close();

    progress(`scale/sharded: publishing one table and ${o.shards} shards`);
    await publishTable(src, "words", join(dir, "site", "one"));
    await publishShardedTable(src, "words", join(dir, "site", "sharded"), { shards: o.shards });

    const out: ResultRow[] = [];
    const reader = (t: Searchable): Reader => ({
      search: (q, kind) => {
        if (kind === "fts") return t.search(q as string, "fts").select(["id", "word"]).limit(10).toArray();
        const [vector, text] = kind === "vector" ? [q as Float32Array, undefined] : (q as unknown as [Float32Array, string]);
        const vq = (text === undefined ? t.search(vector) : t.query().nearestTo(vector).fullTextSearch(text)).distanceType("cosine").nprobes(o.nprobes).refineFactor(o.refineFactor);
        return vq.select(["id", "word"]).limit(10).toArray();
      },
    });
    const layouts: { variant: string; base: string; open: (db: Connection) => Promise<Reader> }[] = [
      { variant: "one table", base: "one", open: async (db) => reader(await db.openTable("words")) },
      { variant: `${o.shards} shards`, base: "sharded", open: async (db) => reader(await db.openShardedTable("words")) },
    ];
    for (const kind of ["vector", "fts", "hybrid"] as QueryKind[]) {
      for (const layout of layouts) {
        progress(`scale/sharded: ${layout.variant}, ${kind}`);
        const store = new HttpStore(`${server.origin}/${layout.base}`);
        const arg = (q: number): never => (kind === "vector" ? vectors[q] : kind === "fts" ? words[q] : [vectors[q], words[q]]) as never;
        const from = server.log.length;
        const t0 = performance.now();
        const db = await connect(store);
        const reader = await layout.open(db);
        const openMs = performance.now() - t0;
        const openLog = server.log.slice(from);
        await reader.search(arg(0), kind);
        const coldLog = server.log.slice(from);
        const cold = { ms: performance.now() - t0, requests: coldLog.length, bytes: sum(coldLog), roundTrips: roundTrips(coldLog), queryRoundTrips: roundTrips(coldLog.slice(openLog.length)) };
        const times: number[] = [];
        const trips: number[] = [];
        let requests = 0;
        let bytes = 0;
        let found = 0;
        // Query 0 again first: the cold query's vector, now warm.
        for (let q = 0; q < nq; q++) {
          const at = server.log.length;
          const s = performance.now();
          const hits = await reader.search(arg(q), kind);
          times.push(performance.now() - s);
          const log = server.log.slice(at);
          requests += log.length;
          bytes += sum(log);
          trips.push(roundTrips(log));
          if (kind === "vector") found += hits.filter((h) => truth[q]!.has(h.id)).length;
        }
        await db.close();
        out.push({
          system: "quiver", variant: layout.variant, dataset: `glove-100d-100k (${n} rows), HTTP +${o.latencyMs} ms/request`, metric: kind === "fts" ? "bm25" : "cosine",
          query: kind, params: kind === "fts" ? { k: 10 } : { k: 10, nprobes: o.nprobes, refineFactor: o.refineFactor },
          open_ms: round(openMs, 1), open_round_trips: roundTrips(openLog), cold_first_query_ms: round(cold.ms, 1), cold_requests: cold.requests, cold_bytes: cold.bytes,
          cold_round_trips: cold.roundTrips, cold_query_round_trips: cold.queryRoundTrips, round_trips_p50: median(trips), round_trips_max: Math.max(...trips),
          p50_ms: round(median(times), 1), p99_ms: round(p99(times), 1),
          requests_per_query: round(requests / nq, 2), bytes_per_query: Math.round(bytes / nq),
          ...(kind === "vector" ? { recall_at_10: round(found / (10 * nq), 3) } : {}),
          queries: nq,
        });
      }
    }
    return {
      rows: out,
      description: `${n} GloVe vectors (100-d, cosine) with their words as a BM25-indexed text column; IVF_PQ (√n partitions, 25 sub-vectors) in the table and in each of the ${o.shards} shards (built by \`publish --shards ${o.shards}\`, hash split). Read over HTTP from a local static server, every request delayed by ${o.latencyMs} ms; ${nq} query words (their vectors, the words as text). Recall@10 against exact search.`,
    };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
