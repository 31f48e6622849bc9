import { afterAll, describe, expect, it } from "vitest";
import { connect, type Connection, type Row } from "../../src/index.js";
import { startTsWorker } from "./worker-harness.js";
import { seededRandom as rng } from "../../bench/datasets.js";

// From the TypeScript sources the worker script is a .ts file, started through tsx.
const createScanWorker = () => startTsWorker(new URL("../../src/pool/pool-node-worker.ts", import.meta.url).href);


const r = rng(5);
const rows: Row[] = Array.from({ length: 30_000 }, (_, i) => ({ id: i, even: i % 2 === 0, vector: Float32Array.from({ length: 96 }, () => r() * 2 - 1) }));
const queries = Array.from({ length: 8 }, () => Float32Array.from({ length: 96 }, () => r() * 2 - 1));
const open: Connection[] = [];
afterAll(async () => { for (const c of open) await c.close(); });

describe("connect(uri, { workers })", () => {
  for (const transport of ["shared", "message"] as const) {
    it(`splits large exact scans across 2 workers (${transport}) with identical results`, async () => {
      const plain = await connect("memory://");
      const pooled = await connect("memory://", { workers: 2, scanTransport: transport, createScanWorker });
      open.push(plain, pooled);
      const a = await plain.createTable("t", rows);
      const b = await pooled.createTable("t", rows);
      for (const metric of ["l2", "cosine", "dot"] as const) {
        const want = await a.search(queries).distanceType(metric).select(["id"]).limit(10).toArray();
        const got = await b.search(queries).distanceType(metric).select(["id"]).limit(10).toArray();
        expect(got).toEqual(want);
      }
      const filtered = await b.search(queries[0]!).where("even = true").select(["id"]).limit(5).toArray();
      expect(filtered).toEqual(await a.search(queries[0]!).where("even = true").select(["id"]).limit(5).toArray());
    }, 60_000);
  }

  it("rejects a bad worker count", async () => {
    await expect(connect("memory://", { workers: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
