/**
 * publishTable with `compact`: a table written in 20 batches (20 data files, 21 versions) is
 * published as its latest version only, compacted into one data file with its index rebuilt, on a
 * temporary copy (the source is not changed). Served with latency through a browser's 6 HTTP/1.1
 * connections, an indexed query with refine then takes 3 round trips cold and 2 warm, where the
 * copy as-is takes 7 and 5 (remote-round-trips.test.ts). Exact answers (a flat search, a filter)
 * equal the source's; the rebuilt index, trained on the live rows, answers as the source's index
 * does but for near ties (recall@10 against exact search within 0.05 of the source's).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishTable } from "../../src/cli/publish.js";
import { connect, type Connection } from "../../src/connection.js";
import type { Row } from "../../src/data/rows.js";
import { Index } from "../../src/indexes/config.js";
import type { Table } from "../../src/table.js";
import { seededRandom } from "../../bench/datasets.js";
import { limitedFetch, roundTrips, serveStatic, type ServedRequest } from "./static-server.js";

const FRAGMENTS = 20;
/**
 * Rows per batch: enough that, compacted into one data file, a query's 100 candidates touch under
 * a quarter of its id column's chunks (469), so their ids are read with their vectors (as at 1M).
 */
const PER_FRAGMENT = 12_000;
const DIM = 8;
/** Long enough that the requests of one wave are never taken for a chain on a busy machine. */
const LATENCY_MS = 250;

const search = (t: Table, q: Float32Array): Promise<Row[]> => t.search(q).nprobes(8).refineFactor(10).select(["id"]).limit(10).toArray();
const exact = (t: Table, q: Float32Array): Promise<Row[]> => t.search(q).bypassVectorIndex().select(["id", "label"]).limit(10).toArray();
const ids = (rows: readonly Row[]): unknown[] => rows.map((r) => r.id);

/** Recall@10 of `t`'s indexed search against exact search over `queries`. */
async function recall(t: Table, queries: readonly Float32Array[]): Promise<number> {
  let hits = 0;
  for (const q of queries) {
    const want = new Set(ids(await exact(t, q)));
    hits += ids(await search(t, q)).filter((id) => want.has(id)).length;
  }
  return hits / (10 * queries.length);
}
const files = (dir: string, sub: string): string[] => readdirSync(join(dir, "t.quiver", sub));

describe("publishTable with compact", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-publish-compact-"));
  const random = seededRandom(21);
  const draw = (): Float32Array => Float32Array.from({ length: DIM }, () => random() * 2 - 1);
  const queries = Array.from({ length: 3 }, draw);
  const recallQueries = Array.from({ length: 40 }, draw);
  let local: Connection;
  let table: Table;
  const want: Row[][] = [];

  beforeAll(async () => {
    local = await connect(join(dir, "src"));
    for (let f = 0; f < FRAGMENTS; f++) {
      const rows = Array.from({ length: PER_FRAGMENT }, (_, i) => ({ id: f * PER_FRAGMENT + i, label: `r${f * PER_FRAGMENT + i}`, vector: draw() }));
      table = f === 0 ? await local.createTable("t", rows) : (await table.add(rows), table);
    }
    await table.createIndex("vector", { config: Index.ivfPq({ numPartitions: 32, numSubVectors: 2 }) });
    await table.delete("id % 1000 = 7");
    for (const q of queries) want.push(await exact(table, q));
  }, 300_000);

  afterAll(async () => {
    await local?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("publishes the latest version in one data file, the source unchanged: the source's answers, 3 round trips cold and 2 warm through 6 connections", async () => {
    const sourceFiles = files(join(dir, "src"), "data");
    const version = await table.version();
    const stats = await publishTable(join(dir, "src"), "t", join(dir, "compact"), { compact: true });
    await publishTable(join(dir, "src"), "t", join(dir, "as-is"));
    // The source keeps its fragments and versions.
    expect(files(join(dir, "src"), "data")).toEqual(sourceFiles);
    expect(await (await local.openTable("t")).version()).toBe(version);
    // As-is: 20 data files (and deletion files), every version. Compacted: one data file, one
    // version (the others leave tombstones in _versions/).
    expect(files(join(dir, "as-is"), "data").filter((f) => f.endsWith(".qvf"))).toHaveLength(FRAGMENTS);
    expect(files(join(dir, "as-is"), "_versions").length).toBeGreaterThan(FRAGMENTS);
    expect(files(join(dir, "compact"), "data")).toHaveLength(1);
    expect(stats.files).toBe(readdirSync(join(dir, "compact", "t.quiver"), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length);

    const server = await serveStatic(join(dir, "compact"), { latencyMs: LATENCY_MS });
    try {
      const db = await connect(server.origin, { http: { fetch: limitedFetch(6), maxConnections: 6 } });
      const t = await db.openTable("t");
      expect(await t.countRows()).toBe(await table.countRows());
      expect(await t.listVersions()).toHaveLength(1);
      expect((await t.listIndices()).map((i) => i.name)).toEqual((await table.listIndices()).map((i) => i.name));
      const logs: ServedRequest[][] = [];
      for (const q of queries) {
        const from = server.log.length;
        expect(await search(t, q)).toHaveLength(10);
        logs.push(server.log.slice(from));
      }
      for (const [i, q] of queries.entries()) {
        const got = await exact(t, q);
        expect(got.map((r) => [r.id, r.label])).toEqual(want[i]!.map((r) => [r.id, r.label]));
        got.forEach((r, j) => expect(r._distance as number).toBeCloseTo(want[i]![j]!._distance as number, 5));
      }
      const filter = "label LIKE 'r12%' AND id < 13000";
      expect(await t.query().where(filter).select(["id"]).toArray()).toEqual(await table.query().where(filter).select(["id"]).toArray());
      await db.close();
      console.log(`compacted publication, 6 connections: ${JSON.stringify(logs.map((l) => ({ requests: l.length, roundTrips: roundTrips(l) })))}`);
      const [cold, ...warm] = logs;
      expect(roundTrips(cold!)).toBeLessThanOrEqual(3);
      for (const log of warm) expect(roundTrips(log)).toBeLessThanOrEqual(2);
    } finally {
      await server.close();
    }
    const published = await connect(join(dir, "compact"));
    try {
      const [source, copy] = [await recall(table, recallQueries), await recall(await published.openTable("t"), recallQueries)];
      console.log(`recall@10 against exact search: source index ${source}, rebuilt index ${copy}`);
      expect(Math.abs(copy - source)).toBeLessThanOrEqual(0.05);
    } finally {
      await published.close();
    }
  }, 300_000);

  it("rejects targetRowsPerFragment without compact, and a bad target", async () => {
    await expect(publishTable(join(dir, "src"), "t", join(dir, "bad"), { targetRowsPerFragment: 1000 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(publishTable(join(dir, "src"), "t", join(dir, "bad"), { compact: true, targetRowsPerFragment: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(publishTable(join(dir, "src"), "nope", join(dir, "bad"), { compact: true })).rejects.toMatchObject({ code: "TABLE_NOT_FOUND" });
  });

  it("compacts to data files of targetRowsPerFragment rows", async () => {
    await publishTable(join(dir, "src"), "t", join(dir, "by-4"), { compact: true, targetRowsPerFragment: 5 * PER_FRAGMENT });
    expect(files(join(dir, "by-4"), "data")).toHaveLength(FRAGMENTS / 5);
  }, 300_000);

  it("from the command line: npm run publish-table -- … --compact --target-rows N, and quiverdb publish … --compact", () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: root, encoding: "utf8", timeout: 240_000 });
    const script = run("npm", ["run", "--silent", "publish-table", "--", join(dir, "src"), "t", join(dir, "cli-10"), "--compact", "--target-rows", String(10 * PER_FRAGMENT)]);
    expect(script.stderr).toBe("");
    expect(script.stdout).toMatch(/published t \(latest version, compacted\): \d+ files/);
    expect(files(join(dir, "cli-10"), "data")).toHaveLength(FRAGMENTS / 10);
    const bin = run("npx", ["tsx", "src/cli/main.ts", "publish", join(dir, "src"), "t", join(dir, "cli"), "--compact", "--quiet"]);
    expect(bin.status).toBe(0);
    expect(files(join(dir, "cli"), "data")).toHaveLength(1);
    // --target-rows without --compact is a usage error (exit 2), and nothing is written.
    const usage = run("npx", ["tsx", "src/cli/main.ts", "publish", join(dir, "src"), "t", join(dir, "cli-bad"), "--target-rows", "5"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--target-rows needs --compact/);
  }, 300_000);
});
