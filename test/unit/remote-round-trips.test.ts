/**
 * Round trips of a remote indexed query in the layout of the 1M-row bench table (`npm run bench --
 * remote`: 20 fragments, IVF_PQ, nprobes 20, refineFactor 10, select(["id"])), counted on a local
 * server that adds latency to every answer. The bench table is 20 × 50,000 rows of 384-d vectors;
 * here 20 × 40,000 rows of 8-d vectors: the same number of data files per query, and candidates
 * that touch as few of each fragment's id chunks, so the requests form the same waves:
 *
 *   cold   1  index head (its length is in the manifest) + every data file's footer
 *          2  the probed partitions (one multi-range request)
 *          3  candidates' vectors + their ids, one multi-range request per data file (+ chunk
 *             checksum tables)
 *   warm   1  the probed partitions not yet resident
 *          2  candidates' vectors + their ids, one request per data file
 *
 * A round trip is a chain link: a request sent after an earlier one was answered (static-server.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishTable } from "../../src/cli/publish.js";
import { connect, type Connection } from "../../src/connection.js";
import type { Row } from "../../src/data/rows.js";
import { Index } from "../../src/indexes/config.js";
import type { Table } from "../../src/table.js";
import { seededRandom } from "../../bench/datasets.js";
import { limitedFetch, roundTrips, serveStatic, type ServedRequest, type StaticServer } from "./static-server.js";

const FRAGMENTS = 20;
const PER_FRAGMENT = 40_000;
const DIM = 8;
/**
 * Long enough that the requests of one wave, sent within a few ms of each other on an idle machine
 * (tens of ms on a busy one), are never taken for a chain.
 */
const LATENCY_MS = 250;

const search = (t: Table, q: Float32Array): Promise<Row[]> => t.search(q).nprobes(20).refineFactor(10).select(["id"]).limit(10).toArray();

/**
 * A local table of `fragments` data files of `perFragment` random 8-d rows with an IVF_PQ index,
 * published and served with LATENCY_MS per answer (set up and torn down around the calling
 * describe); `want` holds the local table's answers to `queries`.
 */
function servedVectorTable(name: string, fragments: number, perFragment: number, seed: number) {
  const dir = mkdtempSync(join(tmpdir(), `quiver-remote-trips-${name}-`));
  const random = seededRandom(seed);
  const draw = (): Float32Array => Float32Array.from({ length: DIM }, () => random() * 2 - 1);
  const fixture = { queries: Array.from({ length: 3 }, draw), want: [] as Row[][], table: undefined as unknown as Table, server: undefined as unknown as StaticServer };
  let local: Connection | undefined;

  beforeAll(async () => {
    local = await connect(join(dir, "src"));
    for (let f = 0; f < fragments; f++) {
      const rows = Array.from({ length: perFragment }, (_, i) => ({ id: f * perFragment + i, vector: draw() }));
      fixture.table = f === 0 ? await local.createTable("t", rows) : (await fixture.table.add(rows), fixture.table);
    }
    await fixture.table.createIndex("vector", { config: Index.ivfPq({ numPartitions: 64, numSubVectors: 2 }) });
    for (const q of fixture.queries) fixture.want.push(await search(fixture.table, q));
    await publishTable(join(dir, "src"), "t", join(dir, "site"));
    fixture.server = await serveStatic(join(dir, "site"), { latencyMs: LATENCY_MS });
  }, 300_000);

  afterAll(async () => {
    await local?.close();
    await fixture.server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  return fixture;
}

describe("a remote indexed query in the 1M bench's layout", () => {
  const served = servedVectorTable("20", FRAGMENTS, PER_FRAGMENT, 11);
  const { queries, want } = served;

  async function logged(body: () => Promise<Row[]>): Promise<{ rows: Row[]; log: ServedRequest[] }> {
    const from = served.server.log.length;
    const rows = await body();
    return { rows, log: served.server.log.slice(from) };
  }

  it("answers as the local table: cold in 3 round trips, warm in 2", async () => {
    expect((await served.table.stats()).fragmentStats.numFragments).toBe(FRAGMENTS);
    const db = await connect(served.server.origin);
    const t = await db.openTable("t");
    const cold = await logged(() => search(t, queries[0]!));
    const warm = await logged(() => search(t, queries[1]!));
    const again = await logged(() => search(t, queries[2]!));
    await db.close();
    const figures = (log: ServedRequest[]) => ({ requests: log.length, roundTrips: roundTrips(log), bytes: log.reduce((n, r) => n + r.bytes, 0) });
    console.log(`remote round trips: ${JSON.stringify({ cold: figures(cold.log), warm: figures(warm.log), again: figures(again.log) })}`);
    expect(cold.rows).toEqual(want[0]);
    expect(warm.rows).toEqual(want[1]);
    expect(again.rows).toEqual(want[2]);
    const index = (log: ServedRequest[]): ServedRequest[] => log.filter((r) => r.path.includes("/_indices/"));
    // The head in one request (not the preamble first), the partitions in one more.
    expect(index(cold.log)).toHaveLength(2);
    expect(roundTrips(cold.log)).toBeLessThanOrEqual(3);
    expect(roundTrips(warm.log)).toBeLessThanOrEqual(2);
    expect(roundTrips(again.log)).toBeLessThanOrEqual(2);
    // Warm: one request for the partitions, and per data file one for the candidates' vectors and ids together.
    expect(index(warm.log)).toHaveLength(1);
    expect(warm.log.length).toBeLessThanOrEqual(1 + FRAGMENTS);
    // Cold: per data file its footer and one request for the candidates with the chunk checksum tables.
    expect(cold.log.length).toBeLessThanOrEqual(2 + 2 * FRAGMENTS);
  }, 120_000);

  it("through a browser's 6 connections, with maxConnections 6: the index head goes before the read-ahead footers, cold in 7 round trips", async () => {
    const run = async (maxConnections: number) => {
      const db = await connect(served.server.origin, { http: { fetch: limitedFetch(6), maxConnections } });
      const t = await db.openTable("t");
      const cold = await logged(() => search(t, queries[0]!));
      const warm = await logged(() => search(t, queries[1]!));
      await db.close();
      const head = cold.log.find((r) => r.path.includes("/_indices/"))!;
      // Footers answered before the index head arrived: requests it waited behind.
      const before = cold.log.filter((r) => r.path.includes("/data/") && r.end <= head.start).length;
      return { cold, warm, before, trips: roundTrips(cold.log), warmTrips: roundTrips(warm.log) };
    };
    const fifo = await run(0);
    const budget = await run(6);
    console.log(`6 connections, 20 data files: ${JSON.stringify({ fifo: [fifo.before, fifo.trips, fifo.warmTrips], budget: [budget.before, budget.trips, budget.warmTrips] })}`);
    for (const r of [fifo, budget]) {
      expect(r.cold.rows).toEqual(want[0]);
      expect(r.warm.rows).toEqual(want[1]);
    }
    // The head is asked for before the footers, so even in the order sent it waits behind none;
    // the budget guarantees one wave at most whatever the order.
    expect(fifo.before).toBe(0);
    expect(budget.before).toBeLessThanOrEqual(6);
    // 42 requests through 6 connections take at least 7 round trips (the candidates of 20 files at
    // least 4): the footers still waiting when the candidates are known go first (needed).
    expect(budget.trips).toBeLessThanOrEqual(7);
    expect(budget.warmTrips).toBeLessThanOrEqual(5);
  }, 120_000);
});

describe("a remote indexed query over 4 data files through a browser's 6 connections", () => {
  // The 1M bench table's layout: 4 fragments (of 250,000 rows there, of 80,000 here), so that a
  // wave of per-file requests fits in 6 connections. A fragment's 25 candidates touch under a
  // quarter of its id column's 157 checked chunks, so their ids are read with their vectors.
  const served = servedVectorTable("4", 4, 80_000, 12);
  const { queries, want } = served;

  it("answers as the local table: cold in 3 round trips, warm in 2, one request per data file and wave", async () => {
    const db = await connect(served.server.origin, { http: { fetch: limitedFetch(6), maxConnections: 6 } });
    const t = await db.openTable("t");
    const logs: ServedRequest[][] = [];
    for (const [i, q] of queries.entries()) {
      const from = served.server.log.length;
      expect(await search(t, q)).toEqual(want[i]);
      logs.push(served.server.log.slice(from));
    }
    await db.close();
    const [cold, ...warm] = logs;
    console.log(`4 data files, 6 connections: ${JSON.stringify(logs.map((l) => ({ requests: l.length, roundTrips: roundTrips(l) })))}`);
    expect(roundTrips(cold!)).toBeLessThanOrEqual(3);
    // Index head + 4 footers, the partitions, 4 candidate requests.
    expect(cold!.length).toBeLessThanOrEqual(1 + 4 + 1 + 4);
    for (const log of warm) {
      expect(roundTrips(log)).toBeLessThanOrEqual(2);
      expect(log.length).toBeLessThanOrEqual(1 + 4);
    }
  }, 120_000);
});

describe("a remote full-text query", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-remote-trips-fts-"));
  let local: Connection;
  let server: StaticServer;
  const words = ["apple", "banana", "cherry", "pear", "plum", "fig", "kiwi", "lime"];
  const rows = Array.from({ length: 12_000 }, (_, i) => ({ id: i, text: `${words[i % 8]} ${words[(i * 7) % 8]} w${i % 977}` }));

  beforeAll(async () => {
    local = await connect(join(dir, "src"));
    const t = await local.createTable("docs", rows.slice(0, 6000));
    await t.add(rows.slice(6000));
    await t.createIndex("text", { config: Index.fts() });
    await publishTable(join(dir, "src"), "docs", join(dir, "site"));
    server = await serveStatic(join(dir, "site"), { latencyMs: LATENCY_MS });
  }, 120_000);

  afterAll(async () => {
    await local?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers as the local table in at most 3 round trips (the data files' footers travel with the index)", async () => {
    const want = await (await local.openTable("docs")).search("plum w17", "fts").select(["id", "text"]).limit(10).toArray();
    const db = await connect(server.origin);
    const t = await db.openTable("docs");
    const from = server.log.length;
    const got = await t.search("plum w17", "fts").select(["id", "text"]).limit(10).toArray();
    const log = server.log.slice(from);
    await db.close();
    expect(got).toEqual(want);
    expect(roundTrips(log)).toBeLessThanOrEqual(3);
  }, 60_000);
});
