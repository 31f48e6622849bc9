import { afterAll, describe, expect, it } from "vitest";
import { connect, type Connection, type Row } from "../../src/index.js";
import { startTsWorker } from "./worker-harness.js";

// From the TypeScript sources the worker script is a .ts file, started through tsx.
const createScanWorker = () => startTsWorker(new URL("../../src/worker/pool-node-worker.ts", import.meta.url).href);

/** Tables on a connection with a scan pool answer exactly as in-thread ones (large scans go to the workers). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
