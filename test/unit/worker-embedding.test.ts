/**
 * Embedding functions across the worker hop: a worker script of the user's own registers a
 * function and calls `serve()`; tables created through `connectWorker` with that function embed
 * rows and text queries inside the worker, reopen with it, and a function the worker does not know
 * is refused with NOT_FOUND before anything is written.
 */
import type { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectThrough, type RemoteConnection } from "../../src/worker/client.js";
import { Index } from "../../src/index.js";
import { LetterCounts } from "./letter-embedding.js";
import { startTsWorker } from "./worker-harness.js";

const script = new URL("./fixtures/letters-worker.ts", import.meta.url).href;

describe("embedding functions through quiverdb/worker", () => {
  let worker: Worker;
  let db: RemoteConnection;
  beforeAll(async () => {
    worker = startTsWorker(script);
    db = await connectThrough("memory://", { worker }, () => { throw new Error("the test passes its worker"); });
  });
  afterAll(async () => {
    await db.close();
    await worker.terminate();
  });

  it("embeds rows and text queries inside the worker with the worker's registered function", async () => {
    LetterCounts.embedded.length = 0;
    const fn = new LetterCounts({}, "letters-in-worker");
    const t = await db.createTable("notes", [
      { id: 1, text: "aaaa aaa" },
      { id: 2, text: "zzzz zzz" },
      { id: 3, text: "mmm nnn" },
    ], { embeddingFunction: { sourceColumn: "text", function: fn } });
    // The function ran in the worker, not here.
    expect(LetterCounts.embedded).toEqual([]);
    const schema = await t.quiverSchema();
    expect(schema.fields.find((f) => f.name === "vector")?.type).toMatchObject({ kind: "vector", dim: 26 });
    await t.add([{ id: 4, text: "zz zz zz" }]);
    const near = await t.search("zzz", "vector").select(["id"]).limit(2).toArray();
    expect(near.map((r) => r.id)).toEqual([2, 4]);
    await t.createIndex("text", { config: Index.fts() });
    const hybrid = await t.search("aaaa", "hybrid").select(["id"]).limit(1).toArray();
    expect(hybrid[0]!.id).toBe(1);

    const again = await db.openTable("notes");
    const reopened = await again.search("mmm", "vector").select(["id"]).limit(1).toArray();
    expect(reopened[0]!.id).toBe(3);
  });

  it("a function the worker has not registered is NOT_FOUND, and no table is made", async () => {
    const fn = new LetterCounts({}, "only-on-the-page");
    await expect(db.createTable("orphan", [{ id: 1, text: "x" }], { embeddingFunction: { sourceColumn: "text", function: fn } }))
      .rejects.toMatchObject({ code: "NOT_FOUND", name: "QuiverError" });
    expect(await db.tableNames()).not.toContain("orphan");
  });
});
