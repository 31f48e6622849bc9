/**
 * An index build reads an on-disk fragment's vectors a slice of rows at a time (vectorSlices), not
 * the whole column: the slices must give exactly the rows and vectors the whole column would,
 * deleted rows and null vectors left out. (That an index added in uneven slices is the same file as
 * one added at once is ann-ivf-add.test.ts's.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, DataTypes, field, Index, MemoryStore, schema } from "../../src/index.js";
import { Dataset } from "../../src/dataset/dataset.js";
import { Session } from "../../src/session.js";
import { FsStore } from "../../src/storage/fs-store.js";
import { gatherVectors, vectorSlices } from "../../src/table/vector-index-build.js";
import { seededRandom } from "../../src/ann/common.js";

const DIM = 8;
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function rows(n: number, from = 0) {
  const r = seededRandom(from + 1);
  return Array.from({ length: n }, (_, i) => ({ id: from + i, vector: (from + i) % 13 === 5 ? null : Array.from({ length: DIM }, () => r() * 2 - 1) }));
}

describe("index builds read on-disk vectors in slices", () => {
  it("slices give the rows and vectors of the whole column, without deleted rows or nulls", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-slices-"));
    dirs.push(dir);
    const db = await connect(dir);
    const t = await db.createTable("t", rows(1000), { schema: schema([field("id", DataTypes.int32()), field("vector", DataTypes.vector(DIM))]) });
    await t.add(rows(333, 1000));
    await t.delete("id % 7 = 3 OR id BETWEEN 400 AND 460");
    await db.close();

    const store = await FsStore.open(dir);
    const session = new Session();
    try {
      const ds = await Dataset.open(store, "t", session);
      const head = ds.head();
      const type = head.schema.fields[1]!.type as Parameters<typeof gatherVectors>[2];
      let sliced = 0;
      for (const frag of head.fragments) {
        expect(frag.columns.has("vector")).toBe(false); // on disk: the sliced path
        const whole = gatherVectors([{ ...frag, columns: new Map([["vector", await ds.readColumn(head.schema, frag, "vector")]]) }], "vector", type);
        const ids: number[] = [];
        const vectors: number[] = [];
        let slices = 0;
        for await (const s of vectorSlices(ds, head.schema, frag, "vector", type, DIM * 4 * 37)) {
          expect(s.vectors.length).toBe(s.rowIds.length * DIM);
          ids.push(...s.rowIds);
          vectors.push(...s.vectors);
          slices++;
        }
        expect(slices).toBe(Math.ceil(frag.liveRows / 37));
        expect(ids).toEqual(Array.from(whole.rowIds));
        expect(vectors).toEqual(Array.from(whole.vectors));
        sliced += ids.length;
      }
      const kept = Array.from({ length: 1333 }, (_, id) => id).filter((id) => id % 7 !== 3 && (id < 400 || id > 460) && id % 13 !== 5);
      expect(sliced).toBe(kept.length);
    } finally {
      await store.close();
    }
  });

  it("runs of whole rows are read into one reused buffer, checked, and give the column's vectors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-slices-"));
    dirs.push(dir);
    const db = await connect(dir);
    const r = seededRandom(9);
    const full = Array.from({ length: 1500 }, (_, i) => ({ id: i, vector: Array.from({ length: DIM }, () => r() * 2 - 1) }));
    const t = await db.createTable("t", full, { schema: schema([field("id", DataTypes.int32()), field("vector", DataTypes.vector(DIM))]) });
    await t.delete("id BETWEEN 700 AND 705");
    await db.close();

    const store = await FsStore.open(dir);
    try {
      const ds = await Dataset.open(store, "t", new Session());
      const head = ds.head();
      const frag = head.fragments[0]!;
      const type = head.schema.fields[1]!.type as Parameters<typeof gatherVectors>[2];
      const whole = gatherVectors([{ ...frag, columns: new Map([["vector", await ds.readColumn(head.schema, frag, "vector")]]) }], "vector", type);
      const reuse: { buffer?: Uint8Array } = {};
      const ids: number[] = [];
      const vectors: number[] = [];
      const buffers = new Set<ArrayBufferLike>();
      const before = ds.reads.bytes;
      // 101 rows of 32 bytes a slice: slices start and end inside checksummed chunks (16 rows of 512 bytes); the deleted rows split one run.
      for await (const s of vectorSlices(ds, head.schema, frag, "vector", type, DIM * 4 * 101, reuse)) {
        ids.push(...s.rowIds);
        vectors.push(...s.vectors);
        buffers.add(s.vectors.buffer);
      }
      expect(ids).toEqual(Array.from(whole.rowIds));
      expect(vectors).toEqual(Array.from(whole.vectors));
      // Every slice but the one holding the deleted rows came through the one buffer.
      expect(reuse.buffer).toBeDefined();
      expect(buffers.has(reuse.buffer!.buffer)).toBe(true);
      expect(buffers.size).toBe(2);
      expect(ds.reads.bytes - before).toBeGreaterThanOrEqual(1494 * DIM * 4);

      // A damaged chunk is CORRUPT_FILE, not vectors.
      const file = frag.files[0]!;
      const bytes = await store.get(file.key);
      bytes[bytes.length >> 1] ^= 0xff;
      await store.put(file.key, bytes);
      const fresh = await Dataset.open(store, "t", new Session());
      await expect((async () => {
        for await (const _ of vectorSlices(fresh, head.schema, fresh.head().fragments[0]!, "vector", type, DIM * 4 * 101, {})) { /* reads */ }
      })()).rejects.toMatchObject({ code: "CORRUPT_FILE" });
    } finally {
      await store.close();
    }
  });

  it("an IVF build over files read into one buffer (sample runs and slices) writes the index a build over plain row reads does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-slices-"));
    dirs.push(dir);
    const r = seededRandom(4);
    const batches = [0, 1, 2].map((b) => Array.from({ length: 2500 }, (_, i) => ({ id: b * 2500 + i, vector: Array.from({ length: 24 }, () => r() * 2 - 1) })));
    const s = schema([field("id", DataTypes.int32()), field("vector", DataTypes.vector(24))]);
    const memory = new MemoryStore();
    for (const target of [dir, memory]) {
      const db = await connect(target);
      const t = await db.createTable("t", batches[0]!, { schema: s });
      for (const b of batches.slice(1)) await t.add(b);
      // (Closing a connection closes its store: the memory store is left open to be read again.)
      if (typeof target === "string") await db.close();
    }
    const indexBytes = async (target: string | MemoryStore): Promise<Uint8Array> => {
      // A fresh connection: the vectors come from the data files, not from fragments still in memory.
      const db = await connect(target);
      const t = await db.openTable("t");
      await t.createIndex("vector", { config: Index.ivfPq({ numPartitions: 12, numSubVectors: 6, numBits: 4, maxIterations: 3, distanceType: "cosine" }) });
      const store = target instanceof MemoryStore ? target : await FsStore.open(target);
      const [file] = await store.list("t.quiver/_indices/");
      const bytes = await store.get(file!.key);
      if (!(target instanceof MemoryStore)) await store.close();
      return bytes;
    };
    const fromFiles = await indexBytes(dir);
    const fromRows = await indexBytes(memory);
    expect(fromFiles.length).toBe(fromRows.length);
    expect(Buffer.compare(Buffer.from(fromFiles), Buffer.from(fromRows))).toBe(0);
  });
});
