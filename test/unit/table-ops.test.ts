import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, DataTypes, field, isQuiverError, type Row, type Table } from "../../src/index.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isQuiverError(e)) return e.code;
    throw e;
  }
  return "none";
}

function sorted(rows: Row[]): Row[] {
  return [...rows].sort((a, b) => (a.id as number) - (b.id as number));
}

async function fresh(): Promise<Table> {
  const db = await connect("memory://");
  return db.createTable("t", [
    { id: 1, name: "a", price: 10, updated: 1, vector: [1, 0] },
    { id: 2, name: "b", price: 20, updated: 1, vector: [0, 1] },
    { id: 3, name: "c", price: 30, updated: 5, vector: [1, 1] },
  ]);
}

describe("mergeInsert", () => {
  it("upserts: updates matched rows, inserts new ones", async () => {
    const t = await fresh();
    const res = await t.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([
      { id: 2, name: "B", price: 21, updated: 2, vector: [0, 2] },
      { id: 4, name: "d", price: 40, updated: 2, vector: [2, 2] },
    ]);
    expect(res).toMatchObject({ numInsertedRows: 1, numUpdatedRows: 1, numDeletedRows: 0 });
    expect(sorted(await t.query().select(["id", "name", "price"]).toArray())).toEqual([
      { id: 1, name: "a", price: 10 }, { id: 2, name: "B", price: 21 }, { id: 3, name: "c", price: 30 }, { id: 4, name: "d", price: 40 },
    ]);
    expect((await t.search([0, 2]).limit(1).toArray())[0]!.id).toBe(2);
  });

  it("applies the matched condition with target./source. names, and deletes rows missing from the source", async () => {
    const t = await fresh();
    const res = await t.mergeInsert(["id"])
      .whenMatchedUpdateAll({ where: "target.updated < source.updated" })
      .whenNotMatchedBySourceDelete({ where: "price < 15" })
      .execute([
        { id: 2, name: "newer", price: 0, updated: 9, vector: [0, 1] },
        { id: 3, name: "older", price: 0, updated: 2, vector: [1, 1] },
        { id: 9, name: "ignored", price: 0, updated: 0, vector: [0, 0] },
      ]);
    expect(res).toMatchObject({ numInsertedRows: 0, numUpdatedRows: 1, numDeletedRows: 1 });
    expect(sorted(await t.query().select(["id", "name"]).toArray())).toEqual([{ id: 2, name: "newer" }, { id: 3, name: "c" }]);
  });

  it("rejects duplicate source keys, unknown keys and empty plans without writing", async () => {
    const t = await fresh();
    const v = await t.version();
    const dup = [{ id: 5, name: "x", price: 1, updated: 1, vector: [0, 0] }, { id: 5, name: "y", price: 1, updated: 1, vector: [0, 0] }];
    expect(await codeOf(t.mergeInsert("id").whenNotMatchedInsertAll().execute(dup))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(t.mergeInsert("nope").whenNotMatchedInsertAll().execute([]))).toBe("UNKNOWN_COLUMN");
    expect(await codeOf(t.mergeInsert("id").execute([]))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(t.mergeInsert("id").whenMatchedUpdateAll({ where: "target.nope > 1" }).execute([]))).toBe("INVALID_FILTER");
    expect(await codeOf(t.mergeInsert("id").whenNotMatchedInsertAll().execute([{ id: 7, vector: [1, 2, 3] }]))).toBe("DIMENSION_MISMATCH");
    expect(await t.version()).toBe(v);
  });
});

describe("schema evolution", () => {
  it("adds computed and null columns, renames, retypes and drops — and it all persists", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-schema-"));
    dirs.push(dir);
    const db = await connect(dir);
    const t = await db.createTable("t", [
      { id: 1, price: 10, vector: [1, 0, 0, 0] },
      { id: 2, price: 20, vector: [0, 1, 0, 0] },
    ]);
    await t.add([{ id: 3, price: 30, vector: [0, 0, 1, 0] }]);
    await t.addColumns([{ name: "double_price", valueSql: "price * 2" }, field("note", DataTypes.utf8())]);
    await t.alterColumns([{ path: "double_price", rename: "dp" }, { path: "vector", dataType: DataTypes.vector(4, "float16") }]);
    await t.dropColumns(["note"]);
    const fields = (await t.quiverSchema()).fields.map((f) => [f.name, f.type]);
    expect(fields).toEqual([["id", DataTypes.float64()], ["price", DataTypes.float64()], ["vector", DataTypes.vector(4, "float16")], ["dp", DataTypes.float64()]]);
    const expectRows = [{ id: 1, dp: 20 }, { id: 2, dp: 40 }, { id: 3, dp: 60 }];
    expect(sorted(await t.query().select(["id", "dp"]).toArray())).toEqual(expectRows);
    expect((await t.search([0, 0, 1, 0]).limit(1).toArray())[0]!.id).toBe(3);
    await t.add([{ id: 4, price: 1, vector: [0, 0, 0, 1], dp: 2 }]);

    const again = await (await connect(dir)).openTable("t");
    expect(sorted(await again.query().select(["id", "dp"]).toArray())).toEqual([...expectRows, { id: 4, dp: 2 }]);
    await again.checkout(2);
    expect((await again.quiverSchema()).fields.map((f) => f.name)).toEqual(["id", "price", "vector"]);
  });

  it("refuses bad schema changes with typed errors and leaves the table as it was", async () => {
    const t = await fresh();
    const v = await t.version();
    expect(await codeOf(t.addColumns([{ name: "price", valueSql: "1" }]))).toBe("SCHEMA_MISMATCH");
    expect(await codeOf(t.addColumns([{ name: "x", valueSql: "nope + 1" }]))).toBe("INVALID_FILTER");
    expect(await codeOf(t.addColumns([field("y", DataTypes.int32(), false)]))).toBe("SCHEMA_MISMATCH");
    expect(await codeOf(t.alterColumns([{ path: "nope", rename: "x" }]))).toBe("UNKNOWN_COLUMN");
    expect(await codeOf(t.alterColumns([{ path: "name", rename: "price" }]))).toBe("SCHEMA_MISMATCH");
    expect(await codeOf(t.alterColumns([{ path: "name", dataType: DataTypes.int32() }]))).toBe("SCHEMA_MISMATCH");
    expect(await codeOf(t.dropColumns(["nope"]))).toBe("UNKNOWN_COLUMN");
    expect(await codeOf(t.dropColumns(["id", "name", "price", "updated", "vector"]))).toBe("INVALID_ARGUMENT");
    expect(await t.version()).toBe(v);
    await t.update({ where: "id = 1", values: { name: null } });
    expect(await codeOf(t.alterColumns([{ path: "name", nullable: false }]))).toBe("SCHEMA_MISMATCH");
    await t.alterColumns([{ path: "price", nullable: false }]);
    expect(await codeOf(t.add([{ id: 9, name: "z", price: null, updated: 0, vector: [0, 0] }]))).toBe("SCHEMA_MISMATCH");
  });
});

describe("optimize", () => {
  it("compacts small fragments, drops deleted rows, prunes old versions and files", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", [{ id: 0, vector: [0, 0] }]);
    for (let i = 1; i < 10; i++) await t.add([{ id: i, vector: [i, i] }]);
    await t.delete("id = 3 OR id = 7");
    const tags = await t.tags();
    await tags.create("keep", 5);
    const before = await t.query().toArray();
    const stats = await t.optimize({ cleanupOlderThan: new Date(Date.now() + 1000) });
    expect(stats.compaction.fragmentsRemoved).toBe(8); // the fragments of rows 3 and 7 went with the delete
    expect(stats.compaction.fragmentsAdded).toBe(1);
    expect(sorted(await t.query().toArray())).toEqual(sorted(before));
    const versions = (await t.listVersions()).map((v) => v.version);
    expect(versions).toEqual([5, await t.version()]);
    expect(stats.prune.oldVersionsRemoved).toBe(10);
    expect(stats.prune.filesRemoved).toBeGreaterThan(0);
    expect(stats.prune.bytesRemoved).toBeGreaterThan(0);
    await t.checkout("keep");
    expect(await t.countRows()).toBe(5);
    await t.checkoutLatest();
    expect((await t.search([7, 7]).limit(1).toArray())[0]!.id).not.toBe(7);
    const again = await t.optimize({ cleanupOlderThan: new Date(Date.now() + 1000) });
    expect(again.compaction.fragmentsRemoved).toBe(0);
  });
});
