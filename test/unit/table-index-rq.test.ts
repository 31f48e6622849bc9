/**
 * IVF_RQ as a table index on siftsmall (real data): built with LanceDB's `Index.ivfRq`, listed as
 * "IvfRq", searched with the default re-rank on the stored vectors, persisted and reopened, with
 * filters, deletions, appended rows and optimize; then built and searched through a worker (the
 * config crosses comlink as plain data).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasData, loadSiftSmall, recallAtK, type VectorDataset } from "../../bench/datasets.js";
import { connect, Index, type Table } from "../../src/index.js";
import { connectThrough, type RemoteTable } from "../../src/worker/client.js";
import { startTsWorker } from "./worker-harness.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const vec = (data: Float32Array, i: number, dim: number): Float32Array => data.subarray(i * dim, (i + 1) * dim);

describe.skipIf(!hasData("siftsmall"))("IVF_RQ in tables (siftsmall)", () => {
  let sift: VectorDataset;
  beforeAll(() => {
    sift = loadSiftSmall();
  });
  const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ id: from + k, even: (from + k) % 2 === 0, vector: vec(sift.base.data, from + k, sift.base.dim) }));

  async function recall(t: Table | RemoteTable, nprobes: number): Promise<number> {
    const found: number[][] = [];
    for (let q = 0; q < sift.queries.n; q++) {
      const hits = await t.search(vec(sift.queries.data, q, sift.queries.dim)).nprobes(nprobes).select(["id"]).limit(10).toArray();
      found.push(hits.map((h) => h.id as number));
    }
    return recallAtK(found, sift.groundTruth, 10);
  }

  it("builds, lists as IvfRq, reaches recall ≥ 0.98 with the default re-rank, and reopens the same", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-rq-"));
    dirs.push(dir);
    const db = await connect(dir);
    const t = await db.createTable("sift", rows(0, 6000));
    await t.add(rows(6000, 10_000));
    await t.createIndex("vector", { config: Index.ivfRq({ numPartitions: 64 }) });
    expect(await t.listIndices()).toMatchObject([{ name: "vector_idx", indexType: "IvfRq", columns: ["vector"], kind: "IVF_RQ" }]);
    expect(await t.indexStats("vector_idx")).toMatchObject({ indexType: "IVF_RQ", distanceType: "l2", numIndexedRows: 10_000, numUnindexedRows: 0 });
    const r = await recall(t, 16);
    expect(r).toBeGreaterThanOrEqual(0.98); // measured 0.999
    const again = await (await connect(dir)).openTable("sift");
    expect(await recall(again, 16)).toBe(r);
  });

  it("honours filters and deletions, searches appended rows, and optimize folds them in", async () => {
    const t = await (await connect("memory://")).createTable("sift", rows(0, 10_000));
    await t.createIndex("vector", { config: Index.ivfRq({ numPartitions: 32, numBits: 1 }) });
    const q0 = vec(sift.queries.data, 0, sift.queries.dim);
    const filtered = await t.search(q0).where("even = true AND id >= 2000").select(["id"]).limit(10).toArray();
    expect(filtered).toHaveLength(10);
    for (const h of filtered) expect((h.id as number) % 2 === 0 && (h.id as number) >= 2000).toBe(true);

    const nearest = (await t.search(q0).select(["id"]).limit(1).toArray())[0]!.id as number;
    expect(nearest).toBe(sift.groundTruth.data[0]);
    await t.delete(`id = ${nearest}`);
    const after = await t.search(q0).select(["id"]).limit(10).toArray();
    expect(after.map((h) => h.id)).not.toContain(nearest);
    expect(after).toHaveLength(10);

    await t.add([{ id: 99_999, even: false, vector: q0 }]);
    expect((await t.search(q0).select(["id"]).limit(1).toArray())[0]).toEqual({ id: 99_999, _distance: 0 });
    await t.optimize();
    expect((await t.indexStats("vector_idx"))!.numUnindexedRows).toBe(0);
    expect((await t.listIndices())[0]!.kind).toBe("IVF_RQ");
    expect((await t.search(q0).select(["id"]).limit(1).fastSearch().toArray())[0]).toEqual({ id: 99_999, _distance: 0 });
  });

  describe("through a worker", () => {
    let worker: Worker;
    beforeAll(() => {
      worker = startTsWorker();
    });
    afterAll(async () => {
      await worker.terminate();
    });

    it("Index.ivfRq crosses comlink; results match the in-thread table", async () => {
      const dir = mkdtempSync(join(tmpdir(), "quiver-rq-worker-"));
      dirs.push(dir);
      const remote = await connectThrough(dir, { worker }, () => {
        throw new Error("the test passes its worker");
      });
      const t = await remote.createTable("sift", rows(0, 10_000));
      await t.createIndex("vector", { config: Index.ivfRq({ numPartitions: 64, distanceType: "l2" }) });
      expect((await t.listIndices())[0]).toMatchObject({ indexType: "IvfRq", kind: "IVF_RQ" });
      const local = await (await connect(dir)).openTable("sift");
      for (let q = 0; q < 5; q++) {
        const qv = vec(sift.queries.data, q, sift.queries.dim);
        const a = await t.search(qv).nprobes(16).select(["id"]).limit(10).toArray();
        const b = await local.search(qv).nprobes(16).select(["id"]).limit(10).toArray();
        expect(a).toEqual(b);
      }
      await expect(t.createIndex("vector", { config: { kind: "vector", type: "IVF_RQ", params: { numBits: 2 } } })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    });
  });
});
