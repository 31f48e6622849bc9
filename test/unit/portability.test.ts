/**
 * LanceDB code ports by changing the import. Each snippet below is TypeScript as one writes it for
 * `@lancedb/lancedb`, written once as a function of the module, and run unchanged against LanceDB
 * itself (its native Node build, on a temporary folder) and against Quiver (`memory://`); the two
 * results must be equal — exactly for exact search, scans, write results and schemas, and at
 * recall level for approximate (IVF_PQ) search.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as lancedb from "@lancedb/lancedb";
import * as arrow from "apache-arrow";
import { afterAll, describe, expect, it } from "vitest";
import * as quiver from "../../src/index.js";
import { seededRandom } from "../../src/ann/common.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- a snippet is written against either module */
type Lib = { connect(uri: string): Promise<any>; Index: any; rerankers: any };

const root = mkdtempSync(join(tmpdir(), "quiver-portability-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const LIBS: Record<"lancedb" | "quiver", { lib: Lib; uri: () => string }> = {
  lancedb: { lib: lancedb as unknown as Lib, uri: () => join(root, `lance-${n++}`) },
  quiver: { lib: quiver as unknown as Lib, uri: () => "memory://" },
};

const DIM = 16;
const WORDS = ["river", "mountain", "forest", "ocean", "desert", "valley", "island", "canyon", "meadow", "glacier"];
function makeRows(count: number, seed = 7): { id: number; text: string; category: string; price: number; vector: number[] }[] {
  const r = seededRandom(seed);
  return Array.from({ length: count }, (_, id) => ({
    id,
    text: `${WORDS[id % WORDS.length]} ${WORDS[(id * 7 + 3) % WORDS.length]} trip number ${id}`,
    category: ["a", "b", "c"][id % 3]!,
    price: (id * 37) % 100,
    vector: Array.from({ length: DIM }, () => Math.round((r() * 2 - 1) * 1000) / 1000),
  }));
}
const ROWS = makeRows(300);
const QUERY = makeRows(1, 99)[0]!.vector;

/** Results as plain JSON: Arrow rows and vectors to objects and arrays, bigints to numbers, floats to 4 decimals. */
function plain(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number") return Number.isInteger(value) ? value : Math.round(value * 1e4) / 1e4;
  if (value instanceof Date) return value.getTime();
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, plain);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object") {
    // Arrow rows (StructRow) and vectors turn themselves into objects and arrays.
    const v = value as { toJSON?: () => unknown };
    if (typeof v.toJSON === "function") return plain(v.toJSON());
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, plain(x)]));
  }
  return value;
}

const describeSchema = (s: arrow.Schema): string[] => s.fields.map((f) => `${f.name}: ${String(f.type)}`);

/** Runs `snippet` against both modules and returns both results, made plain. */
async function both<T>(snippet: (lib: Lib, uri: string) => Promise<T>): Promise<{ lancedb: unknown; quiver: unknown }> {
  const [a, b] = [await snippet(LIBS.lancedb.lib, LIBS.lancedb.uri()), await snippet(LIBS.quiver.lib, LIBS.quiver.uri())];
  return { lancedb: plain(a), quiver: plain(b) };
}

// ─── The snippets: LanceDB TypeScript, unchanged between the two runs ───────────────────────────

async function createFromRowsAndSearch(lib: Lib, uri: string) {
  const db = await lib.connect(uri);
  const tbl = await db.createTable("items", ROWS);
  const schema = await tbl.schema();
  const hits = await tbl.search(QUERY).where("category = 'a' AND price >= 20").select(["id", "text"]).limit(5).toArray();
  const scan = await tbl.query().where("price < 5").select(["id", "price"]).limit(100).toArray();
  return { count: await tbl.countRows(), filtered: await tbl.countRows("category = 'b'"), schema: describeSchema(schema), hits, scan, names: await db.tableNames() };
}

async function createFromArrow(lib: Lib, uri: string) {
  const db = await lib.connect(uri);
  const data = new arrow.Table({
    id: arrow.vectorFromArray([1, 2, 3], new arrow.Int32()),
    name: arrow.vectorFromArray(["x", "y", null], new arrow.Utf8()),
    vector: arrow.vectorFromArray([[1, 0], [0, 1], [1, 1]], new arrow.FixedSizeList(2, new arrow.Field("item", new arrow.Float32(), true))),
  });
  const tbl = await db.createTable("arrow", data);
  const near = await tbl.search([1, 0.1]).distanceType("cosine").limit(2).toArray();
  const out = await tbl.toArrow();
  return { schema: describeSchema(await tbl.schema()), near, rows: out.numRows, columns: describeSchema(out.schema), names: out.getChild("name")!.toArray() };
}

async function writeResults(lib: Lib, uri: string) {
  const db = await lib.connect(uri);
  const tbl = await db.createTable("w", ROWS.slice(0, 100));
  const added = await tbl.add(ROWS.slice(100, 120));
  const updated = await tbl.update({ where: "id < 5", values: { category: "z" } });
  const updatedSql = await tbl.update({ where: "category = 'z'", valuesSql: { price: "price + 1000" } });
  const updatedMap = await tbl.update(new Map([["text", "'renamed'"]]), { where: "id = 7" });
  const deleted = await tbl.delete("price >= 1000");
  const merged = await tbl.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll()
    .execute([{ ...ROWS[10]!, text: "merged" }, { ...ROWS[11]!, text: "merged" }, ...ROWS.slice(200, 203)]);
  const addCols = await tbl.addColumns([{ name: "double_price", valueSql: "price * 2" }]);
  const alterCols = await tbl.alterColumns([{ path: "double_price", rename: "dp" }]);
  const rows = await tbl.query().where("id IN (7, 10, 201)").select(["id", "text", "dp"]).toArray();
  const dropCols = await tbl.dropColumns(["dp"]);
  const { numInsertedRows, numUpdatedRows, numDeletedRows, version } = merged;
  return {
    added, updated, updatedSql, updatedMap, deleted, merged: { numInsertedRows, numUpdatedRows, numDeletedRows, version }, addCols, alterCols, dropCols,
    rows: rows.sort((a: any, b: any) => a.id - b.id), count: await tbl.countRows(), version: await tbl.version(),
    versions: (await tbl.listVersions()).length, schema: describeSchema(await tbl.schema()),
  };
}

async function ivfPqIndex(lib: Lib, uri: string) {
  const db = await lib.connect(uri);
  const tbl = await db.createTable("ann", makeRows(1000, 3));
  await tbl.createIndex("vector", { config: lib.Index.ivfPq({ numPartitions: 4, numSubVectors: 4 }) });
  const indices = (await tbl.listIndices()).map((i: any) => ({ name: i.name, indexType: i.indexType, columns: i.columns }));
  const stats = await tbl.indexStats("vector_idx");
  const queries = makeRows(20, 11).map((r) => r.vector);
  const ann: number[][] = [];
  const exact: number[][] = [];
  for (const q of queries) {
    ann.push((await tbl.search(q).nprobes(4).refineFactor(10).select(["id"]).limit(10).toArray()).map((r: any) => r.id));
    exact.push((await tbl.search(q).bypassVectorIndex().select(["id"]).limit(10).toArray()).map((r: any) => r.id));
  }
  const filtered = await tbl.search(queries[0]).where("category = 'c'").nprobes(4).refineFactor(10).select(["id", "category"]).limit(5).toArray();
  const st = await tbl.stats();
  return {
    indices, stats: { indexType: stats.indexType, distanceType: stats.distanceType, numIndexedRows: stats.numIndexedRows, numUnindexedRows: stats.numUnindexedRows },
    ann, exact, filtered: filtered.map((r: any) => r.category), tableStats: { numRows: st.numRows, numIndices: st.numIndices, fragments: st.fragmentStats.numFragments },
  };
}

async function fullTextAndHybrid(lib: Lib, uri: string) {
  const db = await lib.connect(uri);
  const tbl = await db.createTable("docs", ROWS.slice(0, 100));
  await tbl.createIndex("text", { config: lib.Index.fts() });
  const fts = await tbl.search("glacier", "fts").select(["id"]).limit(50).toArray();
  const viaQuery = await tbl.query().fullTextSearch("canyon").where("category = 'a'").select(["id"]).limit(50).toArray();
  const nearestToText = await tbl.query().nearestToText("meadow").select(["id"]).limit(50).toArray();
  const hybrid = await tbl.query().nearestTo(QUERY).fullTextSearch("ocean").rerank(await lib.rerankers.RRFReranker.create()).select(["id"]).limit(8).toArray();
  return {
    fts: fts.map((r: any) => r.id).sort((a: number, b: number) => a - b),
    ftsScores: fts.every((r: any) => typeof r._score === "number" && r._score > 0),
    viaQuery: viaQuery.map((r: any) => r.id).sort((a: number, b: number) => a - b),
    nearestToText: nearestToText.map((r: any) => r.id).sort((a: number, b: number) => a - b),
    hybrid: hybrid.map((r: any) => r.id as number), hybridScored: hybrid.every((r: any) => typeof r._relevance_score === "number"),
  };
}

async function queryShapes(lib: Lib, uri: string) {
  const db = await lib.connect(uri);
  const tbl = await db.createTable("q", ROWS.slice(0, 60));
  await tbl.add(ROWS.slice(60, 80));
  const taken = await tbl.takeOffsets([3, 0, 65]).select(["id", "text"]).toArray();
  const byRowId = await tbl.takeRowIds([2, 4]).select(["id"]).toArray();
  const ordered = await tbl.query().where("category = 'b'").orderBy([{ columnName: "price", ascending: false }, { columnName: "id" }]).select(["id", "price"]).limit(6).toArray();
  const outputSchema = describeSchema(await tbl.query().nearestTo(QUERY).select(["id", "text"]).outputSchema());
  const scanSchema = describeSchema(await tbl.query().select(["price", "category"]).outputSchema());
  const probes = await tbl.query().nearestTo(QUERY).minimumNprobes(2).maximumNprobes(8).select(["id"]).limit(3).toArray();
  const st = await tbl.stats();
  const batches: number[] = [];
  for await (const batch of tbl.query().where("id < 30")) batches.push(batch.numRows);
  return {
    taken, byRowId, ordered, outputSchema, scanSchema, probes,
    stats: { numRows: st.numRows, numIndices: st.numIndices, fragmentStats: st.fragmentStats }, scanned: batches.reduce((a, b) => a + b, 0),
  };
}

// ─── The checks ──────────────────────────────────────────────────────────────────────────────────

describe("LanceDB snippets run unchanged against @lancedb/lancedb and quiverdb", () => {
  it("create a table from rows, filtered vector search with select / limit, scans, schema()", async () => {
    const r = await both(createFromRowsAndSearch);
    expect(r.quiver).toEqual(r.lancedb);
  });

  it("create a table from an Arrow Table, cosine search, toArrow()", async () => {
    const r = await both(createFromArrow);
    expect(r.quiver).toEqual(r.lancedb);
  });

  it("write results: add, update (values, valuesSql, Map of SQL), delete, mergeInsert, add / alter / drop columns", async () => {
    const r = await both(writeResults);
    expect(r.quiver).toEqual(r.lancedb);
  });

  it("IVF_PQ index: listIndices / indexStats alike, and recall of the approximate search agrees", async () => {
    const r = await both(ivfPqIndex);
    const l = r.lancedb as Awaited<ReturnType<typeof ivfPqIndex>>;
    const q = r.quiver as Awaited<ReturnType<typeof ivfPqIndex>>;
    expect(q.indices).toEqual(l.indices);
    expect(q.stats).toEqual(l.stats);
    expect(q.tableStats).toEqual(l.tableStats);
    expect(q.exact).toEqual(l.exact);
    expect(q.filtered).toEqual(["c", "c", "c", "c", "c"]);
    expect(l.filtered).toEqual(["c", "c", "c", "c", "c"]);
    const recall = (got: number[][]) => got.reduce((s, ids, i) => s + ids.filter((id) => l.exact[i]!.includes(id)).length, 0) / (10 * got.length);
    expect(recall(l.ann)).toBeGreaterThanOrEqual(0.9);
    expect(recall(q.ann)).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(recall(q.ann) - recall(l.ann))).toBeLessThanOrEqual(0.1);
  });

  it("full-text search (search(text, 'fts'), fullTextSearch + where, nearestToText) and hybrid with RRF", async () => {
    const r = await both(fullTextAndHybrid);
    const l = r.lancedb as Awaited<ReturnType<typeof fullTextAndHybrid>>;
    const q = r.quiver as Awaited<ReturnType<typeof fullTextAndHybrid>>;
    expect({ ...q, hybrid: undefined }).toEqual({ ...l, hybrid: undefined });
    expect(l.fts.length).toBeGreaterThan(0);
    // RRF fuses two rankings; BM25 ties may be broken differently, so compare the fused sets.
    const overlap = (q.hybrid as number[]).filter((id) => (l.hybrid as number[]).includes(id)).length;
    expect(overlap).toBeGreaterThanOrEqual(6);
    expect(q.hybrid[0]).toBe(l.hybrid[0]);
  });

  it("takeOffsets / takeRowIds, orderBy, outputSchema, minimum / maximum nprobes, stats(), async iteration", async () => {
    const r = await both(queryShapes);
    expect(r.quiver).toEqual(r.lancedb);
  });
});
