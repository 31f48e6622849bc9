/**
 * CrossEncoderReranker end to end with the real transformers.js tokenizer and ONNX runtime, on a tiny
 * BERT-for-sequence-classification model this test writes to a temp folder (no weights can be
 * downloaded here; the tokenizer is all-MiniLM-L6-v2's, copied from ../shared/data). Every expected
 * score is recomputed by hand from the model's weights and the tokenizer's ids for the pair.
 */
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AutoTokenizer, env } from "@huggingface/transformers";
import { connect, getRegistry, Index, isQuiverError, rerankers, type Row } from "../../src/index.js";
import type { CrossEncoderOptions, CrossEncoderReranker, RerankInputRow } from "../../src/rerank/index.js";
import { hasTokenizer, randomFloats, TOKENIZER_DIR, writeTinyBert } from "./embeddings-tiny-bert.js";

const HIDDEN = 16;
const VOCAB = 30522;
const SEED = 7;

const available = hasTokenizer();
if (!available) console.warn(`skipping the cross-encoder tests: no tokenizer at ${TOKENIZER_DIR}`);

let root = "";
const models = { one: "", two: "", three: "", embed: "" };
type Tok = (a: string, o: { text_pair: string }) => { input_ids: { data: BigInt64Array }; token_type_ids: { data: BigInt64Array } };
let tokenizer: Tok;

beforeAll(async () => {
  if (!available) return;
  root = mkdtempSync(join(tmpdir(), "quiver-tiny-cross-encoder-"));
  models.one = writeTinyBert(root, { modelId: "test/tiny-ce-1", hidden: HIDDEN, seed: SEED, numLabels: 1 });
  models.two = writeTinyBert(root, { modelId: "test/tiny-ce-2", hidden: HIDDEN, seed: SEED, numLabels: 2 });
  models.three = writeTinyBert(root, { modelId: "test/tiny-ce-3", hidden: HIDDEN, seed: SEED, numLabels: 3 });
  models.embed = writeTinyBert(root, { modelId: "test/tiny-embed", hidden: HIDDEN, seed: SEED });
  const saved = { localModelPath: env.localModelPath, allowRemoteModels: env.allowRemoteModels };
  Object.assign(env, { localModelPath: `${root}/`, allowRemoteModels: false });
  try {
    tokenizer = (await AutoTokenizer.from_pretrained(models.one)) as unknown as Tok;
  } finally {
    Object.assign(env, saved);
  }
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const create = (extra: CrossEncoderOptions = {}): CrossEncoderReranker =>
  new rerankers.CrossEncoderReranker({ model: models.one, dtype: "fp32", localModelPath: root, allowRemoteModels: false, ...extra });

/** The graph by hand: mean over the pair's tokens of tanh(word[id] + type[tt]), times W, plus b. */
function logits(query: string, doc: string, numLabels: number): number[] {
  const word = randomFloats(VOCAB * HIDDEN, SEED);
  const type = randomFloats(2 * HIDDEN, SEED + 1);
  const w = randomFloats(HIDDEN * numLabels, SEED + 2);
  const b = randomFloats(numLabels, SEED + 3);
  const enc = tokenizer(query, { text_pair: doc });
  const ids = Array.from(enc.input_ids.data, Number);
  const tt = Array.from(enc.token_type_ids.data, Number);
  expect(tt).toContain(1); // the document really is the second segment
  const pooled = new Float64Array(HIDDEN);
  ids.forEach((id, i) => {
    for (let h = 0; h < HIDDEN; h++) pooled[h]! += Math.tanh(Math.fround(word[id * HIDDEN + h]! + type[tt[i]! * HIDDEN + h]!)) / ids.length;
  });
  return Array.from({ length: numLabels }, (_, l) => pooled.reduce((s, x, h) => s + x * w[h * numLabels + l]!, b[l]!));
}

const QUERY = "how do vaccines train the immune system";
const DOCS = [
  "Vaccines expose the immune system to an antigen so that it learns to recognise the pathogen.",
  "The stock market fell sharply on Tuesday.",
  "Immunization teaches the body to fight infection.",
  "A recipe for sourdough bread with a long fermentation.",
  "T cells and B cells form the adaptive immune response.",
  "Cats sleep for most of the day.",
  "mRNA vaccines encode the spike protein.",
];
const rows = (ids: number[], dist = false): RerankInputRow[] =>
  ids.map((i, rank) => ({ _rowid: i, id: i, text: DOCS[i]!, ...(dist ? { _distance: rank / 10 } : { _score: 10 - rank }) }));

const code = async (p: Promise<unknown>): Promise<string> => p.then(() => "none", (e: unknown) => (isQuiverError(e) ? e.code : String(e)));

describe.skipIf(!available)("CrossEncoderReranker (real transformers.js pipeline, tiny model)", () => {
  it("loads lazily with progress and scores each pair as the model computes it", async () => {
    const seen: string[] = [];
    const r = create({ onLoadProgress: (p) => seen.push(p.status) });
    expect(r.model).toBe(models.one);
    expect(seen).toEqual([]); // nothing loads at construction
    const scores = await r.score(QUERY, DOCS);
    expect(seen).toContain("ready");
    expect(scores).toHaveLength(DOCS.length);
    DOCS.forEach((d, i) => expect(scores[i]!).toBeCloseTo(logits(QUERY, d, 1)[0]!, 4));
    expect(new Set(scores).size).toBe(DOCS.length); // the scores really depend on the document
    expect((await r.score(QUERY, []))).toHaveLength(0);
  });

  it("orders hybrid, vector and full-text results by the recomputed scores, with _relevance_score", async () => {
    const r = await rerankers.CrossEncoderReranker.create({ model: models.one, dtype: "fp32", localModelPath: root, allowRemoteModels: false });
    const want = (ids: number[]) =>
      ids.map((i) => ({ id: i, s: logits(QUERY, DOCS[i]!, 1)[0]! })).sort((a, b) => b.s - a.s);
    const check = (got: Row[], ids: number[]) => {
      const w = want(ids);
      expect(got.map((g) => g.id)).toEqual(w.map((x) => x.id));
      got.forEach((g, i) => expect(g._relevance_score as number).toBeCloseTo(w[i]!.s, 4));
      for (const g of got) expect(g).not.toHaveProperty("_distance");
    };
    // Hybrid: rows 0 and 2 are in both lists and must appear once.
    check(await r.rerankHybrid(QUERY, rows([0, 1, 2, 3], true), rows([2, 4, 0, 5])), [0, 1, 2, 3, 4, 5]);
    check(await r.rerankVector(QUERY, rows([6, 5, 4, 3, 2], true)), [6, 5, 4, 3, 2]);
    check(await r.rerankFts(QUERY, rows([1, 0, 6])), [1, 0, 6]);
    const all = await create({ returnScore: "all" }).rerankHybrid(QUERY, rows([0, 1], true), rows([1, 2]));
    expect(all.find((x) => x.id === 1)).toMatchObject({ _distance: 0.1, _score: 10 });
  });

  it("scores in batches of batchSize with the same results as one batch", async () => {
    const small = create({ batchSize: 2 });
    const spy = vi.spyOn(small, "score");
    const a = await small.rerankVector(QUERY, rows([0, 1, 2, 3, 4, 5, 6], true));
    expect(spy.mock.calls.map((c) => c[1].length)).toEqual([2, 2, 2, 1]);
    const b = await create({ batchSize: 64 }).rerankVector(QUERY, rows([0, 1, 2, 3, 4, 5, 6], true));
    expect(a.map((x) => x.id)).toEqual(b.map((x) => x.id));
    // Padding in a batch does not change a pair's score.
    a.forEach((x, i) => expect(x._relevance_score).toBeCloseTo(b[i]!._relevance_score, 5));
  });

  it("picks the relevant logit: index 1 of two by default, a label by name, sigmoid / softmax", async () => {
    const two = create({ model: models.two });
    const s2 = await two.score(QUERY, DOCS.slice(0, 3));
    DOCS.slice(0, 3).forEach((d, i) => expect(s2[i]!).toBeCloseTo(logits(QUERY, d, 2)[1]!, 4));
    const byName = await create({ model: models.two, label: "LABEL_0" }).score(QUERY, DOCS.slice(0, 3));
    DOCS.slice(0, 3).forEach((d, i) => expect(byName[i]!).toBeCloseTo(logits(QUERY, d, 2)[0]!, 4));
    const soft = await create({ model: models.two, activation: "softmax" }).score(QUERY, DOCS.slice(0, 3));
    DOCS.slice(0, 3).forEach((d, i) => {
      const [l0, l1] = logits(QUERY, d, 2) as [number, number];
      expect(soft[i]!).toBeCloseTo(1 / (1 + Math.exp(l0 - l1)), 5);
    });
    const sig = await create({ activation: "sigmoid" }).score(QUERY, DOCS.slice(0, 3));
    DOCS.slice(0, 3).forEach((d, i) => expect(sig[i]!).toBeCloseTo(1 / (1 + Math.exp(-logits(QUERY, d, 1)[0]!)), 5));
    expect(await code(create({ model: models.three }).score(QUERY, DOCS))).toBe("INVALID_ARGUMENT"); // which of 3 labels?
    expect(await code(create({ model: models.three, label: 2 }).score(QUERY, DOCS))).toBe("none");
    expect(await code(create({ model: models.two, label: "nope" }).score(QUERY, DOCS))).toBe("INVALID_ARGUMENT");
  });

  it("reranks real table queries: hybrid search with an embedding function, and nearestTo + fullTextSearch", async () => {
    const fn = getRegistry().get("huggingface").create({ model: models.embed, dtype: "fp32", localModelPath: root, allowRemoteModels: false });
    const t = await (await connect("memory://")).createTable("docs", DOCS.map((text, id) => ({ id, text })), { embeddingFunction: { sourceColumn: "text", function: fn } });
    await t.createIndex("text", { config: Index.fts() });
    const r = create();
    const got = await t.search(QUERY, "hybrid").rerank(r).select(["id", "text"]).limit(5).toArray();
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThanOrEqual(5);
    const scores = got.map((g) => logits(QUERY, g.text as string, 1)[0]!);
    got.forEach((g, i) => expect(g._relevance_score as number).toBeCloseTo(scores[i]!, 4));
    for (let i = 1; i < scores.length; i++) expect(scores[i - 1]!).toBeGreaterThanOrEqual(scores[i]!);

    const v = await fn.computeQueryEmbeddings(QUERY);
    const q = await t.query().nearestTo(v).fullTextSearch("immune vaccines").rerank(r).select(["id", "text"]).limit(3).toArray();
    // The pairs are (full-text query, document): the text the reranker was given.
    q.forEach((g) => expect(g._relevance_score as number).toBeCloseTo(logits("immune vaccines", g.text as string, 1)[0]!, 4));
    // Without the text column the reranker cannot read the documents.
    expect(await code(t.search(QUERY, "hybrid").rerank(r).select(["id"]).limit(3).toArray())).toBe("INVALID_ARGUMENT");
  });

  it("fails with EMBEDDING_FAILED naming the model when its files are missing, and can retry", async () => {
    const missing = create({ model: "test/no-such-model" });
    const e = await missing.rerankFts(QUERY, rows([0, 1])).catch((x: unknown) => x);
    expect(isQuiverError(e, "EMBEDDING_FAILED")).toBe(true);
    expect(String((e as Error).message)).toContain("test/no-such-model");
    // Only the weights missing: the load fails, then succeeds once the file is back.
    const onnx = join(root, "test", "tiny-ce-1", "onnx", "model.onnx");
    renameSync(onnx, `${onnx}.away`);
    const r = create();
    try {
      expect(await code(r.init())).toBe("EMBEDDING_FAILED");
    } finally {
      renameSync(`${onnx}.away`, onnx);
    }
    expect(await code(r.init())).toBe("none");
  });

  it("checks its options and inputs with INVALID_ARGUMENT", async () => {
    for (const bad of [{ batchSize: 0 }, { dtype: "fp64" }, { activation: "relu" }, { model: "" }, { label: -1 }, { maxLength: 1 }, { column: "" }] as CrossEncoderOptions[]) {
      expect(() => create(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
    const r = create({ column: "body" });
    expect(await code(r.rerankFts(QUERY, rows([0])))).toBe("INVALID_ARGUMENT"); // rows have text, not body
    expect(await code(create().rerankFts(QUERY, [{ id: 1, text: "x" } as RerankInputRow]))).toBe("INVALID_ARGUMENT"); // no _rowid
    expect(r.inWorker).toBe(false); // no DOM in Node: inWorker is ignored
    expect(create({ inWorker: true }).inWorker).toBe(false);
  });

  it("truncates long documents to maxLength tokens", async () => {
    const long = `${DOCS[0]} ${"antigen ".repeat(600)}`;
    const [full] = await create().score(QUERY, [long]); // cut at the tokenizer's 512
    const [cut] = await create({ maxLength: 16 }).score(QUERY, [long]);
    expect(Number.isFinite(full)).toBe(true);
    expect(cut).not.toBeCloseTo(full!, 6);
  });
});
