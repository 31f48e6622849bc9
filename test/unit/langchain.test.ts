/**
 * quiverdb/langchain: QuiverVectorStore against @langchain/core's own VectorStore machinery
 * (similaritySearch, asRetriever, a RAG chain), with LangChain's deterministic test embeddings and
 * with a Quiver embedding function adapted as LangChain Embeddings.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { PromptTemplate } from "@langchain/core/prompts";
import { RunnablePassthrough, RunnableSequence } from "@langchain/core/runnables";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { FakeEmbeddings, FakeLLM, SyntheticEmbeddings } from "@langchain/core/utils/testing";
import { afterAll, describe, expect, it } from "vitest";
import { connect, isQuiverError } from "../../src/index.js";
import { QuiverEmbeddings, QuiverVectorStore, filterToWhere } from "../../src/langchain/index.js";
import { LetterCounts } from "./letter-embedding.js";
import { connectThrough } from "../../src/worker/client.js";
import { startTsWorker } from "./worker-harness.js";

const dir = mkdtempSync(join(tmpdir(), "quiver-langchain-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const synthetic = new SyntheticEmbeddings({ vectorSize: 16 });

const TEXTS = [
  "the cat sat on the mat", "dogs chase cats in the park", "stock markets fell sharply today",
  "a kitten naps in the sun", "interest rates rise again", "the dog barked at the mailman",
];
const META = [
  { topic: "pets", page: 1, source: "a.txt" }, { topic: "pets", page: 2, source: "a.txt" }, { topic: "finance", page: 1, source: "b.txt" },
  { topic: "pets", page: 3, source: "c's.txt" }, { topic: "finance", page: 2, source: "b.txt" }, { topic: "pets", page: 4, source: "a.txt", loc: { lines: { from: 1, to: 3 } } },
];

/** Brute-force cosine distances of every text to `query`, nearest first, with the same embeddings. */
async function exactOrder(query: string, texts = TEXTS): Promise<string[]> {
  const [q, docs] = await Promise.all([synthetic.embedQuery(query), synthetic.embedDocuments(texts)]);
  const cos = (a: number[], b: number[]): number => {
    let d = 0, x = 0, y = 0;
    for (let i = 0; i < a.length; i++) { d += a[i]! * b[i]!; x += a[i]! * a[i]!; y += b[i]! * b[i]!; }
    return 1 - d / Math.sqrt(x * y);
  };
  return texts.map((t, i) => [t, cos(q, docs[i]!)] as const).sort((a, b) => a[1] - b[1]).map(([t]) => t);
}

describe("filterToWhere", () => {
  it("quotes names and values, so metadata cannot change the filter's shape", () => {
    expect(filterToWhere({ source: "c's.txt", page: [1, 2], draft: null, ok: true })).toBe("`source` = 'c''s.txt' AND `page` IN (1, 2) AND `draft` IS NULL AND `ok` = TRUE");
    expect(filterToWhere({ "we`ird": "x' OR '1'='1" })).toBe("`we``ird` = 'x'' OR ''1''=''1'");
    expect(filterToWhere("page > 1")).toBe("page > 1");
    expect(filterToWhere({})).toBeUndefined();
    expect(() => filterToWhere({ page: [] })).toThrow(/empty list/);
    expect(() => filterToWhere({ page: { gt: 1 } })).toThrow(expect.objectContaining({ code: "INVALID_FILTER" }));
    expect(() => filterToWhere({ page: Number.NaN })).toThrow(expect.objectContaining({ code: "INVALID_FILTER" }));
  });
});

describe("QuiverVectorStore", () => {
  it("fromTexts, then similaritySearchWithScore ranks as exact cosine search does, with metadata round-tripped", async () => {
    const db = await connect("memory://");
    const store = await QuiverVectorStore.fromTexts(TEXTS, META, synthetic, { connection: db, tableName: "docs" });
    const hits = await store.similaritySearchWithScore("cats and kittens", 6);
    expect(hits.map(([d]) => d.pageContent)).toEqual(await exactOrder("cats and kittens"));
    for (let i = 1; i < hits.length; i++) expect(hits[i]![1]).toBeGreaterThanOrEqual(hits[i - 1]![1]);
    const last = hits.find(([d]) => d.pageContent === TEXTS[5])![0];
    expect(last.metadata).toEqual(META[5]);
    expect(typeof last.id).toBe("string");
    // Scalar metadata became columns; the nested value lives in the JSON only.
    const t = await db.openTable("docs");
    expect((await t.quiverSchema()).fields.map((f) => f.name)).toEqual(["id", "text", "vector", "metadata", "topic", "page", "source"]);
    await db.close();
  });

  it("filters by metadata objects (quoted) and raw SQL strings", async () => {
    const db = await connect("memory://");
    const store = await QuiverVectorStore.fromTexts(TEXTS, META, synthetic, { connection: db });
    const pets = await store.similaritySearch("cats", 10, { topic: "pets", page: [1, 3, 4] });
    expect(pets.map((d) => d.metadata.page).sort()).toEqual([1, 3, 4]);
    expect(pets.every((d) => d.metadata.topic === "pets")).toBe(true);
    expect((await store.similaritySearch("cats", 10, { source: "c's.txt" })).map((d) => d.pageContent)).toEqual([TEXTS[3]]);
    expect((await store.similaritySearch("cats", 10, "page >= 3 AND topic = 'pets'")).length).toBe(2);
    await expect(store.similaritySearch("cats", 3, { nope: 1 })).rejects.toMatchObject({ code: "INVALID_FILTER" }); // a key no document has
    await db.close();
  });

  it("addDocuments with ids, adding a metadata key later adds a column, and delete by ids and by filter", async () => {
    const db = await connect("memory://");
    const store = new QuiverVectorStore(synthetic, { connection: db, tableName: "t" });
    expect(await store.similaritySearch("anything", 3)).toEqual([]); // no table yet
    const ids = await store.addDocuments(TEXTS.slice(0, 3).map((t, i) => new Document({ pageContent: t, metadata: META[i]! })), { ids: ["a", "b", "c"] });
    expect(ids).toEqual(["a", "b", "c"]);
    const more = await store.addDocuments([new Document({ pageContent: TEXTS[3]!, metadata: { topic: "pets", lang: "en" }, id: "d" })]);
    expect(more).toEqual(["d"]);
    expect((await store.similaritySearch("kitten", 1, { lang: "en" }))[0]!.id).toBe("d");
    // A value that does not fit its column is refused before anything is written.
    const t = (await store.table())!;
    const version = await (t as Awaited<ReturnType<typeof db.openTable>>).version();
    await expect(store.addDocuments([new Document({ pageContent: "x", metadata: { page: "one", fresh: 1 } })])).rejects.toMatchObject({ code: "SCHEMA_MISMATCH" });
    expect(await (t as Awaited<ReturnType<typeof db.openTable>>).version()).toBe(version);
    await store.delete({ ids: ["a", "d"] });
    expect(await t.countRows()).toBe(2);
    await store.delete({ filter: { topic: "finance" } });
    expect((await store.similaritySearch("x", 10)).map((d) => d.id)).toEqual(["b"]);
    await expect(store.delete({})).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(store.addVectors([[1]], [])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await db.close();
  });

  it("maxMarginalRelevanceSearch trades closeness for diversity", async () => {
    const db = await connect("memory://");
    const texts = ["the cat sat", "the cat sat", "the cat sat down", "rates rise", "dogs bark"];
    const store = await QuiverVectorStore.fromTexts(texts, {}, synthetic, { connection: db });
    const plain = await store.similaritySearch("the cat sat", 2);
    expect(plain.map((d) => d.pageContent)).toEqual(["the cat sat", "the cat sat"]);
    const mmr = await store.maxMarginalRelevanceSearch("the cat sat", { k: 2, fetchK: 5, lambda: 0.3 });
    expect(mmr[0]!.pageContent).toBe("the cat sat");
    expect(mmr[1]!.pageContent).not.toBe("the cat sat"); // the duplicate is passed over
    const onlyClose = await store.maxMarginalRelevanceSearch("the cat sat", { k: 2, fetchK: 5, lambda: 1 });
    expect(onlyClose.map((d) => d.pageContent)).toEqual(["the cat sat", "the cat sat"]);
    await db.close();
  });

  it("asRetriever() feeds a RAG chain the nearest documents", async () => {
    const db = await connect("memory://");
    const store = await QuiverVectorStore.fromTexts(TEXTS, META, synthetic, { connection: db });
    const retriever = store.asRetriever({ k: 2, filter: { topic: "finance" } });
    const prompt = PromptTemplate.fromTemplate("Context:\n{context}\nQuestion: {question}");
    // FakeLLM without a fixed response answers with its prompt, so the chain's output shows what was retrieved.
    const chain = RunnableSequence.from([
      { context: retriever.pipe((docs) => docs.map((d) => d.pageContent).join("\n")), question: new RunnablePassthrough() },
      prompt, new FakeLLM({}), new StringOutputParser(),
    ]);
    const answer = await chain.invoke("what happened to rates?");
    expect(answer).toContain("interest rates rise again");
    expect(answer).toContain("stock markets fell sharply today");
    expect(answer).not.toContain("cat");
    await db.close();
  });

  it("fromExistingIndex reopens a table on disk; mode overwrite replaces it; FakeEmbeddings works end to end", async () => {
    const uri = join(dir, "db");
    const first = await QuiverVectorStore.fromTexts(["one", "two"], [{ n: 1 }, { n: 2 }], new FakeEmbeddings(), { uri, tableName: "kb" });
    await first.close();
    const again = await QuiverVectorStore.fromExistingIndex(new FakeEmbeddings(), { uri, tableName: "kb" });
    expect((await again.similaritySearch("x", 5, { n: 2 })).map((d) => d.pageContent)).toEqual(["two"]);
    await again.close();
    const replaced = await QuiverVectorStore.fromTexts(["three"], {}, new FakeEmbeddings(), { uri, tableName: "kb", mode: "overwrite" });
    expect((await replaced.similaritySearch("x", 5)).map((d) => d.pageContent)).toEqual(["three"]);
    await replaced.close();
    await expect(QuiverVectorStore.fromExistingIndex(new FakeEmbeddings(), { uri, tableName: "missing" })).rejects.toSatisfy((e) => isQuiverError(e, "TABLE_NOT_FOUND"));
    expect(() => new QuiverVectorStore(new FakeEmbeddings(), {})).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("works on a table inside a worker (quiverdb/worker)", async () => {
    const worker = startTsWorker();
    try {
      const db = await connectThrough("memory://", { worker }, () => worker);
      const store = await QuiverVectorStore.fromTexts(TEXTS, META, synthetic, { connection: db, tableName: "remote" });
      expect((await store.similaritySearch("cats and kittens", 6)).map((d) => d.pageContent)).toEqual(await exactOrder("cats and kittens"));
      expect((await store.similaritySearch("x", 10, { source: "b.txt" })).length).toBe(2);
      await store.delete({ filter: { topic: "finance" } });
      expect((await store.maxMarginalRelevanceSearch("rates", { k: 3, fetchK: 6 })).every((d) => d.metadata.topic === "pets")).toBe(true);
      await db.close();
    } finally {
      await worker.terminate();
    }
  });

  it("a Quiver embedding function as LangChain Embeddings ranks as the table's own search(text) does", async () => {
    const fn = new LetterCounts();
    const embeddings = new QuiverEmbeddings(fn);
    expect((await embeddings.embedQuery("abc")).length).toBe(26);
    const db = await connect("memory://");
    const store = await QuiverVectorStore.fromTexts(TEXTS, META, embeddings, { connection: db, tableName: "lc", distanceType: "l2" });
    const native = await db.createTable("native", TEXTS.map((text, id) => ({ id, text })), { embeddingFunction: { sourceColumn: "text", function: fn } });
    const viaLangChain = (await store.similaritySearch("a dog in the park", 4)).map((d) => d.pageContent);
    const viaQuiver = (await native.search("a dog in the park").limit(4).toArray()).map((r) => r.text);
    expect(viaLangChain).toEqual(viaQuiver);
    await db.close();
  });
});
