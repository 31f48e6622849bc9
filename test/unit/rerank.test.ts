import { describe, expect, it } from "vitest";
import {
  LinearCombinationReranker,
  mergeResults,
  minMaxNormalize,
  PairScoreReranker,
  RRFReranker,
  type Reranker,
  type RerankInputRow,
} from "../../src/rerank/index.js";
import { isQuiverError } from "../../src/errors.js";

// LanceDB's own RRF example (rust/lancedb/src/rerankers/rrf.rs), k = 1.
const vec: RerankInputRow[] = [
  { name: "foo", _rowid: 1, _distance: 0.1 },
  { name: "bar", _rowid: 4, _distance: 0.2 },
  { name: "baz", _rowid: 2, _distance: 0.3 },
  { name: "bean", _rowid: 5, _distance: 0.4 },
  { name: "dog", _rowid: 3, _distance: 0.5 },
];
const fts: RerankInputRow[] = [
  { name: "bar", _rowid: 4, _score: 9 },
  { name: "bean", _rowid: 5, _score: 5 },
  { name: "dog", _rowid: 3, _score: 1 },
];

const ids = (rows: readonly Record<string, unknown>[]) => rows.map((r) => r._rowid);
const rel = (rows: { _relevance_score: number }[]) => rows.map((r) => r._relevance_score);

async function rejects(p: Promise<unknown> | (() => unknown), code = "INVALID_ARGUMENT"): Promise<void> {
  const e = await (typeof p === "function" ? Promise.resolve().then(p) : p).then(() => undefined, (x: unknown) => x);
  expect(isQuiverError(e, code as never), `got ${String(e)}`).toBe(true);
}

describe("RRFReranker", () => {
  it("scores Σ 1 / (k + rank), rank from 0 (LanceDB TS/Rust), exactly", async () => {
    const r = await RRFReranker.create(1);
    const out = await r.rerankHybrid("q", vec, fts);
    expect(out.map((x) => x.name)).toEqual(["bar", "foo", "bean", "dog", "baz"]);
    expect(ids(out)).toEqual([4, 1, 5, 3, 2]);
    expect(rel(out)).toEqual([1 / 2 + 1 / 1, 1 / 1, 1 / 4 + 1 / 2, 1 / 5 + 1 / 3, 1 / 3]);
  });

  it("defaults to k = 60 and drops _distance / _score unless returnScore is 'all'", async () => {
    const r = await RRFReranker.create();
    expect(r.k).toBe(60);
    const out = await r.rerankHybrid("q", vec, fts);
    expect(out[0]!._relevance_score).toBeCloseTo(1 / 61 + 1 / 60, 12);
    expect(out[0]).not.toHaveProperty("_distance");
    expect(out[0]).not.toHaveProperty("_score");
    const all = await (await RRFReranker.create(60, "all")).rerankHybrid("q", vec, fts);
    expect(all.find((x) => x._rowid === 4)).toMatchObject({ _distance: 0.2, _score: 9 });
    expect(all.find((x) => x._rowid === 1)).toMatchObject({ _distance: 0.1, _score: null });
  });

  it("ties keep the merged order: vector results first, then full-text-only rows", async () => {
    const r = await RRFReranker.create(60);
    const out = await r.rerankHybrid("q", [{ _rowid: 10 }, { _rowid: 11 }], [{ _rowid: 20 }, { _rowid: 21 }]);
    expect(ids(out)).toEqual([10, 20, 11, 21]);
    expect(out[0]!._relevance_score).toBe(out[1]!._relevance_score);
  });

  it("vector-only and FTS-only reranking keep the order and add scores", async () => {
    const r = await RRFReranker.create(60);
    expect(rel(await r.rerankVector("q", vec))).toEqual([0, 1, 2, 3, 4].map((i) => 1 / (60 + i)));
    expect(ids(await r.rerankFts("q", fts))).toEqual([4, 5, 3]);
  });

  it("rejects a bad k and rows without _rowid; does not modify its inputs", async () => {
    expect(() => new RRFReranker(0)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    await rejects(RRFReranker.create(Number.NaN));
    const r = await RRFReranker.create();
    await rejects(r.rerankHybrid("q", [{ text: "no id" }], []));
    const before = JSON.stringify([vec, fts]);
    await r.rerankHybrid("q", vec, fts);
    expect(JSON.stringify([vec, fts])).toBe(before);
  });
});

describe("LinearCombinationReranker", () => {
  it("normalizes distances to similarities and BM25 to 0..1, then weighs them", async () => {
    const r = new LinearCombinationReranker({ weight: 0.7 });
    const out = await r.rerankHybrid("q", vec, fts);
    // vectorSim = 1 − (d − 0.1) / 0.4:  foo 1, bar .75, baz .5, bean .25, dog 0
    // ftsSim = (s − 1) / 8:             bar 1, bean .5, dog 0; missing → 1 − fill = 0
    const expected: Record<number, number> = {
      1: 0.7 * 1,
      4: 0.7 * 0.75 + 0.3 * 1,
      2: 0.7 * 0.5,
      5: 0.7 * 0.25 + 0.3 * 0.5,
      3: 0,
    };
    expect(ids(out)).toEqual([4, 1, 2, 5, 3]);
    for (const row of out) expect(row._relevance_score).toBeCloseTo(expected[row._rowid as number]!, 12);
  });

  it("higher is better on both sides (the lancedb#3154 inversion does not happen)", async () => {
    const r = new LinearCombinationReranker();
    const out = await r.rerankHybrid(
      "q",
      [{ _rowid: 1, _distance: 0 }, { _rowid: 2, _distance: 1 }],
      [{ _rowid: 1, _score: 10 }, { _rowid: 2, _score: 1 }],
    );
    expect(ids(out)).toEqual([1, 2]);
    expect(rel(out)).toEqual([1, 0]);
  });

  it("fill sets the penalty of a missing part", async () => {
    const onlyVec = [{ _rowid: 1, _distance: 0 }, { _rowid: 2, _distance: 1 }];
    const onlyFts = [{ _rowid: 3, _score: 4 }, { _rowid: 4, _score: 2 }];
    const harsh = await new LinearCombinationReranker({ weight: 0.5, fill: 1 }).rerankHybrid("q", onlyVec, onlyFts);
    expect(Object.fromEntries(harsh.map((x) => [x._rowid, x._relevance_score]))).toEqual({ 1: 0.5, 2: 0, 3: 0.5, 4: 0 });
    const mild = await new LinearCombinationReranker({ weight: 0.5, fill: 0.5 }).rerankHybrid("q", onlyVec, onlyFts);
    expect(Object.fromEntries(mild.map((x) => [x._rowid, x._relevance_score]))).toEqual({ 1: 0.75, 2: 0.25, 3: 0.75, 4: 0.25 });
  });

  it("weight 1 ranks by vector only, weight 0 by full text only", async () => {
    expect(ids(await new LinearCombinationReranker(1).rerankHybrid("q", vec, fts)).slice(0, 2)).toEqual([1, 4]);
    const ftsOnly = await new LinearCombinationReranker(0).rerankHybrid("q", vec, fts);
    expect(ids(ftsOnly).slice(0, 2)).toEqual([4, 5]);
    // Everything else scores 0 (dog is the worst FTS hit, the rest missed): merged order breaks the tie.
    expect(ids(ftsOnly).slice(2)).toEqual([1, 2, 3]);
  });

  it("a list whose values are all equal counts every row as the best of that list", async () => {
    const out = await new LinearCombinationReranker(0.5).rerankHybrid("q", [{ _rowid: 1, _distance: 0.3 }], [{ _rowid: 2, _score: 7 }]);
    expect(rel(out)).toEqual([0.5, 0.5]);
    expect(ids(out)).toEqual([1, 2]);
  });

  it("vector-only and FTS-only reranking use the normalized part alone", async () => {
    const r = new LinearCombinationReranker();
    expect(rel(await r.rerankVector("q", vec))).toEqual([1, 0.75, 0.5, 0.25, 0].map((x) => expect.closeTo(x, 12)));
    expect(rel(await r.rerankFts("q", [{ _rowid: 1, _score: 1 }, { _rowid: 2, _score: 9 }]))).toEqual([1, 0]);
  });

  it("rejects weight or fill outside 0..1", () => {
    expect(() => new LinearCombinationReranker({ weight: 1.5 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => new LinearCombinationReranker({ fill: -1 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("shared pieces", () => {
  it("mergeResults keeps one row per _rowid, vector columns first, FTS score added", () => {
    const merged = mergeResults(
      [{ _rowid: 1, text: "a", _distance: 0.5 }, { _rowid: 1, text: "dup" }],
      [{ _rowid: 2, text: "b", _score: 3 }, { _rowid: 1, text: "a'", extra: true, _score: 2 }],
    );
    expect(merged).toEqual([
      { _rowid: 1, text: "a", _distance: 0.5, _score: 2, extra: true },
      { _rowid: 2, text: "b", _score: 3 },
    ]);
  });

  it("minMaxNormalize maps min → 0, max → 1, ignores non-finite values", () => {
    expect(Array.from(minMaxNormalize([-4, 2, 0, 3, 6]))).toEqual([0, 0.6, 0.4, 0.7, 1]);
    expect(Array.from(minMaxNormalize([2, Number.NaN, 4]))).toEqual([0, Number.NaN, 1]);
    expect(Array.from(minMaxNormalize([2.1, 2.1]))).toEqual([1, 1]);
    expect(Array.from(minMaxNormalize([2.1, 2.1], 0))).toEqual([0, 0]);
    expect(Array.from(minMaxNormalize([]))).toEqual([]);
  });
});

describe("PairScoreReranker (the cross-encoder shape) and user-defined rerankers", () => {
  const overlap = async (q: string, docs: readonly string[]) => docs.map((d) => q.split(" ").filter((w) => d.includes(w)).length);

  it("scores every merged row's text with the scorer, in batches", async () => {
    const batches: number[] = [];
    const r = new PairScoreReranker({
      batchSize: 2,
      scorer: async (q, docs) => {
        batches.push(docs.length);
        return overlap(q, docs);
      },
    });
    const out = await r.rerankHybrid(
      "red apple pie",
      [{ _rowid: 1, text: "green pear" }, { _rowid: 2, text: "apple pie" }],
      [{ _rowid: 3, text: "red apple pie" }, { _rowid: 2, text: "apple pie" }],
    );
    expect(ids(out)).toEqual([3, 2, 1]);
    expect(rel(out)).toEqual([3, 2, 0]);
    expect(batches).toEqual([2, 1]);
    expect(ids(await r.rerankFts("pear", [{ _rowid: 9, text: "apple" }, { _rowid: 8, text: "pear" }]))).toEqual([8, 9]);
  });

  it("checks the column and the scorer's answer", async () => {
    const r = new PairScoreReranker({ scorer: overlap, column: "body" });
    await rejects(r.rerankVector("q", [{ _rowid: 1, text: "x" }]));
    const short = new PairScoreReranker({ scorer: async () => [1] });
    await rejects(short.rerankVector("q", [{ _rowid: 1, text: "a" }, { _rowid: 2, text: "b" }]));
    const nan = new PairScoreReranker({ scorer: async (_q, d) => d.map(() => Number.NaN) });
    await rejects(nan.rerankVector("q", [{ _rowid: 1, text: "a" }]));
    expect(() => new PairScoreReranker({} as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("any object with rerankHybrid is a Reranker", async () => {
    const shortestFirst: Reranker = {
      async rerankHybrid(_q, v, f) {
        return mergeResults(v, f)
          .map((r) => ({ ...r, _relevance_score: -String(r.name).length }))
          .sort((a, b) => b._relevance_score - a._relevance_score);
      },
    };
    const out = await shortestFirst.rerankHybrid("q", vec, fts);
    expect(out[0]!.name).toHaveLength(3);
    expect(shortestFirst.rerankVector).toBeUndefined();
  });
});
