/**
 * Shards as one table: 5,183 rows (GloVe 100-d vectors, SciFact abstracts as text, a category) in
 * one table with IVF_FLAT and BM25 indexes, published as 4 shards (`publish --shards 4`), served
 * over HTTP by a local static server and opened with `openShardedTable`. Every query must give the
 * rows, distances and scores of the unsharded table: vector (exact and through the indexes),
 * full text (BM25 with statistics over all shards), hybrid, where / select / limit / offset,
 * postfilter, orderBy, batch queries; also mixed local + remote shards, shards in a worker, and a
 * shard whose schema differs.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Connection } from "../../src/connection.js";
import type { Row } from "../../src/data/rows.js";
import { Index } from "../../src/indexes/config.js";
import { LinearCombinationReranker } from "../../src/rerank/linear-combination.js";
import type { ShardedTable } from "../../src/shard/sharded-table.js";
import { publishShardedTable } from "../../src/cli/publish-shards.js";
import type { Table } from "../../src/table.js";
import { connectThrough } from "../../src/worker/client.js";
import { dataPath, hasData, readFvecs } from "../../bench/datasets.js";
import { hasScifact, loadScifact } from "../../bench/scifact-data.js";
import { serveStatic, type StaticServer } from "./static-server.js";
import { startTsWorker } from "./worker-harness.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const have = hasData("glove-100d-100k", "glove100k_base.fvecs") && hasScifact();
const PARTITIONS = 16;

/** The columns that identify a result and its rank: id and the search's own number. */
function ranked(rows: readonly Row[], score: "_distance" | "_score" | "_relevance_score"): [unknown, number][] {
  return rows.map((r) => [r.id, r[score] as number]);
}

describe.skipIf(!have)("shards as one table", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-shards-"));
  const src = join(dir, "src");
  const out = join(dir, "site", "db");
  let server: StaticServer;
  let local: Connection;
  let table: Table;
  let remote: Connection;
  let view: ShardedTable;
  let url: string;
  let numRows = 0;
  const queries: Float32Array[] = [];
  let claims: string[] = [];

  beforeAll(async () => {
    const scifact = loadScifact("test");
    numRows = scifact.corpus.length;
    const glove = readFvecs(dataPath("glove-100d-100k", "glove100k_base.fvecs"), numRows + 20);
    const rows = scifact.corpus.map((d, i) => ({
      id: i, category: `c${i % 5}`, year: 1990 + (i % 30), text: `${d.title} ${d.text}`,
      vector: glove.data.slice(i * 100, (i + 1) * 100),
    }));
    for (let q = 0; q < 20; q++) queries.push(glove.data.slice((numRows + q) * 100, (numRows + q + 1) * 100));
    claims = scifact.queries.slice(0, 20).map((q) => q.text);
    local = await connect(src);
    table = await local.createTable("docs", rows.slice(0, 3000));
    await table.add(rows.slice(3000));
    await table.createIndex("vector", { config: Index.ivfFlat({ numPartitions: PARTITIONS }) });
    await table.createIndex("text", { config: Index.fts() });
    const stats = await publishShardedTable(src, "docs", out, { shards: 4 });
    expect(stats.shards.map((s) => s.table)).toEqual(["docs-0-of-4", "docs-1-of-4", "docs-2-of-4", "docs-3-of-4"]);
    server = await serveStatic(join(dir, "site"));
    url = `${server.origin}/db`;
    remote = await connect(url);
    view = await remote.openShardedTable("docs");
  }, 300_000);

  afterAll(async () => {
    await remote?.close();
    await local?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("splits every row into one of 4 shards, each with the table's indexes, and reads them as one table", async () => {
    const manifest = JSON.parse(readFileSync(join(out, "docs.shards.json"), "utf8")) as { by: string; shards: { table: string; rows: number }[] };
    expect(manifest.by).toBe("hash");
    expect(manifest.shards.reduce((s, x) => s + x.rows, 0)).toBe(numRows);
    for (const s of manifest.shards) expect(s.rows).toBeGreaterThan(numRows / 4 - 200);
    expect(view.numShards).toBe(4);
    expect(view.shardNames).toEqual(manifest.shards.map((s) => s.table));
    expect(await view.countRows()).toBe(numRows);
    expect(await view.countRows("category = 'c3' AND year > 2000")).toBe(await table.countRows("category = 'c3' AND year > 2000"));
    const shard = await remote.openTable("docs-2-of-4");
    expect((await shard.listIndices()).map((i) => i.kind).sort()).toEqual(["FTS", "IVF_FLAT"]);
    expect(await view.quiverSchema()).toEqual(await table.quiverSchema());
    const ids = (await view.query().select(["id"]).toArray()).map((r) => r.id as number).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: numRows }, (_, i) => i));
  });

  it("exact vector search: the same rows and distances as the unsharded table, with where, select, limit and offset", async () => {
    for (const q of queries.slice(0, 10)) {
      const want = await table.search(q).bypassVectorIndex().where("category != 'c1'").select(["id", "year"]).limit(12).offset(3).toArray();
      const got = await view.search(q).bypassVectorIndex().where("category != 'c1'").select(["id", "year"]).limit(12).offset(3).toArray();
      expect(want).toHaveLength(12);
      expect(got).toEqual(want);
      expect(Object.keys(got[0]!)).toEqual(["id", "year", "_distance"]);
    }
    const cos = await view.search(queries[0]!).distanceType("cosine").limit(5).toArray();
    expect(ranked(cos, "_distance")).toEqual(ranked(await table.search(queries[0]!).distanceType("cosine").limit(5).toArray(), "_distance"));
  });

  it("indexed vector search: identical when every partition is probed, as good as one index when few are", async () => {
    let foundView = 0;
    let foundTable = 0;
    for (const q of queries) {
      const exact = new Set((await table.search(q).bypassVectorIndex().select(["id"]).limit(10).toArray()).map((r) => r.id));
      const all = await view.search(q).nprobes(PARTITIONS).select(["id"]).limit(10).toArray();
      expect(ranked(all, "_distance")).toEqual(ranked(await table.search(q).nprobes(PARTITIONS).select(["id"]).limit(10).toArray(), "_distance"));
      const few = await view.search(q).nprobes(2).select(["id"]).limit(10).toArray();
      const one = await table.search(q).nprobes(2).select(["id"]).limit(10).toArray();
      foundView += few.filter((r) => exact.has(r.id)).length;
      foundTable += one.filter((r) => exact.has(r.id)).length;
    }
    // 4 shards each probing 2 of their 16 partitions see more of the data than one table probing 2 of 16.
    expect(foundView / (10 * queries.length)).toBeGreaterThanOrEqual(foundTable / (10 * queries.length) - 0.02);
    expect(foundView).toBeGreaterThan(0);
  });

  it("batch vector queries merge per query vector", async () => {
    const want = await table.search(queries.slice(0, 3)).bypassVectorIndex().select(["id"]).limit(4).toArray();
    const got = await view.search(queries.slice(0, 3)).bypassVectorIndex().select(["id"]).limit(4).toArray();
    expect(got).toEqual(want);
    expect(got.map((r) => r._query_index)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it("postfilter applies after the merged top-k, as one table applies it after its top-k", async () => {
    for (const q of queries.slice(0, 5)) {
      const want = await table.search(q).bypassVectorIndex().where("year < 2000").postfilter().select(["id", "year"]).limit(20).toArray();
      const got = await view.search(q).bypassVectorIndex().where("year < 2000").postfilter().select(["id", "year"]).limit(20).toArray();
      expect(got).toEqual(want);
      expect(got.length).toBeLessThan(20);
      expect(got.length).toBeGreaterThan(0);
    }
  });

  it("full-text search: BM25 scores equal the unsharded table's (statistics of all shards), with where and offset", async () => {
    for (const claim of claims) {
      const want = await table.search(claim, "fts").select(["id"]).limit(10).toArray();
      const got = await view.search(claim, "fts").select(["id"]).limit(10).toArray();
      expect(want).toHaveLength(10);
      expect(got).toEqual(want);
    }
    const want = await table.search(claims[0]!, "fts").where("category IN ('c0', 'c4')").select(["id", "category"]).limit(7).offset(4).toArray();
    expect(await view.search(claims[0]!, "fts").where("category IN ('c0', 'c4')").select(["id", "category"]).limit(7).offset(4).toArray()).toEqual(want);
    expect(want).toHaveLength(7);
    // A shard's own statistics would give other scores: the view does not use them.
    const shard = await remote.openTable("docs-0-of-4");
    const alone = await shard.search(claims[1]!, "fts").select(["id"]).limit(3).toArray();
    const inView = (await view.search(claims[1]!, "fts").select(["id"]).limit(50).toArray()).find((r) => r.id === alone[0]!.id);
    expect(inView?._score).not.toBe(alone[0]!._score);
  });

  it("hybrid search fuses the merged vector and full-text lists as one table does (RRF and linear combination)", async () => {
    for (let i = 0; i < 8; i++) {
      const want = await table.query().nearestTo(queries[i]!).bypassVectorIndex().fullTextSearch(claims[i]!).select(["id", "category"]).limit(10).toArray();
      const got = await view.query().nearestTo(queries[i]!).bypassVectorIndex().fullTextSearch(claims[i]!).select(["id", "category"]).limit(10).toArray();
      expect(want).toHaveLength(10);
      expect(got).toEqual(want);
    }
    const linear = new LinearCombinationReranker({ weight: 0.6 });
    const want = await table.query().nearestTo(queries[9]!).bypassVectorIndex().fullTextSearch(claims[9]!).where("year >= 2005").rerank(linear).select(["id"]).limit(6).offset(2).toArray();
    const got = await view.query().nearestTo(queries[9]!).bypassVectorIndex().fullTextSearch(claims[9]!).where("year >= 2005").rerank(linear).select(["id"]).limit(6).offset(2).toArray();
    expect(got).toEqual(want);
    expect(got).toHaveLength(6);
  });

  it("plain scans, orderBy, takeOffsets, row ids, Arrow and explainPlan", async () => {
    const scan = await view.query().where("year = 1995").select(["id"]).toArray();
    expect(scan.map((r) => r.id as number).sort((a, b) => a - b)).toEqual((await table.query().where("year = 1995").select(["id"]).toArray()).map((r) => r.id));
    expect(await view.query().where("year = 1995").select(["id"]).limit(5).offset(10).toArray()).toEqual(scan.slice(10, 15));
    const ordered = await view.query().where("category = 'c2'").orderBy({ columnName: "id", ascending: false }).select(["text"]).limit(4).offset(1).toArray();
    expect(ordered).toEqual(await table.query().where("category = 'c2'").orderBy({ columnName: "id", ascending: false }).select(["text"]).limit(4).offset(1).toArray());
    const taken = await view.takeOffsets([numRows - 1, 0, 2600]).select(["id"]).toArray();
    const all = await view.query().select(["id"]).toArray();
    expect(taken).toEqual([all[0], all[2600], all[numRows - 1]]);
    await expect(view.takeOffsets([numRows]).toArray()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const withIds = await view.search(queries[0]!).select(["id"]).withRowId().limit(3).toArray();
    for (const r of withIds) {
      expect(typeof r._rowid).toBe("number");
      expect([0, 1, 2, 3]).toContain(r._shard);
    }
    const arrow = await view.search(claims[2]!, "fts").select(["id"]).limit(5).toArrow();
    expect(arrow.numRows).toBe(5);
    expect(arrow.getChild("_score")).toBeTruthy();
    const plan = await view.search(claims[2]!, "hybrid").limit(5).explainPlan().catch((e: { code?: string }) => e.code);
    expect(plan).toBe("UNSUPPORTED"); // no embedding function: a text cannot become a vector, as in one table
    const explained = await view.query().nearestTo(queries[0]!).fullTextSearch(claims[0]!).limit(5).explainPlan();
    expect(explained).toMatch(/^ShardedTable docs: 4 shards queried in parallel, each for its first 5 rows/);
    expect(explained.match(/^shard \d \(docs-\d-of-4\):$/gm)).toHaveLength(4);
  });

  it("is read-only: writes fail with READ_ONLY, row-id takes with UNSUPPORTED", async () => {
    await expect(view.add([{ id: 1 }])).rejects.toMatchObject({ code: "READ_ONLY" });
    await expect(view.delete("id = 1")).rejects.toMatchObject({ code: "READ_ONLY" });
    await expect(view.createIndex("year")).rejects.toMatchObject({ code: "READ_ONLY" });
    expect(() => view.mergeInsert("id")).toThrow(expect.objectContaining({ code: "READ_ONLY" }));
    await expect(view.takeRowIds([1]).toArray()).rejects.toMatchObject({ code: "UNSUPPORTED" });
    expect(await table.countRows()).toBe(numRows);
  });

  it("mixes local and remote shards, and opens shards by location", async () => {
    const disk = await connect(out);
    try {
      const mixed = await disk.openShardedTable(["docs-0-of-4", `${url}/docs-1-of-4`, "docs-2-of-4", `${url}/docs-3-of-4.quiver`]);
      expect(await mixed.countRows()).toBe(numRows);
      for (const i of [3, 4]) {
        const want = await table.query().nearestTo(queries[i]!).bypassVectorIndex().fullTextSearch(claims[i]!).select(["id"]).limit(8).toArray();
        expect(await mixed.query().nearestTo(queries[i]!).bypassVectorIndex().fullTextSearch(claims[i]!).select(["id"]).limit(8).toArray()).toEqual(want);
      }
      const byLocation = await disk.openShardedTable(`${url}/docs`);
      expect(byLocation.numShards).toBe(4);
      expect(await byLocation.search(claims[5]!, "fts").select(["id"]).limit(5).toArray()).toEqual(await table.search(claims[5]!, "fts").select(["id"]).limit(5).toArray());
      await byLocation.close();
      await expect(byLocation.countRows()).rejects.toMatchObject({ code: "CLOSED" });
    } finally {
      await disk.close();
    }
  });

  it("refuses shards whose schemas differ, and says how to open a sharded table", async () => {
    const other = await local.createTable("other", [{ id: 1, category: "x", year: 2000, text: "t", vector: new Float32Array(99) }]);
    await expect(local.openShardedTable([table, other])).rejects.toMatchObject({ code: "SCHEMA_MISMATCH", details: { shard: 1, column: "vector" } });
    await expect(remote.openTable("docs")).rejects.toMatchObject({ code: "TABLE_NOT_FOUND", details: { shards: true } });
    await expect(remote.openShardedTable("nope")).rejects.toMatchObject({ code: "TABLE_NOT_FOUND" });
    await expect(remote.openShardedTable([])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("splits by a column (equal values in one shard) with the CLI, and runs the view inside a worker", async () => {
    const byCategory = join(dir, "site", "bycat");
    const run = spawnSync("npm", ["run", "--silent", "publish-table", "--", src, "docs", byCategory, "--shards", "3", "--by", "category"], { cwd: root, encoding: "utf8", timeout: 240_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/published docs as 3 shards/);
    const worker = startTsWorker();
    try {
      const db = await connectThrough(`${server.origin}/bycat`, { worker }, () => worker);
      const t = await db.openShardedTable("docs");
      expect(await t.countRows()).toBe(numRows);
      const want = await table.search(claims[6]!, "fts").where("year > 1999").select(["id", "category"]).limit(10).toArray();
      expect(await t.search(claims[6]!, "fts").where("year > 1999").select(["id", "category"]).limit(10).toArray()).toEqual(want);
      const exact = await table.search(queries[7]!).bypassVectorIndex().select(["id"]).limit(10).toArray();
      expect(await t.search(queries[7]!).bypassVectorIndex().select(["id"]).limit(10).toArray()).toEqual(exact);
      await expect(t.add([{ id: 1 }])).rejects.toMatchObject({ code: "READ_ONLY" });
      await db.close();
    } finally {
      await worker.terminate();
    }
    const disk = await connect(byCategory);
    try {
      const seen = new Map<string, number>();
      for (const name of ["docs-0-of-3", "docs-1-of-3", "docs-2-of-3"]) {
        const cats = new Set((await (await disk.openTable(name)).query().select(["category"]).toArray()).map((r) => r.category as string));
        for (const c of cats) seen.set(c, (seen.get(c) ?? 0) + 1);
      }
      expect([...seen.keys()].sort()).toEqual(["c0", "c1", "c2", "c3", "c4"]);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await disk.close();
    }
  }, 300_000);
});

describe("sharded views in memory", () => {
  /** Counts the query texts it embeds: a sharded view must embed each once, not once per shard. */
  class Letters {
    readonly embeddingDataType = "float32" as const;
    queries = 0;
    ndims(): number { return 26; }
    one(t: string): Float32Array {
      const v = new Float32Array(26);
      for (const c of t.toLowerCase()) if (c >= "a" && c <= "z") v[c.charCodeAt(0) - 97]! += 1;
      return v;
    }
    async computeSourceEmbeddings(texts: string[]): Promise<Float32Array[]> { return texts.map((t) => this.one(t)); }
    async computeQueryEmbeddings(q: string): Promise<Float32Array> { this.queries++; return this.one(q); }
    toJSON(): { name: string } { return { name: "letters-shard-test" }; }
  }
  /**
   * The same ranking up to ties: equal score sequences, and the same rows for every score but the
   * last (rows tied at the cut may differ: one table orders ties by row, a view by shard).
   */
  function sameUpToTies(got: readonly Row[], want: readonly Row[], column: string): void {
    expect(got.map((r) => r[column])).toEqual(want.map((r) => r[column]));
    const last = want.at(-1)?.[column];
    const ids = (rows: readonly Row[]) => rows.filter((r) => r[column] !== last).map((r) => `${String(r[column])}|${String(r.id)}`).sort();
    expect(ids(got)).toEqual(ids(want));
  }
  const words = ["apple pie", "banana split", "cherry tart", "apple crumble", "pear sorbet", "apple apple cake", "plum jam", "fig roll"];
  const rows = Array.from({ length: 240 }, (_, i) => ({ id: i, title: words[i % words.length]!, body: `${words[(i * 3) % words.length]} number ${i}`, group: i % 4 }));

  it("embeds a text query once, and matches one table for vector, phrase and multi-column full-text search", async () => {
    const db = await connect("memory://");
    const fn = new Letters();
    const embeddingFunction = { sourceColumn: "title", function: fn };
    const whole = await db.createTable("whole", rows, { embeddingFunction });
    const parts = [await db.createTable("p0", rows.filter((r) => r.id % 3 === 0), { embeddingFunction }), await db.createTable("p1", rows.filter((r) => r.id % 3 !== 0), { embeddingFunction })];
    for (const t of [whole, ...parts]) {
      await t.createIndex("title", { config: Index.fts({ withPosition: true }) });
      await t.createIndex("body", { config: Index.fts({ withPosition: true }) });
    }
    const view = await db.openShardedTable(parts);
    fn.queries = 0;
    const got = await view.search("apple tart").select(["id"]).limit(7).toArray();
    expect(fn.queries).toBe(1);
    sameUpToTies(got, await whole.search("apple tart").select(["id"]).limit(7).toArray(), "_distance");
    for (const q of ['"apple pie"', "apple number", "sorbet jam fig"]) {
      const want = await whole.search(q, "fts").select(["id"]).limit(9).toArray();
      expect(want.length).toBeGreaterThan(0);
      sameUpToTies(await view.search(q, "fts").select(["id"]).limit(9).toArray(), want, "_score");
    }
    const hybrid = await whole.search("apple", "hybrid").select(["id"]).limit(6).toArray();
    expect(hybrid).toHaveLength(6);
    // Both input lists hold ties here, so which tied row takes which rank (and so its RRF score) may
    // differ; the scores handed out are the same. (The SciFact test above checks rows exactly.)
    expect((await view.search("apple", "hybrid").select(["id"]).limit(6).toArray()).map((r) => r._relevance_score)).toEqual(hybrid.map((r) => r._relevance_score));
    await db.close();
  });

  it("breaks ties by shard order, leaves tables passed in open, and closes with its connection", async () => {
    const db = await connect("memory://");
    const a = await db.createTable("a", [{ id: 1, vector: [1, 0] }, { id: 2, vector: [0, 1] }]);
    const b = await db.createTable("b", [{ id: 3, vector: [1, 0] }, { id: 4, vector: [0, 1] }]);
    expect((await (await db.openShardedTable([a, "b"])).search([1, 0]).select(["id"]).limit(2).toArray()).map((r) => r.id)).toEqual([1, 3]);
    const reversed = await db.openShardedTable(["b", a]);
    expect((await reversed.search([1, 0]).select(["id"]).limit(2).toArray()).map((r) => r.id)).toEqual([3, 1]);
    await reversed.close();
    expect(a.isOpen()).toBe(true);
    const view = await db.openShardedTable(["a", "b"]);
    await db.close();
    expect(view.isOpen()).toBe(false);
    await expect(view.countRows()).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("reads a shard manifest, and refuses a damaged one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-shard-manifest-"));
    try {
      const db = await connect(join(dir, "db"));
      await db.createTable("t-0-of-2", rows.slice(0, 100));
      await db.createTable("t-1-of-2", rows.slice(100));
      const { writeFileSync } = await import("node:fs");
      writeFileSync(join(dir, "db", "t.shards.json"), JSON.stringify({ format: "quiver-shards", version: 1, table: "t", by: "hash", shards: [{ table: "t-0-of-2", rows: 100 }, { table: "t-1-of-2", rows: 140 }] }));
      const view = await db.openShardedTable("t");
      expect(view.name).toBe("t");
      expect(await view.countRows()).toBe(240);
      writeFileSync(join(dir, "db", "bad.shards.json"), JSON.stringify({ format: "quiver-shards", version: 2, shards: [] }));
      await expect(db.openShardedTable("bad")).rejects.toMatchObject({ code: "CORRUPT_FILE" });
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("publishes by a column with more shards than values: empty shards answer nothing, and the view matches one table", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-shard-empty-"));
    try {
      const db = await connect(join(dir, "src"));
      const t = await db.createTable("t", rows.map((r) => ({ ...r, vector: [r.id % 5, r.id % 3, 1] })));
      await t.createIndex("title", { config: Index.fts() });
      await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 2 }) });
      const stats = await publishShardedTable(join(dir, "src"), "t", join(dir, "out"), { shards: 6, by: "group" });
      expect(stats.shards.filter((s) => s.rows === 0).length).toBeGreaterThanOrEqual(2);
      const out = await connect(join(dir, "out"));
      const view = await out.openShardedTable("t");
      expect(await view.countRows()).toBe(rows.length);
      const want = await t.search("apple", "fts").where("group = 1").select(["id", "group"]).limit(5).toArray();
      expect(want).toHaveLength(5);
      sameUpToTies(await view.search("apple", "fts").where("group = 1").select(["id", "group"]).limit(5).toArray(), want, "_score");
      const near = await view.search([4, 2, 1]).bypassVectorIndex().select(["id"]).limit(8).toArray();
      sameUpToTies(near, await t.search([4, 2, 1]).bypassVectorIndex().select(["id"]).limit(8).toArray(), "_distance");
      await out.close();
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
