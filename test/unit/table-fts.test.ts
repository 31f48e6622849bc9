import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { FtsIndex } from "../../src/fts/index.js";
import { hasScifact, loadScifact, ndcgAt } from "../../bench/scifact-data.js";
import { connect, Index, isQuiverError, rerankers, type Row } from "../../src/index.js";
import { LetterCounts, registerLetterCounts } from "./letter-embedding.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const code = async (p: Promise<unknown>): Promise<string> => p.then(() => "none", (e: unknown) => (isQuiverError(e) ? e.code : String(e)));

const DOCS: Row[] = [
  { id: 1, title: "Dogs", text: "The quick brown fox jumps over the lazy dog", year: 2019 },
  { id: 2, title: "Cats", text: "A cat sleeps all day; cats love sleeping", year: 2020 },
  { id: 3, title: "Dog training", text: "Training a dog takes patience. Dogs learn by repetition", year: 2021 },
  { id: 4, title: "Birds", text: "Birds sing at dawn", year: 2022 },
  { id: 5, title: "Foxes", text: "A brown fox hunts at night", year: 2023 },
];

describe("full-text search in tables", () => {
  it("BM25 over an FTS index: scores, where filters, new rows, deletes, persistence", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-fts-"));
    dirs.push(dir);
    const t = await (await connect(dir)).createTable("docs", DOCS);
    await t.createIndex("text", { config: Index.fts() });
    expect(await t.listIndices()).toMatchObject([{ name: "text_idx", indexType: "FTS", columns: ["text"], kind: "FTS" }]);

    const dogs = await t.search("dog", "fts").select(["id"]).toArray();
    expect(dogs.map((r) => r.id).sort()).toEqual([1, 3]);
    expect(dogs[0]!.id).toBe(3); // "dog" twice (stemmed "Dogs") in a row of similar length
    expect(dogs[0]!._score as number).toBeGreaterThan(dogs[1]!._score as number);
    expect(await t.query().fullTextSearch("dog").where("year > 2020").select(["id"]).toArray()).toMatchObject([{ id: 3 }]);
    expect((await t.search("brown fox", "fts").select(["id"]).toArray()).map((r) => r.id).sort()).toEqual([1, 5]);
    expect((await t.query().fullTextSearch("brown dog", { operator: "AND" }).select(["id"]).toArray()).map((r) => r.id)).toEqual([1]);

    await t.add([{ id: 6, title: "Puppies", text: "A puppy is a young dog", year: 2024 }]);
    expect((await t.search("puppy", "fts").select(["id"]).toArray()).map((r) => r.id)).toEqual([6]);
    await t.delete("id = 3");
    expect((await t.search("dog", "fts").select(["id"]).toArray()).map((r) => r.id).sort()).toEqual([1, 6]);
    expect((await t.indexStats("text_idx"))!.numUnindexedRows).toBe(1);
    await t.optimize();
    expect((await t.indexStats("text_idx"))!.numUnindexedRows).toBe(0);

    const again = await (await connect(dir)).openTable("docs");
    expect((await again.search("dog puppy").select(["id"]).toArray()).map((r) => r.id).sort()).toEqual([1, 6]);
  });

  it("rows added after the build are searched without copying the index, scored as after optimize()", async () => {
    const words = "river stone cloud ember frost meadow harbor lantern orchard summit".split(" ");
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const doc = (id: number): Row => ({ id, text: Array.from({ length: 3 + Math.floor(rand() * 8) }, () => words[Math.floor(rand() ** 2 * words.length)]).join(" ") });
    const db = await connect("memory://fts-delta");
    const t = await db.createTable("t", Array.from({ length: 3000 }, (_, i) => doc(i)));
    await t.createIndex("text", { config: Index.fts() });
    await t.search("river", "fts").limit(1).toArray(); // opens the index file
    await t.add(Array.from({ length: 200 }, (_, i) => doc(3000 + i)));
    await t.delete("id = 3001");
    const serialize = vi.spyOn(FtsIndex.prototype, "serialize");
    const deserialize = vi.spyOn(FtsIndex, "deserialize");
    const queries = ["river", "ember frost", "summit orchard lantern", "cloud"];
    const before: Row[][] = [];
    for (const q of queries) before.push(await t.search(q, "fts").select(["id"]).limit(20).toArray());
    expect(serialize).not.toHaveBeenCalled();
    expect(deserialize).not.toHaveBeenCalled();
    serialize.mockRestore();
    deserialize.mockRestore();
    await t.optimize();
    expect((await t.indexStats("text_idx"))!.numUnindexedRows).toBe(0);
    for (const [i, q] of queries.entries()) {
      const after = await t.search(q, "fts").select(["id"]).limit(20).toArray();
      expect(before[i]!.map((r) => r.id)).toEqual(after.map((r) => r.id));
      before[i]!.forEach((r, j) => expect(r._score as number).toBeCloseTo(after[j]!._score as number, 5));
      expect(before[i]!.map((r) => r.id)).not.toContain(3001);
    }
    await db.close();
  });

  it("phrases need positions; several indexed columns; clear errors", async () => {
    const t = await (await connect("memory://")).createTable("docs", DOCS);
    expect(await code(t.search("dog", "fts").toArray())).toBe("INVALID_ARGUMENT");
    await t.createIndex("text", { config: Index.fts() });
    expect(await code(t.search('"brown fox"', "fts").toArray())).toBe("INVALID_ARGUMENT");
    await t.createIndex("text", { config: Index.fts({ withPosition: true }) });
    expect((await t.search('"brown fox"', "fts").select(["id"]).toArray()).map((r) => r.id).sort()).toEqual([1, 5]);
    expect((await t.search('"fox brown"', "fts").toArray())).toEqual([]);
    await t.createIndex("title", { config: Index.fts() });
    expect((await t.search("training", "fts", "title").select(["id"]).toArray()).map((r) => r.id)).toEqual([3]);
    expect((await t.search("cats birds", "fts", ["title", "text"]).select(["id"]).toArray()).map((r) => r.id).sort()).toEqual([2, 4]);
    expect(await code(t.search("x", "fts", "year").toArray())).toBe("INVALID_ARGUMENT");
    expect(await code(t.createIndex("year", { config: Index.fts() }))).toBe("INVALID_ARGUMENT");
    expect(() => Index.fts({ baseTokenizer: "nope" as never })).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it.skipIf(!hasScifact())("reaches BEIR's BM25 quality on SciFact through the table API", async () => {
    const { corpus, queries, qrels } = loadScifact("test");
    const t = await (await connect("memory://")).createTable("scifact", corpus.map((d) => ({ doc_id: d.id, text: `${d.title} ${d.text}` })));
    await t.createIndex("text", { config: Index.fts() });
    let sum = 0;
    for (const q of queries) {
      const hits = await t.search(q.text, "fts").select(["doc_id"]).limit(10).toArray();
      sum += ndcgAt(hits.map((h) => h.doc_id as string), qrels.get(q.id), 10);
    }
    expect(sum / queries.length).toBeGreaterThanOrEqual(0.656);
  }, 60_000);
});

/** Letter counts as a stand-in embedding: deterministic, and semantic enough to rank "dog" texts. */
registerLetterCounts("letters-fts-test");
const Letters = class extends LetterCounts {
  constructor() {
    super({}, "letters-fts-test");
  }
};

describe("hybrid search", () => {
  it("fuses vector and BM25 results with RRF (default) and linear combination", async () => {
    const t = await (await connect("memory://")).createTable("docs", DOCS, { embeddingFunction: { sourceColumn: "text", function: new Letters() } });
    await t.createIndex("text", { config: Index.fts() });
    const hybrid = await t.search("lazy dog", "hybrid").select(["id"]).limit(3).toArray();
    expect(hybrid).toHaveLength(3);
    for (const r of hybrid) expect(Object.keys(r).sort()).toEqual(["_relevance_score", "id"]);
    for (let i = 1; i < hybrid.length; i++) expect(hybrid[i - 1]!._relevance_score as number).toBeGreaterThanOrEqual(hybrid[i]!._relevance_score as number);
    expect(hybrid[0]!.id).toBe(1); // first in BM25 ("lazy" and "dog"); the RRF sum puts it on top

    const vector = await t.search("lazy dog", "vector").select(["id"]).limit(5).toArray();
    const fts = await t.search("lazy dog", "fts").select(["id"]).limit(5).toArray();
    const rrf = await t.query().nearestTo(await new Letters().computeQueryEmbeddings("lazy dog")).fullTextSearch("lazy dog")
      .rerank(await rerankers.RRFReranker.create(60)).select(["id"]).limit(5).withRowId().toArray();
    // RRF by hand: 1/(60 + rank) summed over the two lists (rank from 0).
    const expected = new Map<number, number>();
    vector.forEach((r, i) => expected.set(r.id as number, (expected.get(r.id as number) ?? 0) + 1 / (60 + i)));
    fts.forEach((r, i) => expected.set(r.id as number, (expected.get(r.id as number) ?? 0) + 1 / (60 + i)));
    for (const r of rrf) {
      expect(r._relevance_score as number).toBeCloseTo(expected.get(r.id as number)!, 10);
      expect(typeof r._rowid).toBe("number");
    }

    const linear = await t.search("lazy dog", "hybrid").rerank(new rerankers.LinearCombinationReranker({ weight: 0.7 })).select(["id"]).limit(5).toArray();
    expect(linear.length).toBeGreaterThan(0);
    const filtered = await t.search("dog", "hybrid").where("year >= 2021").select(["id", "year"]).limit(5).toArray();
    for (const r of filtered) expect(r.year as number).toBeGreaterThanOrEqual(2021);
  });

  it("'auto' text search is a vector search with an embedding function, full-text without", async () => {
    const plain = await (await connect("memory://")).createTable("plain", DOCS);
    await plain.createIndex("text", { config: Index.fts() });
    const auto = await plain.search("sleeping cats").select(["id"]).toArray();
    expect(auto[0]).toMatchObject({ id: 2 });
    expect(auto[0]!._score).toBeGreaterThan(0);
    expect(await code(plain.search("cats", "vector").toArray())).toBe("UNSUPPORTED");
  });
});
