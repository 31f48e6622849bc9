/**
 * Quiver ↔ LanceDB (the real native @lancedb/lancedb): a table written by Quiver and exported
 * (by the `quiverdb export` CLI, run as a child process, and as an Arrow IPC file) answers the same
 * exact vector query (LanceDB with bypassVectorIndex), filter, filtered vector query and full-text
 * query with the same rows in LanceDB; and a table LanceDB wrote (vectors, scalars, nulls, lists,
 * an embedding config in its schema metadata) imported by `quiverdb import` answers them the same
 * in Quiver. `quiverdb publish` then serves the imported table to an HTTP reader.
 */
import * as lancedb from "@lancedb/lancedb";
import * as A from "apache-arrow";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, DataTypes, field, getRegistry, Index, schema, type Row, type Table } from "../../src/index.js";
import { exportTable } from "../../src/interop.js";
import { LetterCounts } from "./letter-embedding.js";
import { serveStatic } from "./static-server.js";

const ROOT = resolve(__dirname, "../..");
const run = promisify(execFile);

/** `npx quiverdb …`, from the source (tsx), as a child process. */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), join(ROOT, "src/cli/main.ts"), ...args, "--quiet"], { cwd: ROOT, timeout: 60_000 });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "quiver-lancedb-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A deterministic generator, so both systems see the same data on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const WORDS = ["dog", "cat", "stock", "market", "rain", "sun", "river", "bird", "code", "music"];
const DIM = 8;

function makeRows(n: number): Row[] {
  const r = prng(7);
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    text: Array.from({ length: 3 + (i % 5) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" "),
    category: ["news", "pets", "tech"][i % 3]!,
    price: i % 7 === 0 ? null : Math.round(r() * 10000) / 100,
    year: 2000 + (i % 25),
    tags: i % 6 === 0 ? null : [WORDS[i % 10]!, WORDS[(i * 3) % 10]!],
    vector: Array.from({ length: DIM }, () => Math.fround(r() * 2 - 1)),
  }));
}

const QUERY = Array.from({ length: DIM }, (_, j) => Math.fround(Math.sin(j + 1)));
const FILTER = "category = 'news' AND price > 20";

const ids = (rows: Row[]): number[] => rows.map((r) => Number(r.id));
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

/** The same questions to a Quiver table and a LanceDB table. */
async function answersAgree(q: Table, l: lancedb.Table): Promise<void> {
  // Exact nearest neighbours, same order, same distances.
  const qv = await q.search(QUERY).distanceType("l2").select(["id"]).limit(10).toArray();
  const lv = await l.query().nearestTo(QUERY).distanceType("l2").bypassVectorIndex().select(["id"]).limit(10).toArray();
  expect(ids(qv)).toEqual(ids(lv));
  qv.forEach((row, i) => expect(row._distance).toBeCloseTo(lv[i]._distance as number, 4));

  // A filter, and a filter with nulls.
  const qf = await q.query().where(FILTER).select(["id"]).limit(10_000).toArray();
  const lf = await l.query().where(FILTER).select(["id"]).limit(10_000).toArray();
  expect(qf.length).toBeGreaterThan(5);
  expect(sorted(ids(qf))).toEqual(sorted(ids(lf)));
  expect(await q.countRows("price IS NULL")).toBe(await l.countRows("price IS NULL"));

  // The filtered exact vector query.
  const qfv = await q.search(QUERY).where(FILTER).select(["id"]).limit(5).toArray();
  const lfv = await l.query().nearestTo(QUERY).where(FILTER).bypassVectorIndex().select(["id"]).limit(5).toArray();
  expect(ids(qfv)).toEqual(ids(lfv));

  // Full text: the same matching rows for single terms and for two terms.
  await q.createIndex("text", { config: Index.fts() });
  await l.createIndex("text", { config: lancedb.Index.fts() });
  for (const text of ["dog", "river", "market bird"]) {
    const qt = await q.search(text, "fts").select(["id"]).limit(1000).toArray();
    const lt = await l.query().fullTextSearch(text).select(["id"]).limit(1000).toArray();
    expect(qt.length).toBeGreaterThan(0);
    expect(sorted(ids(qt))).toEqual(sorted(ids(lt)));
  }
}

/** The rows of a table as plain values, by id (vectors as arrays). */
function plain(rows: Row[]): Row[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => {
    if (v instanceof Float32Array) return [k, Array.from(v)];
    if (typeof v === "bigint") return [k, Number(v)];
    if (v && typeof (v as { toArray?: unknown }).toArray === "function") return [k, Array.from((v as { toArray(): ArrayLike<unknown> }).toArray())];
    return [k, v];
  }))).sort((a, b) => Number(a.id) - Number(b.id));
}

describe("Quiver → LanceDB", () => {
  it("a Quiver table exported by the CLI and as an Arrow file answers the same in LanceDB", async () => {
    const quiverDir = join(dir, "q1");
    const db = await connect(quiverDir);
    const rows = makeRows(400);
    const t = await db.createEmptyTable("docs", schema([
      field("id", DataTypes.int32(), false), field("text", DataTypes.utf8()), field("category", DataTypes.utf8()),
      field("price", DataTypes.float64()), field("year", DataTypes.int32()), field("tags", DataTypes.list(DataTypes.utf8())),
      field("vector", DataTypes.vector(DIM)),
    ]));
    await t.add(rows.slice(0, 250));
    await t.add(rows.slice(250));            // two fragments
    await t.delete("id = 3");
    const arrowPath = join(dir, "docs.arrow");
    await exportTable(t, arrowPath);
    await db.close();

    const lanceDir = join(dir, "l1");
    const out = await cli("export", quiverDir, "docs", lanceDir);
    expect(out.stdout).toMatch(/399 rows/);

    const ldb = await lancedb.connect(lanceDir);
    const lt = await ldb.openTable("docs");
    expect(await lt.countRows()).toBe(399);
    const fromIpc = await ldb.createTable("from_ipc", A.tableFromIPC(await readFile(arrowPath)));
    const q = await (await connect(quiverDir)).openTable("docs");
    expect(plain(await lt.query().limit(1000).toArray())).toEqual(plain(await q.query().toArray()));
    expect(plain(await fromIpc.query().limit(1000).toArray())).toEqual(plain(await q.query().toArray()));
    await answersAgree(q, lt);
    lt.close();
    fromIpc.close();
    ldb.close();
  });

  it("an embedding config goes to LanceDB's schema metadata, and LanceDB still reads and searches the table", async () => {
    getRegistry().register("letter-counts", { create: (o?: { salt?: number }) => new LetterCounts(o) }, { replace: true });
    const quiverDir = join(dir, "q-notes");
    const db = await connect(quiverDir);
    await db.createTable("notes", [{ id: 1, text: "a lazy dog" }, { id: 2, text: "quick brown fox" }], {
      embeddingFunction: { sourceColumn: "text", function: new LetterCounts({ salt: 5 }) },
    });
    await db.close();
    const lanceDir = join(dir, "l-notes");
    await cli("export", quiverDir, "notes", lanceDir);
    const ldb = await lancedb.connect(lanceDir);
    const lt = await ldb.openTable("notes");
    const meta = (await lt.schema()).metadata.get("embedding_functions");
    expect(JSON.parse(meta!)).toEqual([{ sourceColumn: "text", vectorColumn: "vector", name: "letter-counts", model: { salt: 5 } }]);
    const query = await new LetterCounts().computeQueryEmbeddings("dog lazy");
    const [hit] = await lt.query().nearestTo(query).bypassVectorIndex().limit(1).toArray();
    expect(Number(hit.id)).toBe(1);
    lt.close();
    ldb.close();
  });
});

describe("LanceDB → Quiver", () => {
  it("a table LanceDB wrote, imported by the CLI, answers the same in Quiver and can be published", async () => {
    const lanceDir = join(dir, "l2");
    const ldb = await lancedb.connect(lanceDir);
    const rows = makeRows(500);
    const item = (t: A.DataType) => new A.Field("item", t, true);
    const embedding = JSON.stringify([{ sourceColumn: "text", vectorColumn: "vector", name: "letter-counts", model: { salt: 3 } }]);
    const arrowSchema = new A.Schema([
      new A.Field("id", new A.Int64(), false), new A.Field("text", new A.Utf8(), true), new A.Field("category", new A.Utf8(), true),
      new A.Field("price", new A.Float64(), true), new A.Field("year", new A.Int32(), true), new A.Field("tags", new A.List(item(new A.Utf8())), true),
      new A.Field("vector", new A.FixedSizeList(DIM, item(new A.Float32())), true),
    ], new Map([["embedding_functions", embedding]]));
    const data = lancedb.makeArrowTable(rows.map((r) => ({ ...r, id: BigInt(r.id as number) })), { schema: arrowSchema });
    const lt = await ldb.createTable("docs", data);
    expect(await lt.countRows()).toBe(500);

    const quiverDir = join(dir, "q2");
    const out = await cli("import", lanceDir, "docs", quiverDir);
    expect(out.stdout).toMatch(/500 rows/);

    const db = await connect(quiverDir);
    const q = await db.openTable("docs");
    const s = await q.quiverSchema();
    expect(s.fields.map((f) => [f.name, f.type])).toEqual([
      ["id", DataTypes.int64()], ["text", DataTypes.utf8()], ["category", DataTypes.utf8()], ["price", DataTypes.float64()],
      ["year", DataTypes.int32()], ["tags", DataTypes.list(DataTypes.utf8())], ["vector", DataTypes.vector(DIM)],
    ]);
    expect((await q.tableConfig()).embedding_functions).toEqual([{ sourceColumn: "text", vectorColumn: "vector", function: { name: "letter-counts", salt: 3 } }]);
    expect(plain(await q.query().toArray())).toEqual(plain(await lt.query().limit(1000).toArray()));
    await answersAgree(q, lt);
    await db.close();

    // Published for browsers: the same table read over HTTP range requests.
    const site = join(dir, "site");
    await cli("publish", quiverDir, "docs", site);
    const server = await serveStatic(site);
    try {
      const remote = await connect(server.origin);
      const r = await remote.openTable("docs");
      expect(await r.countRows(FILTER)).toBe(await lt.countRows(FILTER));
      await remote.close();
    } finally {
      await server.close();
    }
    lt.close();
    ldb.close();
  });

  it("CLI errors are typed and exit non-zero; usage errors exit 2", async () => {
    const missing = await cli("import", join(dir, "l2"), "nope", join(dir, "q3")).catch((e: { code: number; stderr: string }) => e);
    expect((missing as { code: number }).code).toBe(1);
    expect((missing as { stderr: string }).stderr).toMatch(/TABLE_NOT_FOUND/);
    const usage = await cli("import", "only-one").catch((e: { code: number; stderr: string }) => e);
    expect((usage as { code: number }).code).toBe(2);
    expect((usage as { stderr: string }).stderr).toMatch(/usage:/);
  });
});
