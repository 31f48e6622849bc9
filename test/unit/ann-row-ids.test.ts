/**
 * Row ids by position (ann/common.ts RowIds): ids read from an index file are kept as runs of
 * consecutive ids when they come that way (a build gathers fragments in order), and read back the
 * same as the array they came from, in any order, after rows are appended, and through an index.
 */
import { describe, expect, it } from "vitest";
import { RowIds, seededRandom } from "../../src/ann/common.js";
import { IndexHead, readHeadLength, PREAMBLE_BYTES } from "../../src/ann/format.js";
import { IvfIndex } from "../../src/ann/ivf.js";
import { loadKernels } from "../../src/kernels/index.js";
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

describe("row ids in an IVF index file", () => {
  const dim = 16;
  const n = 4000;
  const rand = seededRandom(21);
  const vectors = Float32Array.from({ length: n * dim }, () => rand() * 2 - 1);
  const build = async (ids: Float64Array, numBits: 4 | 8) => IvfIndex.build(await loadKernels(), "IVF_PQ", vectors, dim, ids, { numPartitions: 8, numSubVectors: 4, numBits, distanceType: "l2" } as never);

  it("are stored as runs (format 4, a head of a few bytes of ids) when they run in sequence, one by one otherwise (format 2, or 3 for 4-bit codes)", async () => {
    const inOrder = fragmentIds([1500, 2500]);
    const scattered = Float64Array.from({ length: n }, (_, i) => (i * 7919) % 100_003);
    const heads: Record<string, IndexHead> = {};
    for (const [name, ids, bits] of [["runs", inOrder, 8], ["runs4", inOrder, 4], ["scattered", scattered, 8], ["scattered4", scattered, 4]] as const) {
      const index = await build(ids, bits);
      const bytes = await index.serialize();
      const head = new IndexHead(bytes.slice(0, readHeadLength(bytes.subarray(0, PREAMBLE_BYTES))));
      heads[name] = head;
      const reopened = IvfIndex.open(await loadKernels(), new IndexHead(bytes));
      // The same rows back, in position order.
      const q = vectors.subarray(0, dim);
      expect((await reopened.search(q, 10, { nprobes: 8 })).rows).toEqual((await index.search(q, 10, { nprobes: 8 })).rows);
      expect(Array.from({ length: n }, (_, p) => reopened.rowId(p))).toEqual(Array.from(ids));
    }
    expect([heads.runs!.version, heads.runs4!.version, heads.scattered!.version, heads.scattered4!.version]).toEqual([4, 4, 2, 3]);
    expect(heads.runs!.has("rowIdRuns") && !heads.runs!.has("rowIds")).toBe(true);
    expect(heads.runs!.meta.sections.rowIdRuns![1]).toBe(2 * 2 * 8); // two runs: [position, id] pairs
    expect(heads.scattered!.meta.sections.rowIds![1]).toBe(n * 8);
  });

  it("malformed runs are CORRUPT_FILE", async () => {
    expect(RowIds.fromRunPairs(Float64Array.from([0, 5, 10, 100]), 20)?.toArray()).toEqual(Float64Array.from([...Array.from({ length: 10 }, (_, i) => 5 + i), ...Array.from({ length: 10 }, (_, i) => 100 + i)]));
    for (const bad of [[1, 5], [0, 5, 0, 9], [0, 5, 30, 1], [0, -1], [0, 0.5], [0, 5, 7]]) expect(RowIds.fromRunPairs(Float64Array.from(bad), 20)).toBeNull();
    const bytes = await (await build(fragmentIds([n]), 8)).serialize();
    const head = new IndexHead(bytes);
    const [offset] = head.meta.sections.rowIdRuns!;
    const damaged = bytes.slice();
    new DataView(damaged.buffer).setFloat64(head.dataStart + offset, 3, true); // the first run starts at 3
    const kernels = await loadKernels();
    let code: string | undefined;
    try {
      IvfIndex.open(kernels, new IndexHead(damaged));
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe("CORRUPT_FILE");
  });
});

