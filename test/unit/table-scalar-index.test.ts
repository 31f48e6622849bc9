import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, Index, isQuiverError, type Row } from "../../src/index.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const code = async (p: Promise<unknown>): Promise<string> => p.then(() => "none", (e: unknown) => (isQuiverError(e) ? e.code : String(e)));

const ROWS: Row[] = Array.from({ length: 500 }, (_, i) => ({
  id: i, price: i % 13 === 0 ? null : (i * 7) % 101, tag: ["a", "b", "c"][i % 3]!, ok: i % 2 === 0, vector: [i % 5, 1],
}));

describe("scalar indexes in tables", () => {
  it("BTREE and BITMAP: created, listed, persisted, refreshed by optimize, dropped; where stays exact", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-scalar-"));
    dirs.push(dir);
    const t = await (await connect(dir)).createTable("t", ROWS);
    await t.createIndex("price", { config: Index.btree({ pageRows: 32 }) });
    await t.createIndex("tag", { config: Index.bitmap() });
    await t.createIndex("ok"); // no config on a bool column: BITMAP
    await t.createIndex("id"); // no config on an int column: BTREE
    expect(await t.listIndices()).toMatchObject([
      { name: "price_idx", indexType: "BTree", columns: ["price"] },
      { name: "tag_idx", indexType: "Bitmap", columns: ["tag"] },
      { name: "ok_idx", indexType: "Bitmap", columns: ["ok"] },
      { name: "id_idx", indexType: "BTree", columns: ["id"] },
    ]);
    expect(readdirSync(join(dir, "t.quiver", "_indices")).filter((f) => f.endsWith(".qvs"))).toHaveLength(4);
    expect(await t.indexStats("price_idx")).toMatchObject({ indexType: "BTREE", numIndexedRows: 500, numUnindexedRows: 0, params: { pageRows: 32 } });
    expect(await t.indexStats("price_idx")).not.toHaveProperty("distanceType");

    await t.add([{ id: 500, price: 3, tag: "a", ok: true, vector: [0, 1] }]);
    await t.delete("id < 10");
    expect(await t.indexStats("tag_idx")).toMatchObject({ numIndexedRows: 490, numUnindexedRows: 1 });
    const expected = ROWS.filter((r) => (r.id as number) >= 10 && r.price !== null && (r.price as number) <= 3).map((r) => r.id).concat([500]);
    expect((await t.query().where("price <= 3").select(["id"]).toArray()).map((r) => r.id).sort((a, b) => (a as number) - (b as number))).toEqual(expected);

    await t.optimize();
    expect(await t.indexStats("tag_idx")).toMatchObject({ numIndexedRows: 491, numUnindexedRows: 0 });
    const reopened = await (await connect(dir)).openTable("t");
    expect((await reopened.listIndices()).map((i) => i.indexType)).toEqual(["BTree", "Bitmap", "Bitmap", "BTree"]);
    expect(await reopened.countRows("tag = 'b' AND price IS NULL")).toBe(ROWS.filter((r) => (r.id as number) >= 10 && r.tag === "b" && r.price === null).length);

    await reopened.dropIndex("price_idx");
    expect((await reopened.listIndices()).map((i) => i.name)).toEqual(["tag_idx", "ok_idx", "id_idx"]);
  });

  it("countRows(filter) over indexes equals the scan, with NULLs, deletes, appended rows and after optimize", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-scalar-count-"));
    dirs.push(dir);
    const db = await connect(dir);
    const plain = await db.createTable("plain", ROWS);
    const indexed = await db.createTable("indexed", ROWS);
    await indexed.createIndex("price", { config: Index.btree({ pageRows: 16 }) });
    await indexed.createIndex("tag", { config: Index.bitmap() });
    await indexed.createIndex("ok");
    const filters = [
      "price = 3", "price != 3", "price < 20", "price >= 90 OR tag = 'a'", "NOT (price > 50)", "price IS NULL", "price IS NOT NULL",
      "price IN (1, 2, 3, NULL)", "price NOT IN (1, 2, 3)", "price NOT IN (1, NULL)", "price BETWEEN 10 AND 20 AND tag IN ('b', 'c')",
      "NOT (tag = 'a' AND price < 30)", "ok AND price > 40", "ok = true", "tag = 'b' AND id > 100", "price + 1 > 50", "price = NULL",
    ];
    const check = async (when: string): Promise<void> => {
      for (const f of filters) expect(await indexed.countRows(f), `${when}: ${f}`).toBe(await plain.countRows(f));
    };
    await check("fresh");
    for (const t of [plain, indexed]) {
      await t.delete("id % 11 = 4");
      await t.add([{ id: 900, price: 3, tag: "a", ok: true, vector: [0, 1] }, { id: 901, price: null, tag: "c", ok: false, vector: [0, 1] }]);
    }
    await check("after delete and add");
    await indexed.optimize();
    await check("after optimize");

    // A damaged page is found when a lookup reads it.
    const files = readdirSync(join(dir, "indexed.quiver", "_indices")).filter((f) => f.endsWith(".qvs"));
    for (const f of files) {
      const path = join(dir, "indexed.quiver", "_indices", f);
      const bytes = readFileSync(path);
      bytes[bytes.length - 9] ^= 0xff;
      writeFileSync(path, bytes);
    }
    const reopened = await (await connect(dir)).openTable("indexed");
    expect(await code(reopened.countRows("price = 3 OR tag = 'a'"))).toBe("CORRUPT_FILE");
  });

  it("rejects scalar indexes on columns they cannot order, and bad options", async () => {
    const t = await (await connect("memory://")).createTable("t", ROWS.slice(0, 20));
    expect(await code(t.createIndex("vector", { config: Index.btree() }))).toBe("INVALID_ARGUMENT");
    expect(await code(t.createIndex("nope", { config: Index.bitmap() }))).toBe("UNKNOWN_COLUMN");
    expect(() => Index.btree({ pageRows: 4 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
