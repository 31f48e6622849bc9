/**
 * `where` through scalar indexes everywhere (issue 12): plain queries, counts, deletes, updates,
 * vector search (exact and through an index) and full-text search give the same rows with and
 * without scalar indexes — fresh, with deleted and appended rows, after optimize — and an indexed
 * predicate reads an index page instead of the column.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/ann/common.js";
import { connect, Index, type Row, type Table } from "../../src/index.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";
import { counting } from "../support/counting-store.js";

const DIM = 8;
const WORDS = ["apple", "river", "stone", "cloud", "ember", "frost", "grove", "harbor"];

function rowsOf(n: number, seed: number, from = 0): Row[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      id: i,
      price: i % 13 === 0 ? null : (i * 7) % 101,
      tag: i % 17 === 0 ? null : ["a", "b", "c", "d"][i % 4]!,
      ok: i % 2 === 0,
      text: `${WORDS[i % 8]} ${WORDS[(i * 3) % 8]} ${WORDS[(i * 5 + 1) % 8]}`,
      // Label lists: NULL lists, empty lists, NULL items and repeated labels included.
      tags: i % 11 === 0 ? null : i % 23 === 0 ? [] : [WORDS[i % 5]!, WORDS[(i * 7) % 6]!, ...(i % 9 === 0 ? [null] : []), ...(i % 4 === 0 ? [WORDS[i % 5]!] : [])],
      vector: Float32Array.from({ length: DIM }, () => rand() * 2 - 1),
    };
  });
}

const FILTERS = [
  "price = 3", "price != 3", "price < 20", "price >= 90 OR tag = 'a'", "NOT (price > 50)", "price IS NULL", "price IS NOT NULL",
  "price IN (1, 2, 3, NULL)", "price NOT IN (1, 2, 3)", "price BETWEEN 10 AND 20 AND tag IN ('b', 'c')", "NOT (tag = 'a' AND price < 30)",
  "ok AND price > 40", "tag = 'b' AND id > 100", "price + 1 > 50", "tag IS NULL OR price = 7", "id = 123", "id >= 1500",
  "tag = 'zz'", "price > 1000", "price >= 10 AND price < 30 AND price != 20", "price BETWEEN 5 AND 50 AND price <= 7",
  "array_has(tags, 'river')", "array_has_any(tags, ['apple', 'stone'])", "array_has_all(tags, ['apple', 'river'])",
  "NOT array_has(tags, 'cloud')", "array_has(tags, 'cloud') OR tags IS NULL", "array_has_any(tags, ['ember']) AND price < 50",
  "tags IS NOT NULL AND NOT array_has_all(tags, ['apple', 'apple'])", "array_has(tags, 'nope')",
  "text LIKE '%river%'", "text LIKE 'apple%'", "text LIKE '%frost'", "NOT text LIKE '%ston%'", "contains(text, 'er s')",
  "text LIKE 'apple river stone'", "text LIKE '%' AND price < 5", "contains(text, 'zzz') OR id = 3", "text NOT LIKE 'grove%' AND ok",
];

const ids = (rows: Row[]): number[] => rows.map((r) => r.id as number);

async function expectSame(plain: Table, indexed: Table, when: string): Promise<void> {
  const q = rowsOf(3, 99)[1]!.vector as Float32Array;
  for (const f of FILTERS) {
    const at = `${when}: ${f}`;
    expect(await indexed.countRows(f), at).toBe(await plain.countRows(f));
    expect(ids(await indexed.query().where(f).select(["id"]).toArray()), at).toEqual(ids(await plain.query().where(f).select(["id"]).toArray()));
    expect(ids(await indexed.query().where(f).select(["id"]).limit(5).offset(2).toArray()), at).toEqual(ids(await plain.query().where(f).select(["id"]).limit(5).offset(2).toArray()));
    // The indexed table also has an IVF_FLAT index: a selective filter sends it to an exact scan of
    // the matching rows, a broad one through the index with all partitions probed — exact either way.
    const want = await plain.search(q).where(f).select(["id"]).limit(10).toArray();
    const got = await indexed.search(q).where(f).select(["id"]).nprobes(64).limit(10).toArray();
    expect(ids(got), at).toEqual(ids(want));
    got.forEach((r, i) => expect(r._distance as number, at).toBeCloseTo(want[i]!._distance as number, 4));
    const fts = await indexed.search("river stone", "fts").where(f).select(["id"]).limit(10).toArray();
    expect(fts.map((r) => [r.id, (r._score as number).toFixed(5)]), at).toEqual(
      (await plain.search("river stone", "fts").where(f).select(["id"]).limit(10).toArray()).map((r) => [r.id, (r._score as number).toFixed(5)]),
    );
  }
}

describe("where through scalar indexes", () => {
  it("queries, counts, vector and full-text search, deletes and updates give the same rows with and without indexes", async () => {
    const db = await connect("memory://filtered-same");
    const data = rowsOf(2000, 1);
    const plain = await db.createTable("plain", data);
    const indexed = await db.createTable("indexed", data);
    for (const t of [plain, indexed]) await t.createIndex("text", { config: Index.fts() });
    await indexed.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 16, distanceType: "l2" }) });
    await indexed.createIndex("price", { config: Index.btree({ pageRows: 64 }) });
    await indexed.createIndex("tag", { config: Index.bitmap() });
    await indexed.createIndex("ok");
    await indexed.createIndex("id");
    await indexed.createIndex("tags");
    await indexed.createIndex("text", { config: Index.fm(), name: "text_fm" });
    // No config: chosen by type and cardinality.
    expect((await indexed.listIndices()).filter((i) => !["vector", "text"].includes(i.columns[0]!)).map((i) => [i.columns[0], i.indexType])).toEqual([
      ["price", "BTree"], ["tag", "Bitmap"], ["ok", "Bitmap"], ["id", "BTree"], ["tags", "LabelList"],
    ]);
    expect(await indexed.query().where("text LIKE 'apple river%'").explainPlan()).toContain('fm(text) LIKE "apple river%"');
    const plan = await indexed.query().where("array_has_any(tags, ['apple', 'stone']) AND price >= 10 AND price < 30").explainPlan();
    expect(plan).toContain("label_list(tags) array_has_any(\"apple\", \"stone\")");
    expect(plan).toContain("btree(price) in [10, 30)");
    await expectSame(plain, indexed, "fresh");

    const doomed = data.filter((r) => (r.price !== null && (r.price as number) >= 20 && (r.price as number) <= 25) || (r.tag === "d" && (r.id as number) < 300)).length;
    for (const t of [plain, indexed]) {
      expect(await t.delete("price BETWEEN 20 AND 25 OR tag = 'd' AND id < 300")).toMatchObject({ numDeletedRows: doomed });
      await t.update({ where: "tag = 'c' AND price < 10", values: { price: 1000 } });
      await t.add(rowsOf(300, 2, 2000));
    }
    await expectSame(plain, indexed, "after delete, update and add");
    for (const t of [plain, indexed]) await t.optimize();
    await expectSame(plain, indexed, "after optimize");
  }, 120_000);

  it("mergeInsert matches keys through a btree on the key, with the same result as comparing keys", async () => {
    const db = await connect("memory://filtered-merge");
    const data = rowsOf(3000, 5);
    const plain = await db.createTable("plain", data);
    const indexed = await db.createTable("indexed", data);
    await indexed.createIndex("id");
    const all = async (t: Table): Promise<Row[]> => (await t.query().select(["id", "price", "tag"]).toArray()).sort((a, b) => (a.id as number) - (b.id as number));
    for (const t of [plain, indexed]) {
      await t.delete("id % 10 = 3");
      await t.add(rowsOf(200, 6, 3000)); // a fragment the index does not cover yet
    }
    const source = [5, 13, 77, 2999, 3100, 3199, 5000, 6000].map((id, i) => ({ ...rowsOf(1, 40 + i, id)[0]!, price: id % 2 === 0 ? 1 : 999 }));
    const results: unknown[] = [];
    for (const t of [plain, indexed]) results.push({ ...(await t.mergeInsert("id").whenMatchedUpdateAll({ where: "target.price < source.price" }).whenNotMatchedInsertAll().execute(source)), version: undefined });
    expect(results[1]).toEqual(results[0]);
    expect(await all(indexed)).toEqual(await all(plain));
    const plan = await indexed.query().where("id = 13").explainPlan();
    expect(plan).toContain("btree(id) = 13");
  });

  it("an indexed equality reads index pages, not the column; deletes through it too", async () => {
    const volume = new MemoryVolume();
    const seed = await connect(new MemoryStore("memory://point", volume));
    const n = 100_000;
    const t0 = await seed.createTable("t", Array.from({ length: n }, (_, i) => ({ id: i, group: i % 1000 })));
    await t0.createIndex("id");
    const store = counting(new MemoryStore("memory://point", volume));
    const db = await connect(store);
    const t = await db.openTable("t");
    await t.countRows("id = 1"); // opens the index head
    store.bytesRead = 0;
    expect(await t.countRows("id = 77777")).toBe(1);
    expect(await t.countRows("id IN (5, 6, 99999)")).toBe(3);
    const columnBytes = n * 8;
    // Two btree pages of 4,096 rows (keys and row addresses) at most per lookup, against the column.
    expect(store.bytesRead).toBeLessThan(columnBytes / 4);
    const pageReads = store.bytesRead;
    store.bytesRead = 0;
    expect(await t.countRows("group = 7")).toBe(100); // no index on group: a scan reads the column
    expect(store.bytesRead).toBeGreaterThan(columnBytes / 2);
    console.log(`point lookups read ${pageReads} bytes through the btree; the unindexed scan read ${store.bytesRead} (column ${columnBytes})`);
    store.bytesRead = 0;
    expect(await t.delete("id = 4242")).toMatchObject({ numDeletedRows: 1 });
    expect(store.bytesRead).toBeLessThan(columnBytes / 4);
    expect(await t.countRows()).toBe(n - 1);
    // An upsert keyed on the indexed column looks its keys up instead of reading the column.
    store.bytesRead = 0;
    await t.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([{ id: 10, group: -1 }, { id: 99_999, group: -1 }, { id: n + 5, group: -1 }]);
    expect(store.bytesRead).toBeLessThan(columnBytes / 4);
    expect(await t.countRows("group = -1")).toBe(3);
    await db.close();
    await seed.close();
  });
});
