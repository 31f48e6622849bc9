/**
 * Row ids by position (ann/common.ts RowIds): ids read from an index file are kept as runs of
 * consecutive ids when they come that way (a build gathers fragments in order), and read back the
 * same as the array they came from, in any order, after rows are appended, and through an index.
 */
import { describe, expect, it } from "vitest";
import { RowIds, seededRandom } from "../../src/ann/common.js";
import { connect, Index } from "../../src/index.js";
import { ROW_ID_FRAGMENT } from "../../src/dataset/fragment.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";

/** Ids as a table's index has them: fragment f's rows 0 … n_f − 1 one after the other. */
function fragmentIds(sizes: number[]): Float64Array {
  const out: number[] = [];
  sizes.forEach((n, f) => { for (let r = 0; r < n; r++) out.push(f * ROW_ID_FRAGMENT + r); });
  return Float64Array.from(out);
}

describe("RowIds", () => {
  it("keeps fragment-ordered ids as runs: the same ids in any order of reads, in a sliver of the bytes", () => {
    const ids = fragmentIds([50_000, 50_000, 12_345, 1, 40_000]);
    const rows = RowIds.adopt(ids.slice());
    expect(rows.size).toBe(ids.length);
    expect(rows.bytes).toBe(5 * (4 + 8));
    expect(Array.from({ length: ids.length }, (_, p) => rows.get(p))).toEqual(Array.from(ids));
    const rand = seededRandom(3);
    const positions = Int32Array.from({ length: 5000 }, () => Math.floor(rand() * ids.length));
    expect(Array.from(rows.lookup(positions))).toEqual(Array.from(positions, (p) => ids[p]!));
    for (let p = ids.length - 1; p >= 0; p -= 997) expect(rows.get(p)).toBe(ids[p]);
    expect(Array.from(rows.toArray())).toEqual(Array.from(ids));
  });

  it("keeps ids without runs as the array given (no copy), and many short runs too", () => {
    const rand = seededRandom(9);
    const shuffled = Float64Array.from({ length: 1000 }, (_, i) => i * 7 + Math.floor(rand() * 3));
    const rows = RowIds.adopt(shuffled);
    expect(rows.bytes).toBe(shuffled.byteLength);
    expect(Array.from(rows.toArray())).toEqual(Array.from(shuffled));
    // 100 runs of 10: more than one run per 16 ids.
    const short = fragmentIds(Array.from({ length: 100 }, () => 10));
    expect(RowIds.adopt(short).bytes).toBe(short.byteLength);
    expect(RowIds.adopt(new Float64Array(0)).size).toBe(0);
  });

  it("appending to runs holds every id one by one from then on, old and new", () => {
    const ids = fragmentIds([300, 200]);
    const rows = RowIds.adopt(ids.slice());
    expect(rows.bytes).toBe(2 * 12);
    const more = fragmentIds([0, 0, 7]);
    expect(rows.append(more)).toBe(500);
    expect(rows.size).toBe(507);
    expect(Array.from(rows.toArray())).toEqual([...ids, ...more]);
    expect(rows.get(250)).toBe(ids[250]);
    expect(rows.get(503)).toBe(more[3]);
  });
});

describe("an IVF index opened from storage", () => {
  it("answers with the same rows as the index it was built as (its row ids held as runs)", async () => {
    const dim = 16;
    const rand = seededRandom(5);
    const volume = new MemoryVolume();
    const db = await connect(new MemoryStore("memory://row-ids", volume));
    const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, vector: Float32Array.from({ length: dim }, () => rand() * 2 - 1) }));
    const all = [...rows(0, 3000), ...rows(3000, 2000), ...rows(5000, 1000)];
    const t = await db.createTable("t", all.slice(0, 3000));
    await t.add(all.slice(3000, 5000));
    await t.add(all.slice(5000));
    await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 8 }) });
    const probes = all.filter((_, i) => i % 500 === 7);
    const search = (table: typeof t) => Promise.all(probes.map(async (r) => (await table.search(r.vector).nprobes(8).select(["id"]).limit(3).toArray()).map((h) => h.id)));
    const built = await search(t);
    // A second connection on the same files opens the index from storage.
    const other = await connect(new MemoryStore("memory://row-ids", volume));
    const opened = await search(await other.openTable("t"));
    expect(opened).toEqual(built);
    for (const [i, ids] of opened.entries()) expect(ids[0]).toBe(i * 500 + 7);
    await other.close();
    await db.close();
  });
});
