/**
 * The public Table API as a list of named cases that any runner can execute against any way of
 * connecting: vitest runs it in-thread and through a Node worker_threads worker
 * (test/unit/worker.test.ts); the Chromium suite runs the very same cases on a page and through a
 * Web Worker, on IndexedDB and OPFS (test/browser/worker.spec.ts). Like storage-contract.ts, it
 * imports no test framework and brings its own small assertions.
 */
import type { Connection, ConnectionOptions } from "../../src/connection.js";
import { QuiverError, isQuiverError } from "../../src/errors.js";
import { DataTypes, field, schema } from "../../src/data/schema.js";
import type { Row } from "../../src/data/rows.js";
import { Index } from "../../src/indexes/config.js";
import type { RemoteConnection } from "../../src/worker/client.js";
import { assert, assertRejects } from "./storage-contract.js";
// Browser-safe (bench/datasets.ts reads files with node:fs): this suite also runs in Chromium.
import { seededRandom as rng } from "../../src/ann/common.js";
import * as arrow from "apache-arrow";

export type AnyConnection = Connection | RemoteConnection;

export interface ApiSubject {
  /**
   * A connection to the database called `name` (a fresh name is empty; the same name again is a
   * second connection to the same database).
   */
  connect(name: string, options?: ConnectionOptions): Promise<AnyConnection>;
}

export interface ApiCase {
  name: string;
  run(): Promise<void>;
}


const DIM = 8;
const CATEGORIES = ["tech", "science", "art", "sports"];

export function makeRows(n: number, start = 0, seed = 1): Row[] {
  const r = rng(seed + start);
  return Array.from({ length: n }, (_, k) => {
    const i = start + k;
    return {
      id: i,
      text: `doc ${i}`,
      category: CATEGORIES[i % CATEGORIES.length],
      year: 2000 + (i % 25),
      vector: Array.from({ length: DIM }, () => Math.round((r() * 2 - 1) * 1000) / 1000),
    };
  });
}

function l2(q: ArrayLike<number>, x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < q.length; i++) {
    const d = Math.fround(q[i]!) - Math.fround(x[i]!);
    s += d * d;
  }
  return s;
}

function cosine(q: ArrayLike<number>, x: ArrayLike<number>): number {
  let dot = 0, qq = 0, xx = 0;
  for (let i = 0; i < q.length; i++) {
    const a = Math.fround(q[i]!), b = Math.fround(x[i]!);
    dot += a * b; qq += a * a; xx += b * b;
  }
  return 1 - dot / Math.sqrt(qq * xx);
}

/** Ids of the `k` rows nearest to `q` (ties broken by id), by brute force. */
function nearest(rows: readonly Row[], q: readonly number[], k: number, metric = l2): { id: number; distance: number }[] {
  return rows
    .map((row) => ({ id: row.id as number, distance: metric(q, row.vector as number[]) }))
    .sort((a, b) => a.distance - b.distance || a.id - b.id)
    .slice(0, k);
}

function describe(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (ArrayBuffer.isView(v) ? `${v.constructor.name}[${Array.from(v as Float32Array).join(",")}]` : v instanceof Date ? `Date(${v.toISOString()})` : v));
}

/** Deep equality that tells typed arrays from arrays and compares Dates by time. */
function equal(actual: unknown, expected: unknown, what: string): void {
  assert(describe(actual) === describe(expected), `${what}:\n  expected ${describe(expected)}\n  got      ${describe(actual)}`);
}

function close(actual: number, expected: number, what: string): void {
  assert(Math.abs(actual - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `${what}: expected ${expected}, got ${actual}`);
}

async function assertCode(work: Promise<unknown> | (() => unknown), code: string, what: string): Promise<QuiverError> {
  try {
    await (typeof work === "function" ? work() : work);
  } catch (error) {
    assert(error instanceof QuiverError, `${what}: expected a QuiverError instance, got ${String(error)}`);
    assert(isQuiverError(error, code as QuiverError["code"]), `${what}: expected ${code}, got ${error.code}: ${error.message}`);
    return error;
  }
  throw new Error(`${what}: expected ${code}, nothing was thrown`);
}

const ids = (rows: readonly Row[]): number[] => rows.map((r) => r.id as number);

let counter = 0;

export function apiSuite(subject: ApiSubject): ApiCase[] {
  const cases: ApiCase[] = [];
  const test = (name: string, run: () => Promise<void>) => cases.push({ name, run });
  const unique = () => `api-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

  /** Runs `body` on a fresh, empty database, closing it afterwards. */
  async function withDb(body: (db: AnyConnection, name: string) => Promise<void>): Promise<void> {
    const name = unique();
    const db = await subject.connect(name);
    try {
      await body(db, name);
    } finally {
      await db.close();
    }
  }

  const rows = makeRows(200);

  test("tables: create, list, open, drop, with TABLE_EXISTS / TABLE_NOT_FOUND / existOk / overwrite", () =>
    withDb(async (db) => {
      equal(await db.tableNames(), [], "a new database has no tables");
      await db.createTable("b", [{ x: 1 }]);
      await db.createTable({ name: "a", data: [{ x: 2 }, { x: 3 }] });
      equal(await db.tableNames(), ["a", "b"], "tableNames");
      equal(await db.tableNames({ startAfter: "a" }), ["b"], "tableNames startAfter");
      equal(await db.tableNames({ limit: 1 }), ["a"], "tableNames limit");
      await assertCode(db.createTable("b", [{ x: 9 }]), "TABLE_EXISTS", "createTable on an existing name");
      equal(await (await db.createTable("b", [{ x: 9 }], { existOk: true })).countRows(), 1, "existOk opens the table");
      equal(await (await db.createTable("b", [{ x: 7 }, { x: 8 }], { mode: "overwrite" })).countRows(), 2, "overwrite");
      const a = await db.openTable("a");
      equal(a.name, "a", "name");
      equal(await a.countRows(), 2, "countRows");
      await db.dropTable("a");
      assert(!a.isOpen(), "a dropped table's handle is closed");
      equal(await db.tableNames(), ["b"], "after dropTable");
      await assertCode(db.openTable("a"), "TABLE_NOT_FOUND", "openTable of a dropped table");
      await assertCode(db.dropTable("zzz"), "TABLE_NOT_FOUND", "dropTable of a missing table");
      await assertCode(db.createTable("bad name!", [{ x: 1 }]), "INVALID_ARGUMENT", "invalid table name");
      await db.dropAllTables();
      equal(await db.tableNames(), [], "after dropAllTables");
      assert(db.display().startsWith("Connection("), `display: ${db.display()}`);
    }));

  test("createEmptyTable with a schema, then add, schema(), display() and listIndices()", () =>
    withDb(async (db) => {
      const s = schema([field("id", DataTypes.int32(), false), field("name", DataTypes.utf8()), field("vector", DataTypes.vector(4))]);
      const t = await db.createEmptyTable("e", s);
      equal(await t.countRows(), 0, "empty");
      equal(await t.quiverSchema(), s, "schema round-trips");
      equal(await t.add([{ id: 1, name: "one", vector: [1, 0, 0, 0] }, { id: 2, name: null, vector: [0, 1, 0, 0] }]), { version: 2 }, "add result");
      equal(await t.add([]), { version: 2 }, "adding nothing commits nothing");
      equal(await t.countRows(), 2, "after add");
      equal(await t.query().toArray(), [
        { id: 1, name: "one", vector: new Float32Array([1, 0, 0, 0]) },
        { id: 2, name: null, vector: new Float32Array([0, 1, 0, 0]) },
      ], "rows come back with vectors as Float32Array");
      assert(t.display() === t.toString() && t.display().includes("e") && t.display().includes("vector"), `display: ${t.display()}`);
      equal(await t.listIndices(), [], "no indices");
    }));

  test("vector search: nearest rows and distances match brute force; vectors come back as Float32Array", () =>
    withDb(async (db) => {
      const t = await db.createTable("v", rows);
      const q = [0.1, -0.2, 0.3, 0, 0.5, -0.5, 0.25, 0.9];
      const want = nearest(rows, q, 10);
      const hits = await t.search(q).toArray();
      equal(ids(hits), want.map((w) => w.id), "10 nearest by default");
      hits.forEach((h, i) => close(h._distance as number, want[i]!.distance, `_distance of hit ${i}`));
      assert(hits[0]!.vector instanceof Float32Array && (hits[0]!.vector as Float32Array).length === DIM, "vector values are Float32Array");
      equal(hits[0]!.text, `doc ${want[0]!.id}`, "other columns come along");
      const typed = await t.vectorSearch(new Float32Array(q)).select(["id"]).limit(3).toArray();
      equal(typed.map((h) => Object.keys(h).sort()), [["_distance", "id"], ["_distance", "id"], ["_distance", "id"]], "select keeps id and _distance");
      equal(ids(typed), want.slice(0, 3).map((w) => w.id), "typed-array query, limit 3");
      const page = await t.search(q).limit(3).offset(2).select(["id"]).toArray();
      equal(ids(page), want.slice(2, 5).map((w) => w.id), "limit + offset");
    }));

  test("scans: where, select (names and SQL), limit, offset, withRowId, async iteration", () =>
    withDb(async (db) => {
      const t = await db.createTable("s", rows);
      const tech = rows.filter((r) => r.category === "tech" && (r.year as number) >= 2020);
      equal(ids(await t.query().where("category = 'tech' AND year >= 2020").toArray()), ids(tech), "where");
      equal(ids(await t.query().filter("category = 'tech' AND year >= 2020").limit(3).offset(1).toArray()), ids(tech).slice(1, 4), "filter + limit + offset");
      equal(
        await t.query().where("id < 3").select({ id: "id", label: "upper(text)", next: "year + 1" }).toArray(),
        [0, 1, 2].map((i) => ({ id: i, label: `DOC ${i}`, next: 2001 + i })),
        "select with SQL expressions",
      );
      const withIds = await t.query().select(["id"]).withRowId().limit(2).toArray();
      equal(withIds.map((r) => Object.keys(r).sort()), [["_rowid", "id"], ["_rowid", "id"]], "withRowId adds _rowid");
      const seen: number[] = [];
      for await (const batch of t.query().where("id >= 195")) for (const id of batch.getChild("id")!.toArray() as Float64Array) seen.push(id);
      equal(seen, [195, 196, 197, 198, 199], "async iteration yields Arrow record batches");
      equal(await t.countRows("category = 'art'"), 50, "countRows with a filter");
    }));

  test("vector search: prefilter, postfilter, cosine, several queries, distanceRange", () =>
    withDb(async (db) => {
      const t = await db.createTable("f", rows);
      const q = [0.5, 0.5, -0.5, 0.1, 0, 0.2, -0.3, 0.4];
      const science = rows.filter((r) => r.category === "science");
      equal(ids(await t.search(q).where("category = 'science'").limit(5).toArray()), nearest(science, q, 5).map((w) => w.id), "prefilter");
      const post = await t.search(q).where("category = 'science'").postfilter().limit(5).toArray();
      const top5 = nearest(rows, q, 5);
      equal(ids(post), top5.filter((w) => rows[w.id]!.category === "science").map((w) => w.id), "postfilter filters the top 5");
      const cos = await t.search(q).distanceType("cosine").limit(4).toArray();
      equal(ids(cos), nearest(rows, q, 4, cosine).map((w) => w.id), "cosine");
      const q2 = [-0.5, 0.5, 0.5, -0.1, 0, -0.2, 0.3, -0.4];
      const batch = await t.search([q, q2]).limit(2).select(["id"]).toArray();
      equal(batch.map((r) => [r._query_index, r.id]), [
        ...nearest(rows, q, 2).map((w) => [0, w.id]), ...nearest(rows, q2, 2).map((w) => [1, w.id]),
      ], "two queries, _query_index");
      const limit = nearest(rows, q, 3)[2]!.distance;
      const ranged = await t.search(q).distanceRange(undefined, limit).limit(10).toArray();
      equal(ids(ranged), nearest(rows, q, 2).map((w) => w.id), "distanceRange upper bound is exclusive");
      equal(ids(await t.query().nearestTo(q).limit(2).toArray()), nearest(rows, q, 2).map((w) => w.id), "query().nearestTo()");
    }));

  test("update (values and valuesSql), delete, countRows", () =>
    withDb(async (db) => {
      const t = await db.createTable("u", rows.slice(0, 20));
      equal(await t.update({ where: "id = 3", values: { text: "three" } }), { version: 2, rowsUpdated: 1 }, "update values");
      equal(await t.update({ where: "id < 2", valuesSql: { year: "year + 100" } }), { version: 3, rowsUpdated: 2 }, "update valuesSql");
      equal(await t.update({ text: "'all'" }, { where: "id >= 18" }), { version: 4, rowsUpdated: 2 }, "update(sql, { where })");
      equal((await t.query().where("id = 3").toArray())[0]!.text, "three", "updated text");
      equal((await t.query().where("id <= 1").select(["year"]).toArray()).map((r) => r.year), [2100, 2101], "updated years");
      equal(await t.delete("id >= 10"), { numDeletedRows: 10, version: 5 }, "delete");
      equal(await t.countRows(), 10, "after delete");
      equal(await t.delete("id > 1000"), { numDeletedRows: 0, version: 5 }, "deleting nothing commits nothing");
      await assertCode(t.delete(""), "INVALID_FILTER", "delete needs a predicate");
    }));

  test("mergeInsert upserts and deletes by key", () =>
    withDb(async (db) => {
      const t = await db.createTable("m", makeRows(10));
      const source = makeRows(10, 5).map((r) => ({ ...r, text: `new ${r.id as number}` }));
      const result = await t.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(source);
      equal(result, { version: 2, numInsertedRows: 5, numUpdatedRows: 5, numDeletedRows: 0 }, "merge result");
      equal(await t.countRows(), 15, "rows after merge");
      equal((await t.query().where("id = 7").toArray())[0]!.text, "new 7", "matched row updated");
      const del = await t.mergeInsert(["id"]).whenNotMatchedBySourceDelete({ where: "id < 3" }).execute(makeRows(1, 0));
      equal(del.numDeletedRows, 2, "whenNotMatchedBySourceDelete");
      await assertCode(t.mergeInsert("id").execute(source), "INVALID_ARGUMENT", "a merge with no clause");
      await assertCode(t.mergeInsert("nope").whenNotMatchedInsertAll().execute(source), "UNKNOWN_COLUMN", "an unknown key");
    }));

  test("versions: version, listVersions, checkout (number and tag), READ_ONLY, checkoutLatest, restore, tags", () =>
    withDb(async (db) => {
      const t = await db.createTable("h", makeRows(10));
      await t.add(makeRows(5, 10));
      await t.delete("id < 3");
      equal(await t.version(), 3, "version");
      const versions = await t.listVersions();
      equal(versions.map((v) => [v.version, v.metadata.operation]), [[1, "create"], [2, "append"], [3, "delete"]], "listVersions");
      assert(versions.every((v) => v.timestamp instanceof Date), "timestamps are Dates");
      const tags = await t.tags();
      await tags.create("first", 1);
      equal(await tags.list(), { first: { version: 1 } }, "tags.list");
      equal(await tags.getVersion("first"), 1, "tags.getVersion");
      await assertCode(tags.create("first", 2), "INVALID_ARGUMENT", "creating a tag twice");
      await t.checkout(2);
      equal([await t.version(), await t.countRows()], [2, 15], "checkout(2)");
      await assertCode(t.add(makeRows(1, 99)), "READ_ONLY", "writing while checked out");
      await t.checkout("first");
      equal([await t.version(), await t.countRows()], [1, 10], "checkout by tag");
      await t.checkoutLatest();
      equal([await t.version(), await t.countRows()], [3, 12], "checkoutLatest");
      await t.restore(2);
      equal([await t.version(), await t.countRows()], [4, 15], "restore(2) commits version 4");
      await tags.update("first", 4);
      equal(await tags.getVersion("first"), 4, "tags.update");
      await tags.delete("first");
      equal(await tags.list(), {}, "tags.delete");
      await assertCode(t.checkout(99), "NOT_FOUND", "checkout of a missing version");
    }));

  test("schema changes and optimize: addColumns, alterColumns, dropColumns, compaction", () =>
    withDb(async (db) => {
      const t = await db.createTable("c", makeRows(10));
      await t.add(makeRows(10, 10));
      await t.add(makeRows(10, 20));
      equal(await t.addColumns([{ name: "double", valueSql: "year * 2" }]), { version: 4 }, "addColumns");
      equal((await t.query().where("id = 4").select(["year", "double"]).toArray())[0], { year: 2004, double: 4008 }, "computed column");
      await t.alterColumns([{ path: "double", rename: "twice" }]);
      equal((await t.quiverSchema()).fields.map((f) => f.name), ["id", "text", "category", "year", "vector", "twice"], "renamed");
      assert(t.display().includes("twice"), `display follows schema changes: ${t.display()}`);
      await t.dropColumns(["twice"]);
      equal((await t.quiverSchema()).fields.map((f) => f.name), ["id", "text", "category", "year", "vector"], "dropped");
      await assertCode(t.dropColumns(["nope"]), "UNKNOWN_COLUMN", "dropping an unknown column");
      const stats = await t.optimize({ targetRowsPerFragment: 100 });
      equal(stats.compaction.fragmentsRemoved, 3, "three fragments compacted");
      equal(stats.compaction.fragmentsAdded, 1, "into one");
      equal(await t.countRows(), 30, "rows after optimize");
      const v17 = (await t.query().where("id = 17").toArray())[0]!.vector as Float32Array;
      equal(ids(await t.search(v17).limit(1).toArray()), [17], "search after optimize");
    }));

  test("vector indexes: createIndex (with progress), listIndices, indexStats, indexed search, dropIndex", () =>
    withDb(async (db) => {
      const t = await db.createTable("i", rows);
      const phases = new Set<string>();
      const created = await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 4 }), progress: (p) => phases.add(p.phase) });
      equal(created, { version: 2 }, "createIndex commits a version");
      assert(phases.has("kmeans"), `progress reports k-means: ${[...phases].join(", ")}`);
      const [info] = await t.listIndices();
      equal([info?.name, info?.indexType, info?.columns, info?.numIndexedRows, info?.kind], ["vector_idx", "IvfFlat", ["vector"], 200, "IVF_FLAT"], "listIndices");
      const stats = await t.indexStats("vector_idx");
      equal([stats?.indexType, stats?.numIndexedRows, stats?.numUnindexedRows, stats?.numIndices], ["IVF_FLAT", 200, 0, 1], "indexStats");
      equal(await t.indexStats("nope"), undefined, "indexStats of a missing index");
      const q = [0.3, 0.1, -0.4, 0.2, 0.6, -0.1, 0, 0.5];
      // Probing every partition of an IVF_FLAT index is exact.
      equal(ids(await t.search(q).nprobes(4).limit(5).toArray()), nearest(rows, q, 5).map((w) => w.id), "indexed search");
      equal(await t.dropIndex("vector_idx"), { version: 3 }, "dropIndex");
      await assertCode(t.dropIndex("vector_idx"), "NOT_FOUND", "dropping a missing index");
      equal(await t.listIndices(), [], "no index left");
    }));

  test("errors keep their code, details and class", () =>
    withDb(async (db) => {
      const t = await db.createTable("x", rows.slice(0, 10));
      const dim = await assertCode(t.search([1, 2, 3]).toArray(), "DIMENSION_MISMATCH", "short query vector");
      equal([dim.details.column, dim.details.expected, dim.details.actual], ["vector", DIM, 3], "DIMENSION_MISMATCH details");
      assert(dim.message.includes("3") && dim.name === "QuiverError", `message: ${dim.message}`);
      const filter = await assertCode(t.query().where("year >>> 3").toArray(), "INVALID_FILTER", "bad filter");
      assert(typeof filter.details.position === "number", "INVALID_FILTER has a position");
      const column = await assertCode(t.query().select(["nope"]).toArray(), "UNKNOWN_COLUMN", "unknown column");
      equal(column.details.column, "nope", "UNKNOWN_COLUMN names the column");
      await assertCode(t.add([{ id: "not a number" }]), "SCHEMA_MISMATCH", "a row that does not fit");
      await assertCode(t.search([1, 2, 3, 4, 5, 6, 7, Number.NaN]).toArray(), "INVALID_VECTOR", "NaN in a query");
      const unknown = await assertCode(t.countRows("nope = 1"), "INVALID_FILTER", "countRows with an unknown column");
      equal(unknown.details.position, 0, "where the filter went wrong");
      await assertCode(() => t.query().limit(0), "INVALID_ARGUMENT", "builder arguments are checked where the query is built");
      await assertCode(t.search("text").toArray(), "INVALID_ARGUMENT", "text search without a full-text index");
      await assertCode(t.search("text", "vector").toArray(), "UNSUPPORTED", "text vector search without an embedding function");
      equal(await t.countRows(), 10, "failed writes changed nothing");
      await assertRejects(db.openTable("missing"), "TABLE_NOT_FOUND", "assertRejects sees a QuiverError by name too");
    }));

  test("add reports progress; the caller's rows and query vectors stay usable", () =>
    withDb(async (db) => {
      const t = await db.createEmptyTable("p", schema([field("id", DataTypes.int32()), field("vector", DataTypes.vector(DIM))]));
      const reports: [number, number][] = [];
      const input = Array.from({ length: 40_000 }, (_, i) => ({ id: i, vector: new Float32Array(DIM).fill(i % 7) }));
      await t.add(input, { progress: (p) => reports.push([p.rowsDone, p.rowsTotal]) });
      equal(reports, [[16384, 40000], [32768, 40000], [40000, 40000]], "progress reports, all before add() resolves");
      equal(input[5]!.vector.length, DIM, "the caller's vectors are not moved away");
      const q = new Float32Array(DIM).fill(3);
      const query = t.search(q).select(["id"]).limit(2);
      const first = await query.toArray();
      const again = await query.toArray();
      equal(again, first, "a built query runs again with the same result");
      equal(q.length, DIM, "the caller's query vector is not moved away");
      equal(first.map((r) => (r.id as number) % 7), [3, 3], "nearest rows");
    }));

  test("closing: a closed table or connection answers CLOSED", () =>
    withDb(async (db) => {
      const t = await db.createTable("z", rows.slice(0, 5));
      const other = await db.openTable("z");
      t.close();
      assert(!t.isOpen() && other.isOpen(), "only the closed handle is closed");
      await assertCode(t.countRows(), "CLOSED", "countRows on a closed table");
      await assertCode(t.query().toArray(), "CLOSED", "query on a closed table");
      equal(await other.countRows(), 5, "another handle still works");
      await db.close();
      assert(!db.isOpen() && !other.isOpen(), "closing the connection closes its tables");
      await assertCode(db.tableNames(), "CLOSED", "tableNames on a closed connection");
      await assertCode(other.countRows(), "CLOSED", "a table of a closed connection");
      await db.close();
    }));

  test("a second connection to the same database sees commits (readConsistencyInterval: 0)", async () => {
    const name = unique();
    const writer = await subject.connect(name);
    const reader = await subject.connect(name, { readConsistencyInterval: 0 });
    try {
      const w = await writer.createTable("shared", rows.slice(0, 10));
      const r = await reader.openTable("shared");
      equal(await reader.tableNames(), ["shared"], "the reader lists the table");
      await w.add(rows.slice(10, 15));
      equal(await r.countRows(), 15, "the reader sees the append");
      equal(await r.version(), 2, "at version 2");
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  test("Arrow: createTable and add from Arrow tables and batches, schema() as Arrow, toArrow() of table and search, typed errors", () =>
    withDb(async (db) => {
      const f32 = (dim: number) => new arrow.FixedSizeList(dim, new arrow.Field("item", new arrow.Float32(), true));
      const source = new arrow.Table({
        id: arrow.vectorFromArray(rows.slice(0, 50).map((r) => r.id as number), new arrow.Int32()),
        text: arrow.vectorFromArray(rows.slice(0, 50).map((r, i) => (i % 10 === 3 ? null : r.text as string)), new arrow.Utf8()),
        vector: arrow.vectorFromArray(rows.slice(0, 50).map((r) => r.vector as number[]), f32(DIM)),
      });
      const t = await db.createTable("arrow", source);
      equal(await t.add(new arrow.Table({ id: arrow.vectorFromArray([50, 51], new arrow.Int32()) }).batches), { version: 2 }, "add RecordBatch[]");
      equal(await t.countRows(), 52, "rows from Arrow");
      const s = await t.schema();
      equal(s.fields.map((f) => `${f.name}: ${String(f.type)}`), ["id: Int32", "text: Utf8", `vector: FixedSizeList[${DIM}]<Float32>`], "schema() is an Arrow Schema");
      const out = await t.toArrow();
      equal(out.numRows, 52, "toArrow rows");
      equal(out.getChild("text")!.nullCount, 5 + 2, "toArrow keeps nulls");
      equal(Array.from(out.getChild("vector")!.get(7)!.toArray() as Float32Array), Array.from(Float32Array.from(rows[7]!.vector as number[])), "toArrow vectors");
      const q = rows[3]!.vector as number[];
      const hits = await t.search(q).limit(3).toArrow();
      equal(hits.getChild("id")!.get(0), 3, "search toArrow nearest row");
      equal(String(hits.schema.fields.find((f) => f.name === "_distance")!.type), "Float32", "_distance is Float32");
      const copy = await db.createTable("copy", out);
      equal(await copy.query().where("id < 5").toArray(), await t.query().where("id < 5").toArray(), "toArrow → createTable round trip");
      await assertCode(t.add(new arrow.Table({ vector: arrow.vectorFromArray([[1, 2]], f32(2)) })), "DIMENSION_MISMATCH", "wrong dimension from Arrow");
      await assertCode(t.add(new arrow.Table({ nope: arrow.vectorFromArray([1], new arrow.Int32()) })), "SCHEMA_MISMATCH", "unknown column from Arrow");
      equal(await t.version(), 2, "refused Arrow writes commit nothing");
      const empty = await db.createEmptyTable("arrow-empty", new arrow.Schema([
        new arrow.Field("id", new arrow.Int64(), false), new arrow.Field("when", new arrow.TimestampMicrosecond(), true, new Map([["unit", "us"]])),
      ]));
      equal(await empty.quiverSchema(), schema([field("id", DataTypes.int64(), false), { ...field("when", DataTypes.timestamp()), metadata: { unit: "us" } }]), "createEmptyTable from an Arrow Schema");
      equal((await empty.schema()).fields[1]!.metadata.get("unit"), "us", "field metadata survives");
    }));

  test("scalar indexes answer where; explainPlan / analyzePlan show the index and the strategy", () =>
    withDb(async (db) => {
      const t = await db.createTable("plans", rows);
      await t.createIndex("year", { config: Index.btree() });
      await t.createIndex("category");
      await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 4 }) });
      equal(await t.countRows("year = 2003 AND category = 'art'"), rows.filter((r) => r.year === 2003 && r.category === "art").length, "countRows through indexes");
      const q = rows[7]!.vector as number[];
      const plan = await t.search(q).where("year = 2007").select(["id"]).limit(3).explainPlan();
      assert(plan.includes("strategy exact-prefiltered") && plan.includes("year_idx (BTREE on year)") && plan.includes("btree(year) = 2007"), `explainPlan:\n${plan}`);
      assert(!plan.includes(" ms"), `explainPlan has no timings:\n${plan}`);
      const analyzed = await t.search(q).where("year = 2007").select(["id"]).limit(3).analyzePlan();
      assert(/\[rows=3, [\d.]+ ms\]/.test(analyzed) && /Total: [\d.]+ ms, read [\d,]+ bytes/.test(analyzed), `analyzePlan:\n${analyzed}`);
      const post = await t.search(q).where("year = 2007").postfilter().explainPlan(true);
      assert(post.includes("strategy ann") && post.includes("vector_idx IVF_FLAT") && post.includes("postfilter"), `postfilter plan:\n${post}`);
      const scan = await t.query().where("text = 'doc 5'").explainPlan();
      assert(scan.includes("Scan:") && scan.includes("Prefilter: text = 'doc 5' — scan"), `scan plan:\n${scan}`);
      equal(ids(await t.search(q).where("year = 2007").select(["id"]).limit(3).toArray()),
        nearest(rows.filter((r) => r.year === 2007), q, 3).map((r) => r.id), "prefiltered search through the btree is exact");
    }));

  test("LanceDB's surface: takeOffsets / takeRowIds, stats, orderBy, outputSchema, nearestToText, nprobes bounds, update(map)", () =>
    withDb(async (db) => {
      const t = await db.createTable("lance", rows.slice(0, 60));
      await t.add(rows.slice(60, 100));
      equal(await t.delete("id = 1"), { numDeletedRows: 1, version: 3 }, "delete result");
      equal(ids(await t.takeOffsets([5, 0, 70]).select(["id"]).toArray()), [0, 6, 71], "takeOffsets skips the deleted row and returns table order");
      const taken = await t.takeRowIds([2 ** 32 + 3, 2, 1]).withRowId().select(["id"]).toArray();
      equal(taken, [{ id: 2, _rowid: 2 }, { id: 63, _rowid: 2 ** 32 + 3 }], "takeRowIds: deleted row skipped, _rowid kept");
      equal((await t.takeOffsets([0]).toArrow()).numRows, 1, "take toArrow");
      await assertCode(t.takeOffsets([99]).toArray(), "INVALID_ARGUMENT", "an offset past the end");
      await assertCode(t.takeOffsets([-1]).toArray(), "INVALID_ARGUMENT", "a negative offset");
      const st = await t.stats();
      equal([st.numRows, st.numIndices, st.fragmentStats.numFragments, st.fragmentStats.lengths], [99, 0, 2, { min: 40, max: 59, mean: 49, p25: 40, p50: 59, p75: 59, p99: 59 }], "stats");
      assert(st.totalBytes > 0, "stats totalBytes");
      const ordered = await t.query().where("category = 'art'").orderBy([{ columnName: "year", ascending: false }, { columnName: "id" }]).limit(4).select(["id", "year"]).toArray();
      const art = rows.slice(0, 100).filter((r) => r.category === "art").sort((a, b) => (b.year as number) - (a.year as number) || (a.id as number) - (b.id as number));
      equal(ordered, art.slice(0, 4).map((r) => ({ id: r.id, year: r.year })), "orderBy on a filtered scan");
      const q = rows[10]!.vector as number[];
      const near = await t.search(q).limit(5).orderBy({ columnName: "id" }).select(["text"]).toArray();
      equal(near.map((r) => Object.keys(r).join(",")), Array(5).fill("text,_distance"), "orderBy key not selected is not returned");
      equal(ids(await t.search(q).limit(5).orderBy({ columnName: "_distance", ascending: false }).toArray()), nearest(rows.slice(0, 100).filter((r) => r.id !== 1), q, 5).map((n) => n.id).reverse(), "orderBy _distance descending");
      const described = (s: arrow.Schema): string[] => s.fields.map((f) => `${f.name}: ${String(f.type)}`);
      const planned = t.search(q).select({ id: "id", twice: "year * 2", label: "text" }).withRowId();
      equal(described(await planned.outputSchema()), ["id: Float64", "label: Utf8", "twice: Float64", "_distance: Float32", "_rowid: Uint64"], "outputSchema");
      equal(described(await planned.outputSchema()), described((await planned.toArrow()).schema), "outputSchema is what toArrow() returns");
      equal(described(await t.query().where("id < 0").outputSchema()), described((await t.query().where("id < 0").toArrow()).schema), "outputSchema of a plain scan");
      await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 8 }) });
      const few = await t.search(q).where("id >= 90").nprobes(1).maximumNprobes(1).limit(10).toArray();
      const all = await t.search(q).where("id >= 90").minimumNprobes(1).limit(10).toArray();
      equal(all.length, 10, "without maximumNprobes a filtered search widens until limit rows are found");
      assert(few.length <= all.length, "maximumNprobes bounds the widening");
      await t.createIndex("text", { config: Index.fts() });
      equal(ids(await t.query().nearestToText("doc 42").select(["id"]).limit(1).toArray()), [42], "nearestToText is a full-text search");
      equal(await t.update(new Map([["text", "'renamed'"]]), { where: "id = 5" }), { version: 6, rowsUpdated: 1 }, "update(map of SQL, { where })");
      equal(await t.update({ valuesSql: new Map([["year", "year + 1"]]), where: "id = 5" }), { version: 7, rowsUpdated: 1 }, "update({ valuesSql: Map })");
      equal((await t.query().where("id = 5").select(["text", "year"]).toArray())[0], { text: "renamed", year: (rows[5]!.year as number) + 1 }, "updated row");
      await assertCode(t.update({ text: 3 } as unknown as Record<string, string>, { where: "id = 5" }), "INVALID_ARGUMENT", "update(map) with a non-SQL value");
    }));

  test("renameTable and cloneTable (shallow, kept through the source's cleanup)", () =>
    withDb(async (db) => {
      const t = await db.createTable("src", rows.slice(0, 40));
      await t.add(rows.slice(40, 60));
      await db.renameTable("src", "moved");
      assert(!t.isOpen(), "the handle on the old name is closed");
      equal(await db.tableNames(), ["moved"], "tableNames after renameTable");
      const moved = await db.openTable("moved");
      equal([await moved.countRows(), (await moved.listVersions()).length], [60, 2], "rows and versions moved");
      await assertCode(db.renameTable("src", "x"), "TABLE_NOT_FOUND", "renaming a missing table");
      const clone = await db.cloneTable("clone", "moved", { sourceVersion: 1 });
      equal(await clone.countRows(), 40, "a clone of version 1");
      await moved.delete("id < 100");
      await moved.optimize({ cleanupOlderThan: new Date(Date.now() + 1000), deleteUnverified: true });
      equal(ids(await clone.query().where("id >= 38").select(["id"]).toArray()), [38, 39], "the clone keeps its rows through the source's cleanup");
      await assertCode(db.dropTable("moved"), "INVALID_ARGUMENT", "dropping a table a clone shares files with");
      await db.dropAllTables();
      equal(await db.tableNames(), [], "dropAllTables drops the clone first");
    }));

  return cases;
}
