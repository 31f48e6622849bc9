import { describe, expect, it } from "vitest";
import { FtsIndex } from "../../src/fts/index.js";
import { evaluate, hasScifact, loadScifact } from "../../bench/scifact-data.js";
import { dataPath } from "../../bench/datasets.js";

// Real data: BEIR SciFact, test split (300 queries). BEIR's own BM25 run scores 0.656–0.665.
describe("BM25 quality on BEIR SciFact", () => {
  it("nDCG@10 >= 0.65 and Recall@100 >= 0.88 with the default index (title + text)", async () => {
    expect(hasScifact(), `SciFact data missing at ${dataPath("beir-scifact")}`).toBe(true);
    const data = loadScifact("test");
    expect(data.corpus.length).toBe(5183);
    expect(data.queries.length).toBe(300);
    const idx = await FtsIndex.build(data.corpus.map((d, row) => ({ row, text: `${d.title} ${d.text}` })));
    // Claims are plain text: quotes in them are not phrase operators.
    const { ndcg10, recall100 } = evaluate(data, (q) => Array.from(idx.search(q.text, { k: 100, phrase: false }).rows, (r) => data.corpus[r]!.id));
    expect(ndcg10).toBeGreaterThanOrEqual(0.65);
    expect(recall100).toBeGreaterThanOrEqual(0.88);
  });
});
