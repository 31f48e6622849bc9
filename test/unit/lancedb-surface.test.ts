/**
 * Edge cases of the LanceDB-shaped methods (the common paths run in api-suite.ts, in-thread and
 * through workers, and against LanceDB itself in portability.test.ts): orderBy with NULLs and
 * several keys, take across fragments with deletions, maximumNprobes on a narrow filter, index
 * type names, stats of an empty table, outputSchema of hybrid and batch queries, update overloads.
 */
import { describe, expect, it } from "vitest";
import { connect, DataTypes, field, Index, schema } from "../../src/index.js";
import { buildIndex } from "../../src/ann/index.js";
import { loadKernels } from "../../src/kernels/index.js";

const vec = (i: number): number[] => [Math.cos(i), Math.sin(i), (i % 5) / 5, 1];

describe("orderBy", () => {
  it("sorts NULLs last by default or first, on several keys, before offset / limit, and refuses vectors", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", [
      { id: 1, score: 3, name: "b", vec: [1, 0] }, { id: 2, score: null, name: "a", vec: [0, 1] }, { id: 3, score: 1, name: "c", vec: [1, 1] },
      { id: 4, score: 3, name: "a", vec: [2, 1] }, { id: 5, score: null, name: "d", vec: [1, 2] },
    ], { schema: schema([field("id", DataTypes.int32()), field("score", DataTypes.float64()), field("name", DataTypes.utf8()), field("vec", DataTypes.vector(2))]) });
    const ids = async (q: ReturnType<typeof t.query>): Promise<number[]> => (await q.select(["id"]).toArray()).map((r) => r.id as number);
    expect(await ids(t.query().orderBy({ columnName: "score" }))).toEqual([3, 1, 4, 2, 5]);
    expect(await ids(t.query().orderBy({ columnName: "score", nullsFirst: true }))).toEqual([2, 5, 3, 1, 4]);
    expect(await ids(t.query().orderBy([{ columnName: "score", ascending: false }, { columnName: "name" }]))).toEqual([4, 1, 3, 2, 5]);
    expect(await ids(t.query().orderBy({ columnName: "name" }).offset(1).limit(2))).toEqual([4, 1]);
    expect(await ids(t.query().where("score IS NOT NULL").orderBy({ columnName: "id", ascending: false }))).toEqual([4, 3, 1]);
    await expect(t.query().orderBy({ columnName: "nope" }).toArray()).rejects.toMatchObject({ code: "UNKNOWN_COLUMN" });
    await expect(t.query().orderBy({ columnName: "_distance" }).toArray()).rejects.toMatchObject({ code: "UNKNOWN_COLUMN" });
    expect(() => t.query().orderBy([])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => t.query().orderBy({ columnName: "id", ascending: "no" as unknown as boolean })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    const near = await t.search([1, 1]).column("vec").limit(5).orderBy({ columnName: "id", ascending: false }).select({ twice: "id * 2" }).toArray();
    expect(near.map((r) => Object.keys(r).join())).toEqual(Array(5).fill("twice,_distance"));
    expect(near.map((r) => Number(r.twice))).toEqual([10, 8, 6, 4, 2]);
    const v = await db.createTable("v", [{ id: 1, vector: [1, 2] }]);
    await expect(v.query().orderBy({ columnName: "vector" }).toArray()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});

describe("takeOffsets / takeRowIds", () => {
  it("maps offsets through deletions across fragments and refuses what does not apply to a take", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", Array.from({ length: 10 }, (_, id) => ({ id })));
    await t.add(Array.from({ length: 10 }, (_, i) => ({ id: 10 + i })));
    await t.delete("id IN (0, 2, 11)");
    const live = (await t.query().select(["id"]).toArray()).map((r) => r.id);
    const taken = await t.takeOffsets([0, 1, 7, 8, 16, 1]).select(["id"]).toArray();
    expect(taken.map((r) => r.id)).toEqual([0, 1, 7, 8, 16].map((o) => live[o]));
    const withIds = await t.takeOffsets([7, 8]).withRowId().toArray();
    expect(withIds.map((r) => r._rowid)).toEqual([9, 2 ** 32]);
    expect((await t.takeRowIds([BigInt(2 ** 32 + 5), 9n, 2]).toArray()).map((r) => r.id)).toEqual([9, 15]);
    await expect(t.takeOffsets([1]).where("id > 0").toArray()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(t.takeOffsets([1]).limit(1).toArray()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(t.takeRowIds([1.5]).toArray()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(t.takeOffsets("1" as unknown as number[]).toArray()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await t.takeOffsets([]).toArray()).toEqual([]);
  });
});

describe("nprobes bounds", () => {
  it("maximumNprobes stops an IVF search from widening past it under a narrow filter", async () => {
    const db = await connect("memory://");
    const rows = Array.from({ length: 2000 }, (_, id) => ({ id, vector: vec(id) }));
    const t = await db.createTable("t", rows);
    await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 16 }) });
    const q = vec(7);
    const narrow = "id % 100 = 0"; // 20 rows, spread over the partitions
    const widened = await t.search(q).where(narrow).nprobes(1).limit(20).toArray();
    expect(widened.length).toBe(20);
    // Through the table, 20 matching rows are scanned exactly (the planner's cheaper path, recall 1);
    // the bound applies where the index is searched, so check it on the index with the same filter.
    expect(await t.search(q).where(narrow).nprobes(1).maximumNprobes(2).limit(20).explainPlan()).toContain("strategy exact-prefiltered");
    const index = await buildIndex(await loadKernels(), "IVF_FLAT", Float32Array.from(rows.flatMap((r) => r.vector)), 4, undefined, { numPartitions: 16 });
    const allowed = new Uint8Array(2000 / 8);
    for (let id = 0; id < 2000; id += 100) allowed[id >> 3]! |= 1 << (id & 7);
    expect((await index.search(Float32Array.from(q), 20, { nprobes: 1, allowed })).rows.length).toBe(20);
    const bounded = await index.search(Float32Array.from(q), 20, { nprobes: 1, maximumNprobes: 2, allowed });
    expect(bounded.rows.length).toBeGreaterThan(0);
    expect(bounded.rows.length).toBeLessThan(20);
    index.free();
    expect(() => t.search(q).maximumNprobes(0)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(t.search(q).minimumNprobes(3).toPlan().vector!.nprobes).toBe(3);
  });
});

describe("listIndices / indexStats / stats", () => {
  it("names index types as LanceDB does and keeps Quiver's kind", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", Array.from({ length: 300 }, (_, id) => ({ id, tag: id % 2 ? "x" : "y", vector: vec(id) })));
    await t.createIndex("vector", { config: Index.hnswSq() });
    await t.createIndex("tag", { config: Index.bitmap() });
    const infos = await t.listIndices();
    expect(infos.map((i) => [i.name, i.indexType, i.kind, i.numIndexedRows, i.numSegments])).toEqual([
      ["vector_idx", "IvfHnswSq", "HNSW_SQ", 300, 1], ["tag_idx", "Bitmap", "BITMAP", 300, 1],
    ]);
    expect(await t.indexStats("vector_idx")).toMatchObject({ indexType: "IVF_HNSW_SQ", distanceType: "l2", numIndices: 1 });
    expect(await t.indexStats("tag_idx")).not.toHaveProperty("distanceType");
    const st = await t.stats();
    expect(st).toMatchObject({ numRows: 300, numIndices: 2, fragmentStats: { numFragments: 1, numSmallFragments: 1 } });
    // Data files and index files count; a bigger table is bigger.
    expect(st.totalBytes).toBeGreaterThan(infos.reduce((s, i) => s + i.sizeBytes, 0));
    await t.add([{ id: 300, tag: "x", vector: vec(300) }]);
    expect((await t.stats()).totalBytes).toBeGreaterThan(st.totalBytes);
    expect((await t.stats()).fragmentStats.lengths).toEqual({ min: 1, max: 300, mean: 150, p25: 1, p50: 300, p75: 300, p99: 300 });
    const empty = await db.createEmptyTable("e", schema([field("id", DataTypes.int32())]));
    expect(await empty.stats()).toEqual({ totalBytes: 0, numRows: 0, numIndices: 0, fragmentStats: { numFragments: 0, numSmallFragments: 0, lengths: { min: 0, max: 0, mean: 0, p25: 0, p50: 0, p75: 0, p99: 0 } } });
  });
});

describe("outputSchema", () => {
  it("matches toArrow() for hybrid and batch queries, and checks columns without running", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", Array.from({ length: 20 }, (_, id) => ({ id, text: `word${id % 3} text`, vector: vec(id) })));
    await t.createIndex("text", { config: Index.fts() });
    const names = (s: { fields: { name: string; type: unknown }[] }): string[] => s.fields.map((f) => `${f.name}: ${String(f.type)}`);
    const hybrid = t.query().nearestTo(vec(1)).fullTextSearch("word1").select(["id"]);
    expect(names(await hybrid.outputSchema())).toEqual(["id: Float64", "_relevance_score: Float32"]);
    expect(names(await hybrid.outputSchema())).toEqual(names((await hybrid.toArrow()).schema));
    const batch = t.search([vec(1), vec(2)]).select(["id"]);
    expect(names(await batch.outputSchema())).toEqual(names((await batch.toArrow()).schema));
    await expect(t.query().select(["nope"]).outputSchema()).rejects.toMatchObject({ code: "UNKNOWN_COLUMN" });
    await expect(t.query().select({ x: "id +" }).outputSchema()).rejects.toMatchObject({ code: "INVALID_FILTER" });
  });
});

describe("update overloads", () => {
  it("takes Maps for values and valuesSql, SQL text in update(map, { where }), and refuses mixed forms", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", [{ id: 1, name: "a", price: 10 }, { id: 2, name: "b", price: 20 }]);
    expect(await t.update({ values: new Map([["name", "it's"]]), where: "id = 1" })).toEqual({ version: 2, rowsUpdated: 1 });
    expect(await t.update({ price: "price * 2" }, { where: "id = 2" })).toEqual({ version: 3, rowsUpdated: 1 });
    expect(await t.update(new Map([["name", "upper(name)"]]))).toEqual({ version: 4, rowsUpdated: 2 });
    expect((await t.query().toArray()).map((r) => [r.name, r.price])).toEqual([["IT'S", 10], ["B", 40]]);
    await expect(t.update({ values: { name: "x" }, valuesSql: { name: "'y'" } })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(t.update({ price: 5 } as unknown as Record<string, string>)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(t.update({ name: "'x" }, { where: "id = 1" })).rejects.toMatchObject({ code: "INVALID_FILTER" });
    expect(await t.version()).toBe(4);
  });
});
