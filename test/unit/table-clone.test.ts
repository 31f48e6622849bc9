/**
 * connection.renameTable and connection.cloneTable: atomic folder renames (memory, file system),
 * copy-then-delete elsewhere with a crash at every step, and shallow clones that keep their rows
 * through the source's compaction and cleanup.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, Index, MemoryStore, type Connection, type Table } from "../../src/index.js";
import { FsStore } from "../../src/storage/fs-store.js";
import { FaultInjectingStore, isSimulatedCrash } from "../support/fault-store.js";

const dir = mkdtempSync(join(tmpdir(), "quiver-clone-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = (n: number, start = 0) => Array.from({ length: n }, (_, k) => ({ id: start + k, tag: (start + k) % 3 === 0 ? "a" : "b", vector: [start + k, (start + k) % 7, 1] }));
const ids = async (t: Table, where?: string): Promise<number[]> => (await (where ? t.query().where(where) : t.query()).select(["id"]).toArray()).map((r) => r.id as number).sort((a, b) => a - b);
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

/** A table with three versions, a tag and a vector index. */
async function seed(db: Connection, name = "src"): Promise<Table> {
  const t = await db.createTable(name, rows(50));
  await t.add(rows(50, 50));
  await (await t.tags()).create("first", 1);
  await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 2 }) });
  return t;
}

describe("renameTable", () => {
  const stores: [string, () => Promise<Connection>][] = [
    ["memory (atomic folder rename)", () => connect("memory://")],
    ["file system (atomic directory rename)", async () => connect(join(dir, `fs-${Math.random().toString(36).slice(2)}`))],
    ["a store without renameFolder (copy, then delete)", () => connect(new FaultInjectingStore(new MemoryStore("memory://copy")))],
  ];
  for (const [what, open] of stores) {
    it(`moves every version, tag and index: ${what}`, async () => {
      const db = await open();
      const t = await seed(db);
      const versions = await t.listVersions();
      await db.renameTable("src", "dst");
      expect(t.isOpen()).toBe(false);
      expect(await db.tableNames()).toEqual(["dst"]);
      await expect(db.openTable("src")).rejects.toMatchObject({ code: "TABLE_NOT_FOUND" });
      const moved = await db.openTable("dst");
      expect(await moved.listVersions()).toEqual(versions);
      expect(await ids(moved)).toEqual(range(0, 100));
      expect((await moved.listIndices()).map((i) => i.indexType)).toEqual(["IvfFlat"]);
      expect((await moved.search([10, 3, 1]).limit(1).toArray())[0]!.id).toBe(10);
      await moved.checkout("first");
      expect(await moved.countRows()).toBe(50);
      await moved.checkoutLatest();
      await moved.add(rows(1, 100));
      expect(await moved.countRows()).toBe(101);
      await db.createTable("other", rows(1));
      await expect(db.renameTable("dst", "other")).rejects.toMatchObject({ code: "TABLE_EXISTS" });
      await expect(db.renameTable("nope", "x")).rejects.toMatchObject({ code: "TABLE_NOT_FOUND" });
      await expect(db.renameTable("dst", "bad/name")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      expect(await (await db.openTable("dst")).countRows()).toBe(101);
      await db.close();
    });
  }

  it("copy-then-delete: a crash at any write step leaves the old table, the new one, or both, each whole", async () => {
    const counting = new FaultInjectingStore(new MemoryStore("memory://count"));
    const db0 = await connect(counting);
    await seed(db0);
    const before = counting.steps.length;
    await db0.renameTable("src", "dst");
    const steps = counting.steps.length - before;
    expect(steps).toBeGreaterThan(10);
    for (let failAt = 1; failAt <= steps; failAt++) {
      const inner = new MemoryStore("memory://crash");
      const setup = await connect(inner);
      await seed(setup);
      // The seed wrote through `inner` directly, so this store counts the rename's steps alone.
      const crashing = new FaultInjectingStore(inner, { failAt, mode: "crash" });
      const db = await connect(crashing);
      await expect(db.renameTable("src", "dst")).rejects.toSatisfy(isSimulatedCrash);
      const after = await connect(inner);
      const names = await after.tableNames();
      expect(names.length, `step ${failAt}: ${names.join(",")}`).toBeGreaterThan(0);
      for (const name of names) {
        const t = await after.openTable(name);
        expect(await ids(t), `${name} after a crash at step ${failAt}`).toEqual(range(0, 100));
      }
    }
  }, 60_000);
});

describe("cloneTable", () => {
  it("a shallow clone shares the source's files, diverges on its own, and survives the source's compaction and cleanup", async () => {
    const store = new MemoryStore("memory://clones");
    const db = await connect(store);
    const src = await seed(db);
    const bytesBefore = store.usedBytes;
    const clone = await db.cloneTable("copy", "src");
    // Only a manifest and a marker were written: no data file was copied.
    expect(store.usedBytes - bytesBefore).toBeLessThan(8 * 1024);
    expect(await clone.version()).toBe(1);
    expect(await ids(clone)).toEqual(range(0, 100));
    expect((await clone.search([42, 0, 1]).limit(1).toArray())[0]!.id).toBe(42);
    // Each side writes without the other seeing it.
    await clone.delete("id < 10");
    await src.delete("id >= 90");
    await clone.add(rows(5, 200));
    expect(await ids(src)).toEqual(range(0, 90));
    expect(await ids(clone)).toEqual([...range(10, 100), ...range(200, 205)]);
    // The source compacts and cleans up everything older than now: the files the clone names stay.
    await src.optimize({ cleanupOlderThan: new Date(Date.now() + 1000), deleteUnverified: true });
    await (await src.tags()).delete("first");
    await src.optimize({ cleanupOlderThan: new Date(Date.now() + 1000), deleteUnverified: true });
    const reopened = await (await connect(store)).openTable("copy");
    expect(await ids(reopened)).toEqual([...range(10, 100), ...range(200, 205)]);
    expect((await reopened.search([42, 0, 1]).limit(1).toArray())[0]!.id).toBe(42);
    // The clone's own cleanup never touches the source's files.
    await reopened.optimize({ cleanupOlderThan: new Date(Date.now() + 1000), deleteUnverified: true });
    expect(await ids(await db.openTable("src"))).toEqual(range(0, 90));
    expect(await ids(await db.openTable("copy"))).toEqual([...range(10, 100), ...range(200, 205)]);
    // The source cannot go while the clone needs its files; once the clone is dropped, it can.
    await expect(db.dropTable("src")).rejects.toMatchObject({ code: "INVALID_ARGUMENT", details: { clones: ["copy"] } });
    await expect(db.renameTable("src", "moved")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await db.dropTable("copy");
    await db.dropTable("src");
    expect(store.usedBytes).toBe(0);
  });

  for (const when of ["before", "after"] as const) {
    it(`a cleanup that prunes the version being cloned, ${when} the clone's marker lands, makes the clone fail and loses nothing`, async () => {
      const inner = new MemoryStore("memory://race");
      let cleanup: (() => Promise<unknown>) | undefined;
      // Runs the source's cleanup at the chosen moment of the clone's marker write.
      const store = new Proxy(inner, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (prop !== "put") return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          return async (key: string, data: Uint8Array) => {
            const run = key.includes("/_clones/") ? cleanup : undefined;
            if (run) cleanup = undefined;
            if (run && when === "before") await run();
            await target.put(key, data);
            if (run && when === "after") await run();
          };
        },
      });
      const db = await connect(store);
      const src = await db.createTable("src", rows(30));
      await src.delete("id < 10"); // version 2: version 1's deletion-free state is only in version 1
      await src.optimize({ targetRowsPerFragment: 1000 });
      const v1 = await (await connect(inner)).openTable("src");
      await v1.checkout(1);
      cleanup = () => src.optimize({ cleanupOlderThan: new Date(Date.now() + 1000), deleteUnverified: true });
      await expect(db.cloneTable("copy", "src", { sourceVersion: 1 })).rejects.toMatchObject({ code: "NOT_FOUND" });
      expect(await db.tableNames()).toEqual(["src"]);
      expect(await inner.list("src.quiver/_clones/")).toEqual([]);
      expect(await ids(await db.openTable("src"))).toEqual(range(10, 30));
    });
  }

  it("clones an older version or a tag; a clone of a clone; deep clones copy; dropAllTables drops clones first", async () => {
    const db = await connect(join(dir, "clones-fs"));
    await seed(db);
    const v1 = await db.cloneTable("v1", "src", { sourceVersion: 1 });
    expect(await ids(v1)).toEqual(range(0, 50));
    expect(await ids(await db.cloneTable("tagged", "src", { sourceTag: "first" }))).toEqual(range(0, 50));
    await v1.add(rows(1, 300));
    // A clone of a clone names the files of both: src's directly, and the one v1 wrote.
    const second = await db.cloneTable("second", "v1");
    await second.add(rows(1, 500));
    expect(await ids(second)).toEqual([...range(0, 50), 300, 500]);
    const deep = await db.cloneTable("deep", join(dir, "clones-fs", "src"), { isShallow: false });
    expect(await ids(deep)).toEqual(range(0, 100));
    await expect(db.cloneTable("x", "src", { sourceVersion: 1, sourceTag: "first" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(db.cloneTable("x", "memory://elsewhere/src")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(db.cloneTable("v1", "src")).rejects.toMatchObject({ code: "TABLE_EXISTS" });
    await expect(db.cloneTable("x", "src", { sourceVersion: 99 })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // "v1" is both a clone and a source now; "src" has three clones.
    await expect(db.dropTable("v1")).rejects.toMatchObject({ code: "INVALID_ARGUMENT", details: { clones: ["second"] } });
    await db.dropAllTables();
    expect(await db.tableNames()).toEqual([]);
    await db.close();
  });
});
