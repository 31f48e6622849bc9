/**
 * What a remote indexed query costs in requests and round trips: a 30K-row IVF_PQ table in three
 * fragments is published and served by a local server that answers multi-range requests and adds
 * latency, and every request is logged on the server. Re-ranking reads its candidates in one
 * planned read per fragment (not one request per candidate), a query's partitions in one request,
 * checked chunks are kept by (file, range) in the session across queries, and corruption in a
 * range is still CORRUPT_FILE.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishTable } from "../../src/cli/publish.js";
import { connect, type Connection } from "../../src/connection.js";
import type { Row } from "../../src/data/rows.js";
import { Index } from "../../src/indexes/config.js";
import { Session } from "../../src/session.js";
import { HttpStore } from "../../src/storage/http-store.js";
import type { Table } from "../../src/table.js";
import { seededRandom as rng } from "../../bench/datasets.js";
import { roundTrips, serveStatic, type ServedRequest, type StaticServer } from "./static-server.js";

const ROWS = 30_000;
const DIM = 96;
const PER_FRAGMENT = 10_000;
const FRAGMENTS = ROWS / PER_FRAGMENT;
const K = 10;
const REFINE = 10;
const NPROBES = 8;
const LATENCY_MS = 5;

function makeRows(start: number, n: number, r: () => number): Row[] {
  return Array.from({ length: n }, (_, k) => {
    const vector = new Float32Array(DIM);
    for (let j = 0; j < DIM; j++) vector[j] = r() * 2 - 1;
    return { id: start + k, vector };
  });
}

const search = (t: Table, q: Float32Array): Promise<Row[]> => t.search(q).nprobes(NPROBES).refineFactor(REFINE).select(["id"]).limit(K).toArray();

/** Requests `server` answered while `body` ran, and `body`'s result. */
async function logged<T>(server: StaticServer, body: () => Promise<T>): Promise<{ result: T; log: ServedRequest[] }> {
  const from = server.log.length;
  const result = await body();
  return { result, log: server.log.slice(from) };
}

const dataRequests = (log: readonly ServedRequest[]): number => log.filter((r) => r.path.includes("/data/")).length;
const indexRequests = (log: readonly ServedRequest[]): number => log.filter((r) => r.path.includes("/_indices/")).length;

describe("remote indexed queries in few requests", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-remote-requests-"));
  const src = join(dir, "src");
  const site = join(dir, "site");
  let local: Connection;
  let table: Table;
  let server: StaticServer;
  let url: string;
  const queries = Array.from({ length: 4 }, (_, i) => makeRows(0, 1, rng(100 + i))[0]!.vector as Float32Array);
  const want: Row[][] = [];
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    local = await connect(src);
    const r = rng(5);
    table = await local.createTable("docs", makeRows(0, PER_FRAGMENT, r));
    for (let at = PER_FRAGMENT; at < ROWS; at += PER_FRAGMENT) await table.add(makeRows(at, PER_FRAGMENT, r));
    await table.createIndex("vector", { config: Index.ivfPq({ numPartitions: 64, numSubVectors: 12 }) });
    for (const q of queries) want.push(await search(table, q));
    await publishTable(src, "docs", site);
    server = await serveStatic(site, { latencyMs: LATENCY_MS });
    url = server.origin;
  }, 180_000);

  afterAll(async () => {
    console.log(`remote request figures: ${JSON.stringify(figures)}`);
    await local?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("re-ranks 100 candidates with a few requests per fragment and answers as the local table; a warm query takes at most 4 round trips", async () => {
    const db = await connect(url);
    const t = await db.openTable("docs");
    const cold = await logged(server, () => search(t, queries[0]!));
    expect(cold.result).toEqual(want[0]);
    const warm = await logged(server, () => search(t, queries[1]!));
    expect(warm.result).toEqual(want[1]);
    figures.cold = { requests: cold.log.length, data: dataRequests(cold.log), index: indexRequests(cold.log), roundTrips: roundTrips(cold.log) };
    figures.warm = { requests: warm.log.length, data: dataRequests(warm.log), index: indexRequests(warm.log), roundTrips: roundTrips(warm.log), bytes: warm.log.reduce((s, r) => s + r.bytes, 0) };
    // Warm: candidates' vectors (one request per fragment), the hits' ids (one per fragment that
    // has hits), the probed partitions (one request) — against K × REFINE = 100 candidates.
    expect(dataRequests(warm.log)).toBeLessThanOrEqual(2 * FRAGMENTS);
    expect(indexRequests(warm.log)).toBeLessThanOrEqual(1);
    expect(roundTrips(warm.log)).toBeLessThanOrEqual(4);
    // Cold adds the fragments' footers, chunk checksum tables and the index head, still in waves.
    expect(dataRequests(cold.log)).toBeLessThanOrEqual(5 * FRAGMENTS);
    expect(roundTrips(cold.log)).toBeLessThanOrEqual(8);
    // Over-read: per candidate its own row (384 bytes, one checksummed chunk) and its id read ahead
    // (a 512-byte chunk), each with its chunk's checksum and a multipart part header (~100 bytes):
    // nowhere near the vector columns (3 × 3.84 MB), nor 4 KiB chunks (format 2: 4–8 KiB each).
    const dataBytes = warm.log.filter((r) => r.path.includes("/data/")).reduce((s, r) => s + r.bytes, 0);
    expect(dataBytes).toBeLessThan(K * REFINE * (DIM * 4 + 512 + 4 * 128));
    // analyzePlan() counts the same at the store: calls (a multi-range read is one) and round trips.
    const planned = await logged(server, () => t.search(queries[2]!).nprobes(NPROBES).refineFactor(REFINE).select(["id"]).limit(K).analyzePlan());
    const plan = planned.result;
    const [, calls, trips] = /read [\d,]+ bytes in (\d+) request\(s\) and (\d+) round trip\(s\)/.exec(plan) ?? [];
    // Per data file the candidates' rows, their chunks' checksums and the ids read ahead are three
    // store calls, which HttpStore sends as one multi-range request: the server sees one per file.
    expect(Number(calls)).toBeGreaterThan(0);
    expect(Number(calls)).toBeLessThanOrEqual(3 * FRAGMENTS + 1);
    expect(dataRequests(planned.log)).toBeLessThanOrEqual(FRAGMENTS);
    expect(Number(trips)).toBeGreaterThan(0);
    expect(Number(trips)).toBeLessThanOrEqual(4);
    await db.close();
  });

  it("against a server without multi-range reads: the same answers, one request per span", async () => {
    const plain = await serveStatic(site, { multiRange: "first", latencyMs: LATENCY_MS });
    try {
      const db = await connect(`${plain.origin}`);
      const t = await db.openTable("docs");
      await search(t, queries[0]!);
      const warm = await logged(plain, () => search(t, queries[1]!));
      expect(warm.result).toEqual(want[1]);
      figures.warmWithoutMultiRange = { requests: warm.log.length, data: dataRequests(warm.log), roundTrips: roundTrips(warm.log) };
      // More requests than with multi-range reads (sent 16 at a time per file, so more round trips too).
      expect(dataRequests(warm.log)).toBeGreaterThan(2 * FRAGMENTS);
      await db.close();
    } finally {
      await plain.close();
    }
  });

  it("keeps checked chunks by (file, range) in the session: a repeated query reads nothing, within the budget, freed on close", async () => {
    const session = new Session({ cacheBytes: 2 ** 20 * 8 });
    const store = new HttpStore(url);
    const db = await connect(store, { session });
    const t = await db.openTable("docs");
    for (const q of queries) await search(t, q);
    const stats = session.memoryStats().cache;
    expect(stats.byKind.range.entries).toBeGreaterThan(0);
    expect(stats.bytes).toBeLessThanOrEqual(stats.limitBytes);
    const hits = stats.hits;
    const again = await logged(server, () => search(t, queries[0]!));
    expect(again.result).toEqual(want[0]);
    expect(again.log).toEqual([]);
    expect(session.memoryStats().cache.hits).toBeGreaterThan(hits);
    figures.rangeCache = { entries: stats.byKind.range.entries, bytes: stats.byKind.range.bytes };
    await db.close();
    expect(session.memoryStats().cache.byKind.range).toEqual({ entries: 0, bytes: 0 });
    session.close();
  });

  it("a flipped bit in a remote vector is CORRUPT_FILE, every time (the bad chunk is never cached)", async () => {
    const bad = join(dir, "bad");
    cpSync(site, bad, { recursive: true });
    const hit = want[2]![0]!.id as number;
    const bytes = new Uint8Array((makeRows(0, ROWS, rng(5))[hit]!.vector as Float32Array).buffer);
    const dataDir = join(bad, "docs.quiver", "data");
    let flipped = 0;
    for (const name of readdirSync(dataDir)) {
      const file = readFileSync(join(dataDir, name));
      const at = file.indexOf(bytes);
      if (at < 0) continue;
      file[at + 100]! ^= 0x10;
      writeFileSync(join(dataDir, name), file);
      flipped++;
    }
    expect(flipped).toBe(1);
    const served = await serveStatic(bad);
    try {
      const db = await connect(served.origin);
      const t = await db.openTable("docs");
      await expect(search(t, queries[2]!)).rejects.toMatchObject({ code: "CORRUPT_FILE" });
      await expect(search(t, queries[2]!)).rejects.toMatchObject({ code: "CORRUPT_FILE" });
      // Queries that do not touch the chunk still work.
      expect(await search(t, queries[3]!)).toEqual(want[3]);
      await db.close();
    } finally {
      await served.close();
    }
  });

  it("a flipped bit in a chunk checksum read alone (not with its table) is CORRUPT_FILE, every time", async () => {
    // Few candidates per file, so their chunks' checksums are read one by one, not as the table.
    const few = (t: Table): Promise<Row[]> => t.search(queries[2]!).nprobes(NPROBES).refineFactor(2).select(["id"]).limit(3).toArray();
    const good = await connect(url);
    const hit = (await few(await good.openTable("docs")))[0]!.id as number;
    await good.close();
    const bad = join(dir, "bad-entry");
    cpSync(site, bad, { recursive: true });
    const bytes = new Uint8Array((makeRows(0, ROWS, rng(5))[hit]!.vector as Float32Array).buffer);
    const dataDir = join(bad, "docs.quiver", "data");
    let table: [number, number] | undefined;
    let dataFile = "";
    for (const name of readdirSync(dataDir)) {
      const file = readFileSync(join(dataDir, name));
      const at = file.indexOf(bytes);
      if (at < 0) continue;
      const footerLength = file.readUInt32LE(file.length - 12);
      const footer = JSON.parse(file.subarray(file.length - 12 - footerLength, file.length - 12).toString()) as { chunkBytes: number; columns: { name: string; values: number[]; valueChunks: number[]; chunkBytes?: number }[] };
      const vector = footer.columns.find((c) => c.name === "vector")!;
      table = [vector.valueChunks[0]!, vector.valueChunks[1]!];
      file[vector.valueChunks[0]! + 4 * Math.floor((at - vector.values[0]!) / (vector.chunkBytes ?? footer.chunkBytes))]! ^= 0x04;
      writeFileSync(join(dataDir, name), file);
      dataFile = name;
    }
    expect(table).toBeDefined();
    const served = await serveStatic(bad, { multiRange: "multipart" });
    try {
      const db = await connect(served.origin);
      const t = await db.openTable("docs");
      await expect(few(t)).rejects.toMatchObject({ code: "CORRUPT_FILE" });
      await expect(few(t)).rejects.toMatchObject({ code: "CORRUPT_FILE" });
      // The checksums were read alone: no row read of the file (the footer's read of the file's
      // tail aside) asked for its whole table.
      const [start, length] = table!;
      const asked = served.log.filter((r) => r.path.endsWith(dataFile) && r.range?.includes(",")).flatMap((r) => (r.range ?? "").replace("bytes=", "").split(",").map((x) => x.split("-").map(Number)));
      expect(asked.some(([a, b]) => a! <= start && b! >= start + length - 1)).toBe(false);
      expect(asked.some(([a, b]) => a! >= start && b! < start + length)).toBe(true);
      await db.close();
    } finally {
      await served.close();
    }
  });
});
