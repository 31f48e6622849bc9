import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { hasData, loadSiftSmall, recallAtK, type VectorDataset } from "../../bench/datasets.js";
import { RowIds, seededRandom } from "../../src/ann/common.js";
import { liveRowsCounters } from "../../src/query/live-rows.js";
import { connect, Index, isQuiverError, type Table, type VectorQuery } from "../../src/index.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let sift: VectorDataset;
beforeAll(() => {
  if (!hasData("siftsmall", "siftsmall_base.fvecs")) throw new Error("siftsmall not found in ../shared/data");
  sift = loadSiftSmall();
});

function vec(data: Float32Array, i: number, dim: number): Float32Array {
  return data.subarray(i * dim, (i + 1) * dim);
}

async function siftTable(uri: string): Promise<Table> {
  const { base } = sift;
  const db = await connect(uri);
  const rows = Array.from({ length: base.n }, (_, i) => ({ id: i, even: i % 2 === 0, vector: vec(base.data, i, base.dim) }));
  const t = await db.createTable("sift", rows.slice(0, 6000));
  await t.add(rows.slice(6000));
  return t;
}

async function recall(t: Table, configure: (q: VectorQuery) => VectorQuery): Promise<number> {
  const { queries, groundTruth } = sift;
  const found: number[][] = [];
  for (let q = 0; q < queries.n; q++) {
    const hits = await configure(t.search(vec(queries.data, q, queries.dim)).select(["id"]).limit(10)).toArray();
    found.push(hits.map((h) => h.id as number));
  }
  return recallAtK(found, groundTruth, 10);
}

describe("vector indexes in tables (siftsmall, real data)", () => {
  it("IVF_PQ: recall@10 against the published ground truth, persisted and reopened", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-index-"));
    dirs.push(dir);
    const t = await siftTable(dir);
    const phases = new Set<string>();
    await t.createIndex("vector", { config: Index.ivfPq({ numPartitions: 64, numSubVectors: 32 }), progress: (p) => phases.add(p.phase) });
    expect(phases.size).toBeGreaterThan(1);
    expect(await t.listIndices()).toMatchObject([{ name: "vector_idx", indexType: "IvfPq", columns: ["vector"], kind: "IVF_PQ" }]);
    const stats = await t.indexStats("vector_idx");
    expect(stats).toMatchObject({ indexType: "IVF_PQ", distanceType: "l2", numIndexedRows: 10_000, numUnindexedRows: 0 });
    expect(stats!.sizeBytes).toBeGreaterThan(0);

    const refined = await recall(t, (q) => q.nprobes(16).refineFactor(4));
    expect(refined).toBeGreaterThanOrEqual(0.95);
    const exact = await recall(t, (q) => q.bypassVectorIndex());
    expect(exact).toBe(1);

    const again = await (await connect(dir)).openTable("sift");
    expect(await recall(again, (q) => q.nprobes(16).refineFactor(4))).toBe(refined);
  });

  it("HNSW_SQ: high recall; filters, deletes and rows added later are honoured; optimize folds rows in", async () => {
    const t = await siftTable("memory://");
    await t.createIndex("vector", { config: Index.hnswSq({ m: 16, efConstruction: 100 }) });
    expect(await recall(t, (q) => q.ef(64))).toBeGreaterThanOrEqual(0.95);

    const q0 = vec(sift.queries.data, 0, sift.queries.dim);
    const filtered = await t.search(q0).where("even = true AND id < 400").select(["id"]).limit(10).toArray();
    expect(filtered).toHaveLength(10);
    for (const h of filtered) expect((h.id as number) % 2 === 0 && (h.id as number) < 400).toBe(true);

    const nearest = (await t.search(q0).select(["id"]).limit(1).toArray())[0]!.id as number;
    await t.delete(`id = ${nearest}`);
    const after = await t.search(q0).select(["id"]).limit(10).toArray();
    expect(after.map((h) => h.id)).not.toContain(nearest);
    expect(after).toHaveLength(10);

    // A new row identical to the query: found at distance 0 although the index does not cover it.
    await t.add([{ id: 99_999, even: false, vector: q0 }]);
    expect((await t.indexStats("vector_idx"))!.numUnindexedRows).toBe(1);
    const top = (await t.search(q0).select(["id"]).limit(1).toArray())[0]!;
    expect(top).toEqual({ id: 99_999, _distance: 0 });
    await t.optimize();
    expect((await t.indexStats("vector_idx"))!.numUnindexedRows).toBe(0);
    expect((await t.search(q0).select(["id"]).limit(1).fastSearch().toArray())[0]!.id).toBe(99_999);
  });

  it("recall you can see: estimate, tune for a target, or just ask for it", async () => {
    const t = await siftTable("memory://");
    await t.createIndex("vector", { config: Index.ivfPq({ numPartitions: 64, numSubVectors: 16 }) });
    const queries = Array.from({ length: sift.queries.n }, (_, q) => vec(sift.queries.data, q, sift.queries.dim));

    // The estimate on the real queries against exact search agrees with the published ground truth.
    const est = await t.estimateRecall({ queries, nprobes: 8, refineFactor: 2 });
    const truth = await recall(t, (q) => q.nprobes(8).refineFactor(2));
    expect(Math.abs(est.recall - truth)).toBeLessThan(0.02);
    expect(est.queries).toBe(100);
    const low = await t.estimateRecall({ nprobes: 1, queries: 40 }); // samples drawn from the table itself
    expect(low.recall).toBeLessThan(est.recall);

    const tuned = await t.tuneRecall({ target: 0.95, queries: 60 });
    expect(tuned.reached).toBe(true);
    expect(tuned.recall).toBeGreaterThanOrEqual(0.95);
    expect(tuned.tried.length).toBeGreaterThan(1);
    expect(await recall(t, (q) => q.nprobes(tuned.params.nprobes!).refineFactor(tuned.params.refineFactor ?? 1))).toBeGreaterThanOrEqual(0.92);

    expect(await recall(t, (q) => q.targetRecall(0.95))).toBeGreaterThanOrEqual(0.92);
    expect(() => t.search(queries[0]!).targetRecall(1.5)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("rejects bad index requests with typed errors", async () => {
    const t = await siftTable("memory://");
    const code = async (p: Promise<unknown>): Promise<string> => p.then(() => "none", (e: unknown) => (isQuiverError(e) ? e.code : String(e)));
    expect(await code(t.createIndex("nope"))).toBe("UNKNOWN_COLUMN");
    expect(await code(t.createIndex("id", { config: Index.ivfFlat() }))).toBe("INVALID_ARGUMENT");
    await t.createIndex("id"); // a scalar column without a config gets a scalar index, as in LanceDB
    expect(await t.listIndices()).toMatchObject([{ name: "id_idx", indexType: "BTree", columns: ["id"], kind: "BTREE" }]);
    await t.dropIndex("id_idx");
    expect(() => Index.ivfPq({ numPartitions: 0 })).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => Index.ivfPq({ numSubVectors: 1.5 })).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => Index.hnswSq({ nprobes: 3 } as never)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(await code(t.dropIndex("vector_idx"))).toBe("NOT_FOUND");
    await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 16 }) });
    expect(await code(t.createIndex("vector", { config: Index.ivfFlat(), replace: false }))).toBe("INVALID_ARGUMENT");
    await t.dropIndex("vector_idx");
    expect(await t.listIndices()).toEqual([]);
  });
});

describe("index builds and queries at once", () => {
  it("searches running during an IVF build on the same handle return the right rows", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-concurrent-"));
    try {
      const rand = seededRandom(1);
      const v = (): Float32Array => Float32Array.from({ length: 32 }, () => rand());
      const db = await connect(dir);
      const t = await db.createTable("t", Array.from({ length: 20000 }, (_, i) => ({ id: i, vector: v() })));
      for (let k = 1; k <= 3; k++) await t.add(Array.from({ length: 20000 }, (_, i) => ({ id: 20000 * k + i, vector: v() })));
      const q = v();
      const want = (await t.search(q).limit(10).toArray()).map((r) => r.id);
      // A fresh handle: nothing loaded, so the build and the scans read the columns at once.
      const fresh = await (await connect(dir)).openTable("t");
      const build = fresh.createIndex("vector", { config: Index.ivfPq({ numPartitions: 16, numSubVectors: 8 }) });
      const scans = Array.from({ length: 12 }, () => fresh.search(q).bypassVectorIndex().limit(10).toArray());
      for (const rows of await Promise.all(scans)) expect(rows.map((r) => r.id)).toEqual(want);
      await build;
      expect((await fresh.search(q).bypassVectorIndex().limit(10).toArray()).map((r) => r.id)).toEqual(want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("index builds and queries of other versions", () => {
  it("searches of an older version, and of one with an index being replaced, return the right rows during a build", async () => {
    const rand = seededRandom(2);
    const v = (): Float32Array => Float32Array.from({ length: 32 }, () => rand());
    const db = await connect("memory://concurrent-versions");
    const t = await db.createTable("t", Array.from({ length: 8000 }, (_, i) => ({ id: i, vector: v() })));
    await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 8 }) });
    const indexed = await t.version();
    for (let k = 1; k <= 2; k++) await t.add(Array.from({ length: 8000 }, (_, i) => ({ id: 8000 * k + i, vector: v() })));
    const qs = Array.from({ length: 6 }, v);
    const exactOld: number[][] = [];
    const old = await db.openTable("t");
    await old.checkout(indexed);
    for (const q of qs) exactOld.push((await old.search(q).bypassVectorIndex().limit(10).toArray()).map((r) => r.id as number));
    const annOld = await Promise.all(qs.map(async (q) => (await old.search(q).nprobes(8).limit(10).toArray()).map((r) => r.id as number)));
    // Replace the index on the head while the older version is searched, exactly and through its index.
    const build = t.createIndex("vector", { config: Index.ivfPq({ numPartitions: 16, numSubVectors: 8 }), replace: true });
    const during = await Promise.all(qs.flatMap((q) => [
      old.search(q).bypassVectorIndex().limit(10).toArray(),
      old.search(q).nprobes(8).limit(10).toArray(),
    ]));
    await build;
    qs.forEach((_, i) => {
      expect(during[2 * i]!.map((r) => r.id)).toEqual(exactOld[i]);
      expect(during[2 * i + 1]!.map((r) => r.id)).toEqual(annOld[i]); // nprobes = all partitions: exact
      expect(exactOld[i]!.every((id) => id < 8000)).toBe(true);
    });
    // The old version's index was freed only when nothing used it: it still answers.
    expect((await old.search(qs[0]!).nprobes(8).limit(10).toArray()).map((r) => r.id)).toEqual(annOld[0]);
    await db.close();
  });
});

describe("deleted rows and ANN cost", () => {
  it("with one deleted row, HNSW queries test a cached live-row bitmap instead of walking every row", async () => {
    const rand = seededRandom(5);
    const v = (): Float32Array => Float32Array.from({ length: 16 }, () => rand());
    const n = 5000;
    const t = await (await connect("memory://")).createTable("t", Array.from({ length: n }, (_, i) => ({ id: i, vector: v() })));
    await t.createIndex("vector", { config: Index.hnswSq({ m: 8, efConstruction: 40 }) });
    const q = (await t.query().where("id = 7").toArray())[0]!.vector as Float32Array;
    await t.delete("id = 7");
    const spy = vi.spyOn(RowIds.prototype, "get");
    for (let i = 0; i < 20; i++) {
      const rows = await t.search(i === 0 ? q : v()).limit(10).toArray();
      expect(rows.map((r) => r.id)).not.toContain(7);
      expect(rows.length).toBe(10);
    }
    // One pass over the index's rows builds the bitmap; 20 queries do not repeat it (before: 20 × n).
    console.log(`row-id lookups for 20 queries with one deleted row: ${spy.mock.calls.length} (n = ${n})`);
    expect(spy.mock.calls.length).toBeLessThanOrEqual(n + 20 * 50);
    spy.mockRestore();
  });

  it("a later delete updates the live-row bitmap (rows of the touched fragment) instead of rebuilding it", async () => {
    const rand = seededRandom(6);
    const v = (): Float32Array => Float32Array.from({ length: 16 }, () => rand());
    const per = 2000;
    const t = await (await connect("memory://")).createTable("t", Array.from({ length: per }, (_, i) => ({ id: i, vector: v() })));
    for (let f = 1; f < 5; f++) await t.add(Array.from({ length: per }, (_, i) => ({ id: f * per + i, vector: v() })));
    await t.createIndex("vector", { config: Index.hnswSq({ m: 8, efConstruction: 40 }) });
    const n = 5 * per;
    await t.delete("id = 7");
    await t.search(v()).limit(10).toArray(); // builds the bitmap once
    const builds = liveRowsCounters.builds;
    const spy = vi.spyOn(RowIds.prototype, "get");
    const targets = [4123, 8999, 10, 2500];
    const qs = await t.query().where(`id IN (${targets.join(", ")})`).select(["id", "vector"]).toArray();
    for (const id of targets) {
      await t.delete(`id = ${id}`);
      const q = qs.find((r) => r.id === id)!.vector as Float32Array;
      const rows = await t.search(q).limit(10).toArray();
      expect(rows.map((r) => r.id)).not.toContain(id);
      expect(rows.map((r) => r.id)).not.toContain(7);
      expect(rows.length).toBe(10);
    }
    // The first update builds the row → position table (one pass); later ones touch one fragment.
    expect(liveRowsCounters.builds).toBe(builds);
    console.log(`row-id lookups for 4 deletes + 4 queries: ${spy.mock.calls.length} (n = ${n})`);
    expect(spy.mock.calls.length).toBeLessThanOrEqual(n + 4 * 50);
    spy.mockRestore();
    // Checking out an older version (rows come back) rebuilds, and answers stay right.
    await t.checkout(await t.version() - 4);
    const back = await t.search(qs.find((r) => r.id === 8999)!.vector as Float32Array).limit(1).toArray();
    expect(back[0]!.id).toBe(8999);
  });
});
