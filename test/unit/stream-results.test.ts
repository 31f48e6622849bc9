/**
 * Query results as a stream (issue 11: "queries are async-iterable as record batches for results
 * too large to hold"): a plain scan is read fragment by fragment, page by page, with nothing left
 * decoded on the table's fragments, leases returned when the iteration ends or is abandoned, and
 * the same rows as toArray() — in-thread and through quiverdb/worker.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordBatch } from "apache-arrow";
import { afterAll, describe, expect, it } from "vitest";
import { connect, type Connection, type Row } from "../../src/index.js";
import type { Table } from "../../src/table.js";

const FRAGMENTS = 12;
const PER_FRAGMENT = 1500;
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Rows with a text column of ~200 characters, so 12 fragments hold ~3.6 MB of text. */
function rowsFrom(from: number, n: number): Row[] {
  return Array.from({ length: n }, (_, i) => {
    const id = from + i;
    return { id, label: `l${id % 7}`, text: `row ${id} `.padEnd(200, String.fromCharCode(97 + (id % 26))), vector: [id % 5, 1] };
  });
}

async function bigTable(cacheBytes = 1 << 20): Promise<{ db: Connection; t: Table; uri: string }> {
  const uri = await mkdtemp(join(tmpdir(), "quiver-stream-"));
  dirs.push(uri);
  const db = await connect(uri, { cacheBytes });
  const t = await db.createTable("t", rowsFrom(0, PER_FRAGMENT));
  for (let f = 1; f < FRAGMENTS; f++) await t.add(rowsFrom(f * PER_FRAGMENT, PER_FRAGMENT));
  return { db, t, uri };
}

/** The fragments of the table's current version (white-box: what stays decoded in JS). */
function decodedColumns(t: Table): number {
  const head = (t as unknown as { dataset: { head(): { fragments: { columns: Map<string, unknown> }[] } } }).dataset.head();
  return head.fragments.reduce((n, f) => n + f.columns.size, 0);
}

describe("streamed query results", () => {
  it("a plain scan streams page by page with the rows of toArray(), leaving nothing decoded on the table", async () => {
    const { db, t } = await bigTable();
    const pages: number[] = [];
    const ids: number[] = [];
    let maxCache = 0;
    for await (const batch of t.query().select(["id", "text"]).toBatches({ maxBatchLength: 1000 })) {
      pages.push(batch.numRows);
      ids.push(...Array.from(batch.getChild("id")!.toArray() as ArrayLike<number>, Number));
      maxCache = Math.max(maxCache, db.memoryStats().cache.bytes);
    }
    // Pages never cross a fragment: 1500 rows → 1000 + 500.
    expect(pages).toEqual(Array.from({ length: FRAGMENTS }, () => [1000, 500]).flat());
    expect(ids).toEqual(Array.from({ length: FRAGMENTS * PER_FRAGMENT }, (_, i) => i));
    // The table's fragments hold no decoded column afterwards, and the session stayed in its budget.
    expect(decodedColumns(t)).toBe(0);
    expect(maxCache).toBeLessThanOrEqual(db.memoryStats().cache.limitBytes);
    expect(db.memoryStats().cache.leasedOutside).toBe(0);
    // toArray() still decodes onto the fragments (the cached path), and gives the same rows.
    const all = await t.query().select(["id", "text"]).toArray();
    expect(all.map((r) => r.id)).toEqual(ids);
    await db.close();
  });

  it("filters, offset and limit apply across fragments; an abandoned stream returns its leases", async () => {
    const { db, t } = await bigTable(64 << 20);
    const filter = "label != 'l3' AND id % 2 = 1";
    const expected = (await t.query().where(filter).select(["id", "label"]).offset(700).limit(2500).toArray()).map((r) => r.id);
    expect(expected.length).toBe(2500);
    const got: number[] = [];
    for await (const batch of t.query().where(filter).select(["id", "label"]).offset(700).limit(2500).toBatches({ maxBatchLength: 97 })) {
      expect(batch.numRows).toBeLessThanOrEqual(97);
      got.push(...Array.from(batch.getChild("id")!.toArray() as ArrayLike<number>, Number));
    }
    expect(got).toEqual(expected);

    // Breaking out of `for await` ends the stream: nothing stays leased.
    let seen = 0;
    for await (const batch of t.query().select(["id", "vector"])) {
      seen += batch.numRows;
      break;
    }
    expect(seen).toBeGreaterThan(0);
    expect(db.memoryStats().cache.leasedOutside).toBe(0);

    // A search is bounded by its limit: it runs whole and is paged the same way.
    const near = await t.search([3, 1]).select(["id"]).limit(30).toArray();
    const paged: number[] = [];
    for await (const batch of t.search([3, 1]).select(["id"]).limit(30).toBatches({ maxBatchLength: 8 })) paged.push(...Array.from(batch.getChild("id")!.toArray() as ArrayLike<number>, Number));
    expect(paged).toEqual(near.map((r) => r.id));
    await db.close();
  });

  it("through quiverdb/worker, pages cross one at a time", async () => {
    const { db, uri } = await bigTable(64 << 20);
    await db.close();
    const { Worker } = await import("node:worker_threads");
    const { connectThrough } = await import("../../src/worker/client.js");
    const { startTsWorker } = await import("./worker-harness.js");
    const worker: InstanceType<typeof Worker> = await startTsWorker();
    try {
      const remote = await connectThrough(uri, { worker } as never, () => {
        throw new Error("the test passes its worker");
      });
      const t = await remote.openTable("t");
      const sizes: number[] = [];
      let last = -1;
      let ordered = true;
      for await (const batch of t.query().where("id >= 1000").select(["id"]).limit(5000).toBatches({ maxBatchLength: 600 })) {
        sizes.push(batch.numRows);
        for (const id of Array.from(batch.getChild("id")!.toArray() as ArrayLike<number>, Number)) {
          if (id <= last) ordered = false;
          last = id;
        }
      }
      expect(ordered).toBe(true);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(5000);
      // 500 rows are left in fragment 0 after id 1000, then 1500-row fragments paged by 600.
      expect(sizes.slice(0, 4)).toEqual([500, 600, 600, 300]);
      // Abandoned half way: the worker closes the stream.
      for await (const batch of t.query().toBatches({ maxBatchLength: 10 })) {
        expect(batch.numRows).toBe(10);
        break;
      }
      expect((await t.query().where("id < 3").toArray()).length).toBe(3);

      // Streamed imports: the worker pulls record batches one at a time.
      const mem = await connect("memory://stream-source");
      const src = await mem.createTable("src", rowsFrom(0, 100));
      for (let f = 1; f < 6; f++) await src.add(rowsFrom(f * 100, 100));
      const good = (await src.toArrow()).batches;
      expect(good.length).toBe(6);
      const bad = (await (await mem.createTable("bad", [{ id: 1, label: "x", text: "y", vector: [1, 2, 3] }])).toArrow()).batches[0]!;
      let yielded = 0;
      let ended = false;
      async function* batches(list: readonly RecordBatch[]): AsyncGenerator<RecordBatch> {
        try {
          for (const b of list) {
            yielded++;
            yield b;
          }
        } finally {
          ended = true;
        }
      }
      const copy = await remote.createTable("copy", batches(good));
      expect(await copy.countRows()).toBe(600);
      expect(yielded).toBe(6);
      // A bad third batch: the worker refuses it, stops pulling (the caller's generator is ended
      // after three batches, not drained) and the append commits nothing.
      yielded = 0;
      ended = false;
      const failed = await copy.add(batches([good[0]!, good[1]!, bad, good[3]!, good[4]!, good[5]!])).then(() => undefined, (e: { code?: string }) => e.code);
      expect(failed).toBe("SCHEMA_MISMATCH"); // its vectors have another length than the first batch's
      expect(yielded).toBe(3);
      expect(ended).toBe(true);
      expect(await copy.countRows()).toBe(600);
      await mem.close();
      await remote.close();
    } finally {
      await worker.terminate();
    }
  });
});
