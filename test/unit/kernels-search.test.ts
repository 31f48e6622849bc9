/** Top-k selection, multi-block search, batch search and argument validation. */
import { beforeAll, describe, expect, it } from "vitest";
import { isQuiverError } from "../../src/errors.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import * as ref from "../support/reference.js";
import { expectClose, expectExact, randomF32, randomI8, randomIds, randomU8, rng } from "./kernels-helpers.js";

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    if (isQuiverError(error) && error.code === code) return;
    expect.fail(`expected QuiverError ${code}, got ${String(error)}`);
  }
  expect.fail(`expected QuiverError ${code}, but nothing was thrown`);
}

describe.each(["simd", "scalar"] as const)("%s top-k", (flavor) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels({ flavor });
  });

  // Few distinct values, so ties are everywhere and the index tie-break decides.
  const r = rng(42);
  const tied = Float32Array.from({ length: 1001 }, () => Math.floor(r() * 20) / 4);

  it.each([0, 1, 2, 7, 10, 100, 1001, 5000])("k = %i with ties matches the reference", (kk) => {
    const got = k.topk(tied, kk);
    const want = ref.topk(tied, kk);
    expectExact(got.index, want.index, "index");
    expectExact(got.distance, want.distance, "distance");
    expect(got.index.length).toBe(Math.min(kk, tied.length));
  });

  it("keeps lo ≤ d < hi only", () => {
    for (const [lo, hi] of [[1, 3], [1.25, 1.5], [-Infinity, 2], [2, Infinity], [3, 3], [10, 20]] as const) {
      const got = k.topk(tied, 50, { lo, hi });
      expectExact(got.index, ref.topk(tied, 50, lo, hi).index, `[${lo}, ${hi})`);
      for (const d of got.distance) expect(d >= lo && d < hi).toBe(true);
    }
  });

  it("skips NaN and ranks +Infinity last when there is no upper bound", () => {
    const d = Float32Array.from([NaN, 3, Infinity, NaN, -1, 3, NaN, 0.5, -Infinity]);
    const got = k.topk(d, 10);
    expectExact(got.index, [8, 4, 7, 1, 5, 2], "index");
    expectExact(got.index, ref.topk(d, 10).index, "reference");
    expectExact(k.topk(d, 10, { hi: 3 }).index, [8, 4, 7], "hi excludes 3");
    expectExact(k.topk(d, 2, { lo: 0 }).index, [7, 1], "lo");
    expectExact(k.topk(new Float32Array([NaN, NaN]), 3).index, [], "all NaN");
  });

  it("selects from long arrays where the SIMD skip path matters", () => {
    const long = randomF32(100_003, 7);
    for (const kk of [1, 10, 64]) expectExact(k.topk(long, kk).index, ref.topk(long, kk).index, `k=${kk}`);
    const descending = Float32Array.from({ length: 1000 }, (_, i) => 1000 - i);
    expectExact(k.topk(descending, 5).index, [999, 998, 997, 996, 995], "every element replaces the root");
  });
});

describe.each(["simd", "scalar"] as const)("%s search", (flavor) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels({ flavor });
  });

  const dim = 33;
  const parts = [randomF32(200 * dim, 1), randomF32(0, 2), randomF32(57 * dim, 3), randomF32(301 * dim, 4)];
  const ids = [undefined, undefined, randomIds(40, 57, 5), undefined];

  it.each(["l2", "dot", "cosine"] as const)("%s over several f32 blocks, with and without ids", (metric) => {
    const blocks = parts.map((p) => k.upload(p, dim));
    const q = randomF32(dim, 9);
    for (const withIds of [false, true]) {
      const targets = blocks.map((block, i) => ({ block, ids: withIds ? ids[i] : undefined }));
      const got = k.search(metric, q, targets, dim, 25);
      const want = ref.search(metric, q, parts.map((data, i) => ({ data, ids: withIds ? ids[i] : undefined })), dim, 25);
      expectExact(got.target, want.target, "target");
      expectExact(got.row, want.row, "row");
      expectClose(got.distance, want.distance, "distance");
    }
    const ranged = k.search(metric, q, blocks.map((block) => ({ block })), dim, 1000, { lo: 0.5, hi: 0.9 });
    const wantRanged = ref.search(metric, q, parts.map((data) => ({ data })), dim, 1000, { lo: 0.5, hi: 0.9 });
    expect(ranged.row.length).toBe(wantRanged.row.length);
    for (const b of blocks) b.free();
  });

  it.each(["l2", "dot", "cosine"] as const)("%s over i8 blocks", (metric) => {
    const data = [randomI8(90 * 24, 1), randomI8(45 * 24, 2)];
    const blocks = data.map((d) => k.upload(d, 24));
    const q = randomI8(24, 3);
    const got = k.search(metric, q, blocks.map((block) => ({ block })), 24, 12);
    const want = ref.search(metric, q, data.map((d) => ({ data: d })), 24, 12);
    expectExact(got.row, want.row, "row");
    expectExact(got.target, want.target, "target");
    for (const b of blocks) b.free();
  });

  it("hamming over bit blocks, accepting a plain number[] query", () => {
    const data = randomU8(500 * 12, 1);
    const block = k.upload(data, 12);
    const q = Array.from(randomU8(12, 2));
    const got = k.search("hamming", q, [{ block, ids: Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]) }], 12, 3);
    const want = ref.search("hamming", q, [{ data, ids: [3, 1, 4, 1, 5, 9, 2, 6] }], 12, 3);
    expectExact(got.row, want.row, "row");
    expectExact(got.distance, want.distance, "distance");
    block.free();
  });

  it.each(["l2", "dot", "cosine"] as const)("%s batch equals one search per query (multi-query kernels)", (metric) => {
    const blocks = parts.map((p) => k.upload(p, dim));
    const targets = blocks.map((block) => ({ block }));
    const queries = randomF32(19 * dim, 21); // 19 = two full groups of 8 and a partial one
    const batch = k.searchBatch(metric, queries, targets, dim, 7);
    expect(batch.length).toBe(19);
    batch.forEach((res, i) => {
      const want = ref.search(metric, queries.subarray(i * dim, (i + 1) * dim), parts.map((data) => ({ data })), dim, 7);
      expectExact(res.row, want.row, `query ${i} rows`);
      expectExact(res.target, want.target, `query ${i} targets`);
      expectClose(res.distance, want.distance, `query ${i} distances`);
    });
    // An array of vectors and ids on a target take the per-query path; results must not change.
    const list = [queries.subarray(0, dim), queries.subarray(dim, 2 * dim)];
    const withIds = k.searchBatch(metric, list, [...targets.slice(0, 2), { block: blocks[2]!, ids: Int32Array.from({ length: 57 }, (_, i) => i) }, targets[3]!], dim, 7);
    expectExact(withIds[1]!.row, batch[1]!.row, "per-query path");
    for (const b of blocks) b.free();
  });

  it("k = 0, no targets and empty blocks give empty results", () => {
    const block = k.upload(randomF32(10 * 4, 1), 4);
    const empty = k.upload(new Float32Array(0), 4);
    const q = randomF32(4, 2);
    expect(k.search("l2", q, [{ block }], 4, 0).row.length).toBe(0);
    expect(k.search("l2", q, [], 4, 3).row.length).toBe(0);
    expect(k.search("l2", q, [{ block: empty }], 4, 3).row.length).toBe(0);
    expectExact(k.search("l2", q, [{ block: empty }, { block }], 4, 20).target, new Array(10).fill(1), "all from target 1");
    block.free();
    empty.free();
  });

  it("fixes a block's dimension on first search when upload was not told it", () => {
    const data = randomF32(12 * 6, 1);
    const block = k.upload(data);
    expect(block.dim).toBeUndefined();
    const q = randomF32(6, 2);
    expectExact(k.search("l2", q, [{ block }], 6, 3).row, ref.search("l2", q, [{ data }], 6, 3).row, "rows");
    expect(block.dim).toBe(6);
    expect(block.rows).toBe(12);
    expectCode(() => k.search("l2", randomF32(4, 3), [{ block }], 4, 3), "DIMENSION_MISMATCH");
    block.free();
  });
});

describe("validation", () => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels();
  });

  it("rejects bad queries, dimensions, metrics, k, ranges, ids and blocks with the right code", async () => {
    const f32 = k.upload(randomF32(8 * 4, 1), 4);
    const i8 = k.upload(randomI8(8 * 4, 2), 4);
    const bits = k.upload(randomU8(8 * 4, 3), 4);
    const q = randomF32(4, 4);
    const t = [{ block: f32 }];

    expectCode(() => k.search("l2", randomF32(5, 1), t, 4, 3), "DIMENSION_MISMATCH");
    expectCode(() => k.search("l2", randomF32(3, 1), t, 3, 3), "DIMENSION_MISMATCH");
    expectCode(() => k.upload(randomF32(10, 1), 4), "DIMENSION_MISMATCH");
    expectCode(() => k.searchBatch("l2", randomF32(10, 1), t, 4, 3), "DIMENSION_MISMATCH");

    expectCode(() => k.search("l2", [0, NaN, 0, 0], t, 4, 3), "INVALID_VECTOR");
    expectCode(() => k.search("l2", [0, 0, Infinity, 0], t, 4, 3), "INVALID_VECTOR");
    expectCode(() => k.search("l2", [0, 0, 0, 1e39], t, 4, 3), "INVALID_VECTOR"); // overflows f32
    expectCode(() => k.search("l2", [0, 0, 0, 128], [{ block: i8 }], 4, 3), "INVALID_VECTOR");
    expectCode(() => k.search("hamming", [0, 0, 0.5, 0], [{ block: bits }], 4, 3), "INVALID_VECTOR");

    expectCode(() => k.search("hamming", q, t, 4, 3), "INVALID_ARGUMENT");
    expectCode(() => k.search("l2", [1, 2, 3, 4], [{ block: bits }], 4, 3), "INVALID_ARGUMENT");
    expectCode(() => k.search("manhattan" as "l2", q, t, 4, 3), "INVALID_ARGUMENT");
    expectCode(() => k.search("l2", q, [{ block: f32 }, { block: i8 }], 4, 3), "INVALID_ARGUMENT");
    expectCode(() => k.search("l2", q, t, 4, -1), "INVALID_ARGUMENT");
    expectCode(() => k.search("l2", q, t, 4, 1.5), "INVALID_ARGUMENT");
    expectCode(() => k.search("l2", q, t, 4, 3, { lo: NaN }), "INVALID_ARGUMENT");
    expectCode(() => k.search("l2", q, [{ block: f32, ids: Int32Array.from([0, 8]) }], 4, 3), "INVALID_ARGUMENT");
    expectCode(() => k.search("l2", q, [{ block: f32, ids: Int32Array.from([-1]) }], 4, 3), "INVALID_ARGUMENT");
    expectCode(() => k.upload([1, 2, 3] as unknown as Float32Array, 3), "INVALID_ARGUMENT");
    expectCode(() => k.upload(randomF32(8, 1), 0), "INVALID_ARGUMENT");

    const other = await loadKernels({ flavor: k.flavor === "simd" ? "scalar" : "simd" });
    expectCode(() => other.search("l2", q, t, 4, 3), "INVALID_ARGUMENT");
    f32.free();
    expect(f32.freed).toBe(true);
    expectCode(() => k.search("l2", q, t, 4, 3), "INVALID_ARGUMENT");
    f32.free(); // twice is harmless
    i8.free();
    bits.free();
  });
});
