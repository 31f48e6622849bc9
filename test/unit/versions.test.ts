import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, isQuiverError, type Row } from "../../src/index.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "quiver-versions-"));
  dirs.push(d);
  return d;
}

function rows(from: number, n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({ id: from + i, label: `row ${from + i}`, vector: [from + i, 1, -(from + i) / 7] }));
}

async function ids(t: { query(): { toArray(): Promise<Row[]> } }): Promise<number[]> {
  return (await t.query().toArray()).map((r) => r.id as number).sort((a, b) => a - b);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isQuiverError(e)) return e.code;
    throw e;
  }
  return "none";
}

describe("versions", () => {
  it("every write makes a version; old versions stay readable; restore and tags work", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", rows(0, 10));
    expect(await t.version()).toBe(1);
    await t.add(rows(10, 5));
    await t.delete("id < 3");
    await t.update({ where: "id = 5", values: { label: "five" } });
    expect(await t.version()).toBe(4);
    const versions = await t.listVersions();
    expect(versions.map((v) => [v.version, v.metadata.operation])).toEqual([[1, "create"], [2, "append"], [3, "delete"], [4, "update"]]);
    expect(versions.every((v) => v.timestamp instanceof Date)).toBe(true);

    await t.checkout(2);
    expect(await t.version()).toBe(2);
    expect(await ids(t)).toEqual([...Array(15).keys()]);
    expect(await codeOf(t.add(rows(100, 1)))).toBe("READ_ONLY");
    expect(await codeOf(t.delete("id = 1"))).toBe("READ_ONLY");
    await t.checkoutLatest();
    expect(await t.countRows()).toBe(12);

    const tags = await t.tags();
    await tags.create("before-delete", 2);
    expect(await tags.list()).toEqual({ "before-delete": { version: 2 } });
    expect(await codeOf(tags.create("before-delete", 2))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(tags.create("nope", 99))).toBe("NOT_FOUND");
    await t.checkout("before-delete");
    expect(await t.countRows()).toBe(15);
    await t.restore();
    expect(await t.version()).toBe(5);
    expect(await t.countRows()).toBe(15);
    expect((await t.query().where("id = 5").toArray())[0]!.label).toBe("row 5");
    await tags.delete("before-delete");
    expect(await tags.list()).toEqual({});
    expect(await codeOf(t.checkout(42))).toBe("NOT_FOUND");
  });

  it("survives reopening from the file system with the same rows and search results", async () => {
    const dir = tempDir();
    const db = await connect(dir);
    const t = await db.createTable("docs", rows(0, 50));
    await t.add(rows(50, 50));
    await t.delete("id % 10 = 0");
    await t.update({ where: "id = 7", valuesSql: { label: "upper(label)" } });
    const before = await t.search([20, 1, -3]).limit(5).toArray();
    const all = await t.query().toArray();
    const version = await t.version();
    await db.close();

    const again = await connect(`file://${dir}`);
    expect(await again.tableNames()).toEqual(["docs"]);
    const t2 = await again.openTable("docs");
    expect(await t2.version()).toBe(version);
    expect(await t2.countRows()).toBe(90);
    expect(await t2.search([20, 1, -3]).limit(5).toArray()).toEqual(before);
    const sortById = (r: Row[]): Row[] => [...r].sort((a, b) => (a.id as number) - (b.id as number));
    expect(sortById(await t2.query().toArray())).toEqual(sortById(all));
    expect((await t2.query().where("id = 7").toArray())[0]!.label).toBe("ROW 7");
    await again.dropTable("docs");
    expect(await again.tableNames()).toEqual([]);
    await again.close();
  });
});

describe("several writers", () => {
  it("append + append from two handles both land (automatic retry on the new head)", async () => {
    const a = await (await connect("memory://writers-1")).createTable("t", rows(0, 5));
    const b = await (await connect("memory://writers-1")).openTable("t");
    await Promise.all([a.add(rows(100, 10)), b.add(rows(200, 10)), a.add(rows(300, 10)), b.add(rows(400, 10))]);
    await a.checkoutLatest();
    expect(await a.countRows()).toBe(45);
    expect(await a.version()).toBe(5);
  });

  it("two deletes of the same fragment: one commits, the other gets COMMIT_CONFLICT; nothing is lost", async () => {
    const a = await (await connect("memory://writers-2")).createTable("t", rows(0, 10));
    const b = await (await connect("memory://writers-2")).openTable("t");
    const results = await Promise.all([codeOf(a.delete("id = 1")), codeOf(b.delete("id = 2"))]);
    expect(results.sort()).toEqual(["COMMIT_CONFLICT", "none"]);
    await a.checkoutLatest();
    expect(await a.countRows()).toBe(9);
  });

  it("a delete and a concurrent append are compatible", async () => {
    const a = await (await connect("memory://writers-3")).createTable("t", rows(0, 10));
    const b = await (await connect("memory://writers-3")).openTable("t");
    await Promise.all([a.delete("id < 5"), b.add(rows(10, 3))]);
    await b.checkoutLatest();
    expect(await ids(b)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it("readers keep a consistent version while a writer commits, and see new ones when asked", async () => {
    const writer = await (await connect("memory://writers-4")).createTable("t", rows(0, 10));
    const reader = await (await connect("memory://writers-4")).openTable("t");
    const live = await (await connect("memory://writers-4", { readConsistencyInterval: 0 })).openTable("t");
    await writer.add(rows(10, 10));
    expect(await reader.countRows()).toBe(10);
    expect(await live.countRows()).toBe(20);
    await reader.checkoutLatest();
    expect(await reader.countRows()).toBe(20);
  });
});

describe("a full store", () => {
  it("QUOTA_EXCEEDED leaves the last version intact and the table usable", async () => {
    const volume = new MemoryVolume(60_000);
    const db = await connect(new MemoryStore("memory://quota", volume));
    const t = await db.createTable("t", rows(0, 10));
    let code = "none";
    let added = 0;
    for (let i = 0; i < 200 && code === "none"; i++) {
      code = await codeOf(t.add(rows(1000 + i * 20, 20)));
      if (code === "none") added += 20;
    }
    expect(code).toBe("QUOTA_EXCEEDED");
    const reopened = await (await connect(new MemoryStore("memory://quota", volume))).openTable("t");
    expect(await reopened.countRows()).toBe(10 + added);
    expect(await t.countRows()).toBe(10 + added);
    expect((await t.search([5, 1, -5 / 7]).limit(1).toArray())[0]!.id).toBe(5);
  });
});
