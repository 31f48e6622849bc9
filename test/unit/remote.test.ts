/**
 * Remote read-only tables: a 20K-row table with 128-d vectors and a long text column is built on
 * disk, published with `npm run publish-table`, served by a local static server with Range support,
 * and opened over HTTP. Queries must give the local table's answers while fetching only the columns
 * they need: bytes are counted by the HttpStore and, independently, by the server.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Connection } from "../../src/connection.js";
import type { Row } from "../../src/data/rows.js";
import { HttpStore } from "../../src/storage/http-store.js";
import { manifestKey } from "../../src/storage/manifest.js";
import type { Table } from "../../src/table.js";
import { connectThrough } from "../../src/worker/client.js";
import { serveStatic, type StaticServer } from "./static-server.js";
import { startTsWorker } from "./worker-harness.js";
import { seededRandom as rng } from "../../bench/datasets.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const ROWS = 20_000;
const DIM = 128;
const PER_FRAGMENT = 5_000;
const TEXT = 200;


function makeRows(start: number, n: number, r: () => number): Row[] {
  return Array.from({ length: n }, (_, k) => {
    const id = start + k;
    const vector = new Float32Array(DIM);
    for (let j = 0; j < DIM; j++) vector[j] = r() * 2 - 1;
    return { id, year: 2000 + (id % 25), category: `c${id % 7}`, text: `row ${id} `.padEnd(TEXT, "lorem ipsum "), vector };
  });
}

/** Runs `body` on the published table through a fresh HttpStore; returns its result and the bytes fetched. */
async function cold<T>(url: string, body: (table: Table) => Promise<T>): Promise<{ result: T; bytes: number; requests: number }> {
  const store = new HttpStore(url);
  const db = await connect(store);
  try {
    const result = await body(await db.openTable("docs"));
    return { result, bytes: store.bytesFetched, requests: store.requests };
  } finally {
    await db.close();
  }
}

describe("remote read-only tables over HTTP", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-remote-"));
  const src = join(dir, "src");
  const out = join(dir, "site", "db");
  let server: StaticServer;
  let local: Connection;
  let table: Table;
  let url: string;
  let tableBytes = 0;
  const query = makeRows(0, 1, rng(99))[0]!.vector as Float32Array;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    local = await connect(src);
    const r = rng(7);
    table = await local.createTable("docs", makeRows(0, PER_FRAGMENT, r));
    for (let at = PER_FRAGMENT; at < ROWS; at += PER_FRAGMENT) await table.add(makeRows(at, PER_FRAGMENT, r));
    const run = spawnSync("npm", ["run", "--silent", "publish-table", "--", src, "docs", out], { cwd: root, encoding: "utf8", timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/published docs: \d+ files/);
    server = await serveStatic(join(dir, "site"));
    url = `${server.origin}/db`;
    const listing = (await (await fetch(`${url}/_listing.json`)).json()) as { key: string; size: number }[];
    tableBytes = listing.filter((e) => e.key.startsWith("docs.quiver/")).reduce((s, e) => s + e.size, 0);
    figures.tableBytes = tableBytes;
  }, 120_000);

  afterAll(async () => {
    console.log(`remote table figures: ${JSON.stringify(figures)}`);
    await local?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("publishes every file of the table and a listing", async () => {
    const listing = (await (await fetch(`${url}/_listing.json`)).json()) as { key: string; size: number }[];
    expect(listing.filter((e) => e.key.includes("/_versions/")).map((e) => e.key).sort()).toEqual(
      [1, 2, 3, 4].map((v) => manifestKey("docs", v)),
    );
    expect(listing.filter((e) => e.key.includes("/data/"))).toHaveLength(ROWS / PER_FRAGMENT);
    // vectors alone are 10 MB, the text column 4 MB
    expect(tableBytes).toBeGreaterThan(ROWS * (DIM * 4 + TEXT));
  });

  it("connect(\"http://…\") opens the table read-only: same rows, versions, and READ_ONLY for writes", async () => {
    const db = await connect(url);
    expect(await db.tableNames()).toEqual(["docs"]);
    const remote = await db.openTable("docs");
    expect(await remote.countRows()).toBe(ROWS);
    expect(await remote.version()).toBe(4);
    expect((await remote.listVersions()).map((v) => v.metadata.operation)).toEqual(["create", "append", "append", "append"]);
    await expect(remote.add(makeRows(ROWS, 1, rng(1)))).rejects.toMatchObject({ code: "READ_ONLY" });
    await expect(remote.delete("id < 10")).rejects.toMatchObject({ code: "READ_ONLY" });
    await expect(remote.update({ where: "id = 1", values: { year: 1 } })).rejects.toMatchObject({ code: "READ_ONLY" });
    await expect(db.createTable("other", [{ x: 1 }])).rejects.toMatchObject({ code: "READ_ONLY" });
    await remote.checkout(1);
    expect(await remote.countRows()).toBe(PER_FRAGMENT);
    await db.close();
  });

  it("an exact vector search gives the local answer and reads the vector column, not the text", async () => {
    const want = await table.search(query).select(["id"]).limit(10).toArray();
    const sentBefore = server.bytesSent();
    const { result, bytes, requests } = await cold(url, (t) => t.search(query).select(["id"]).limit(10).toArray());
    expect(result).toEqual(want);
    const vectorBytes = ROWS * DIM * 4;
    const textBytes = ROWS * TEXT;
    figures.vectorSearch = { bytes, requests, share: +(bytes / tableBytes).toFixed(3), vectorBytes, textBytes };
    expect(server.bytesSent() - sentBefore).toBe(bytes);
    expect(bytes).toBeGreaterThanOrEqual(vectorBytes);
    expect(bytes).toBeLessThan(vectorBytes + textBytes / 10);
    expect(bytes).toBeLessThan(tableBytes - textBytes * 0.9);
  });

  it("a filtered scan of two small columns reads a small fraction of the table", async () => {
    const where = "year >= 2020 AND category = 'c3'";
    const want = await table.query().where(where).select(["id", "year"]).toArray();
    expect(want.length).toBeGreaterThan(100);
    const { result, bytes, requests } = await cold(url, (t) => t.query().where(where).select(["id", "year"]).toArray());
    expect(result).toEqual(want);
    figures.filteredScan = { bytes, requests, share: +(bytes / tableBytes).toFixed(4), rows: result.length };
    // id, year and category: 3 columns of 20K small values, plus footers and manifests
    expect(bytes).toBeLessThan(tableBytes * 0.05);
  });

  it("a filtered vector search gives the local answer", async () => {
    const want = await table.search(query).where("category = 'c2'").select(["id", "category", "year"]).limit(5).toArray();
    const { result, bytes } = await cold(url, (t) => t.search(query).where("category = 'c2'").select(["id", "category", "year"]).limit(5).toArray());
    expect(result).toEqual(want);
    expect(result.every((r) => r.category === "c2")).toBe(true);
    figures.filteredVectorSearch = { bytes, share: +(bytes / tableBytes).toFixed(3) };
    expect(bytes).toBeLessThan(tableBytes - ROWS * TEXT * 0.9);
  });

  it("opens the same table through quiverdb/worker, with the same answers", async () => {
    const worker = startTsWorker();
    try {
      const db = await connectThrough(url, { worker }, () => worker);
      const t = await db.openTable("docs");
      expect(await t.search(query).select(["id"]).limit(10).toArray()).toEqual(await table.search(query).select(["id"]).limit(10).toArray());
      await expect(t.delete("id < 3")).rejects.toMatchObject({ code: "READ_ONLY" });
      await db.close();
    } finally {
      await worker.terminate();
    }
  });

  it("a second query on an open table fetches only the rows it returns", async () => {
    const store = new HttpStore(url);
    const db = await connect(store);
    const t = await db.openTable("docs");
    await t.search(query).select(["id"]).limit(10).toArray();
    const first = store.bytesFetched;
    const again = await t.search(query.map((x) => -x)).select(["id"]).limit(10).toArray();
    expect(again).toEqual(await table.search(query.map((x) => -x)).select(["id"]).limit(10).toArray());
    figures.warmVectorSearch = { bytes: store.bytesFetched - first };
    // The vectors are in the session's blocks; the ten ids are range-read (whole 4 KiB checked
    // chunks), not the id column (20,000 × 8 bytes).
    expect(store.bytesFetched - first).toBeGreaterThan(0);
    expect(store.bytesFetched - first).toBeLessThanOrEqual(10 * 2 * 4096);
    // Returning the text of 10 hits: measured, to show what the reader fetches for it today.
    const before = store.bytesFetched;
    await t.search(query).select(["id", "text"]).limit(10).toArray();
    figures.vectorSearchReturningText = { bytes: store.bytesFetched - before, needed: 10 * TEXT };
    await db.close();
  });
});
