/**
 * The "huggingface" function end to end with the real transformers.js pipeline — tokenizer, ONNX
 * runtime, pooling — on a tiny BERT-shaped model this test writes to a temp folder (no weights can be
 * downloaded here). The expected vectors are recomputed by hand from the model's embedding table.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env } from "@huggingface/transformers";
import {
  EmbeddingCache, getRegistry, withBatching, embedRows, restoreEmbeddingConfig, serializeEmbeddingConfig,
  type HuggingFaceEmbeddingFunction, type ModelLoadProgress,
} from "../../src/embeddings/index.js";
import { isQuiverError } from "../../src/errors.js";
import { hasTokenizer, randomFloats, TOKENIZER_DIR, writeTinyBert } from "./embeddings-tiny-bert.js";

const HIDDEN = 32;
const VOCAB = 30522;

const available = hasTokenizer();
if (!available) console.warn(`skipping the huggingface pipeline tests: no tokenizer at ${TOKENIZER_DIR}`);

let root = "";
let model = "";
beforeAll(() => {
  if (!available) return;
  root = mkdtempSync(join(tmpdir(), "quiver-tiny-bert-"));
  model = writeTinyBert(root, { hidden: HIDDEN, seed: 1 });
});
afterAll(() => { if (root) rmSync(root, { recursive: true, force: true }); });

const create = (extra: Record<string, unknown> = {}): HuggingFaceEmbeddingFunction =>
  getRegistry().get("huggingface").create({ model, dtype: "fp32", localModelPath: root, allowRemoteModels: false, ...extra }) as HuggingFaceEmbeddingFunction;

/** What the graph + mean pooling + normalize compute for one token id sequence (token type 0, no padding). */
function expected(ids: readonly number[]): Float32Array {
  const word = randomFloats(VOCAB * HIDDEN, 1);
  const type = randomFloats(2 * HIDDEN, 2);
  const v = new Float64Array(HIDDEN);
  for (const id of ids) for (let h = 0; h < HIDDEN; h++) v[h]! += Math.tanh(Math.fround(word[id * HIDDEN + h]! + type[h]!));
  const norm = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / norm);
}

const cosine = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: Float32Array): number => Math.sqrt(cosine(a, a));

describe.skipIf(!available)("huggingface embedding function (real pipeline, tiny model)", () => {
  it("loads lazily from the local folder with progress, and embeds what the graph computes", async () => {
    const progress: ModelLoadProgress[] = [];
    const fn = create({ onLoadProgress: (p: ModelLoadProgress) => progress.push(p) });
    expect(fn.ndims()).toBeUndefined(); // unknown model: known after loading
    expect(progress).toEqual([]);
    await fn.init();
    expect(fn.ndims()).toBe(HIDDEN);
    expect(progress.some((p) => p.status === "done" && p.file === "onnx/model.onnx")).toBe(true);
    expect(progress.at(-1)!.status).toBe("ready");

    const [v] = await fn.computeSourceEmbeddings(["Hello world! The quick brown fox."]);
    // Token ids as SOURCE.md lists them for this tokenizer: [CLS] hello world ! the quick brown fox . [SEP]
    const want = expected([101, 7592, 2088, 999, 1996, 4248, 2829, 4419, 1012, 102]);
    expect(v!.length).toBe(HIDDEN);
    for (let h = 0; h < HIDDEN; h++) expect(v![h]).toBeCloseTo(want[h]!, 5);
  });

  it("is deterministic, normalized, and sensitive to tokens but not to case or batch padding", async () => {
    const cache = new EmbeddingCache();
    const fn = withBatching(create(), { batchSize: 2, cache });
    const texts = ["The cat sat on the mat.", "A dog barked.", "the CAT sat on the MAT.", "The cat sat on the hat.", "A dog barked.", "short"];
    const progress: number[] = [];
    const vs = await fn.embed(texts, { progress: (p) => progress.push(p.done) });
    expect(vs.map((v) => v.length)).toEqual(Array(6).fill(HIDDEN));
    for (const v of vs) expect(norm(v)).toBeCloseTo(1, 5);
    expect(vs[2]).toEqual(vs[0]); // uncased tokenizer
    expect(vs[4]).toBe(vs[1]); // repeated text: computed once
    expect(cosine(vs[0]!, vs[3]!)).toBeLessThan(0.9999); // one token differs
    expect(cosine(vs[0]!, vs[1]!)).toBeLessThan(cosine(vs[0]!, vs[3]!));
    // 5 unique texts in batches of 2 → 3 model runs; progress counts texts, the repeat done with its twin.
    expect(fn.stats()).toEqual({ cacheHits: 1, computed: 5, batches: 3 });
    expect(progress).toEqual([3, 5, 6]);

    // A fresh function (own pipeline, no cache) gives the same vectors; "short" alone (no padding)
    // equals "short" padded in a batch.
    const fresh = create();
    const alone = await fresh.computeSourceEmbeddings(["short"]);
    for (let h = 0; h < HIDDEN; h++) expect(alone[0]![h]).toBeCloseTo(vs[5]![h]!, 6);
    const again = await fresh.computeSourceEmbeddings(texts.slice(0, 2));
    expect(again[0]).toEqual(vs[0]);

    // Re-adding the same rows hits the cache only.
    const rows = await embedRows({ sourceColumn: "text", function: fn }, texts.map((text, id) => ({ id, text })));
    expect(rows[3]!.vector).toBe(vs[3]);
    expect(fn.stats()).toMatchObject({ computed: 5, batches: 3 });
    expect(cache.stats().hits).toBeGreaterThanOrEqual(6);
  });

  it("embeds queries the same way unless a query prefix is set", async () => {
    const plain = create();
    const [doc] = await plain.computeSourceEmbeddings(["what is a vector"]);
    expect(await plain.computeQueryEmbeddings("what is a vector")).toEqual(doc);
    const prefixed = create({ queryPrefix: "query: " });
    expect(cosine(await prefixed.computeQueryEmbeddings("what is a vector"), doc!)).toBeLessThan(0.9999);
  });

  it("restores from its saved config and embeds identically", async () => {
    const fn = create();
    const saved = serializeEmbeddingConfig({ sourceColumn: "text", function: fn });
    expect(saved.function).toEqual({ name: "huggingface", model, dtype: "fp32", pooling: "mean", normalize: true, localModelPath: root, allowRemoteModels: false });
    const restored = restoreEmbeddingConfig(JSON.parse(JSON.stringify(saved)));
    expect(await restored.function.computeSourceEmbeddings(["x y z"])).toEqual(await fn.computeSourceEmbeddings(["x y z"]));
  });

  it("puts transformers.js's global env back after loading", async () => {
    const before = { localModelPath: env.localModelPath, allowRemoteModels: env.allowRemoteModels };
    await create({ pooling: "cls" }).init();
    expect({ localModelPath: env.localModelPath, allowRemoteModels: env.allowRemoteModels }).toEqual(before);
  });

  it("fails with EMBEDDING_FAILED naming the model when files are missing, and can retry", async () => {
    const missing = create({ model: "Xenova/not-here" });
    const e1 = await missing.computeSourceEmbeddings(["x"]).catch((e: unknown) => e);
    expect(isQuiverError(e1, "EMBEDDING_FAILED")).toBe(true);
    expect(String((e1 as Error).message)).toMatch(/"Xenova\/not-here" from .*remote models disallowed/);
    const q8 = create({ dtype: "q8" }); // onnx/model_quantized.onnx was never written
    const e2 = await q8.init().catch((e: unknown) => e);
    expect(isQuiverError(e2, "EMBEDDING_FAILED")).toBe(true);
    expect(String((e2 as Error).message)).toMatch(/model_quantized\.onnx/);
    const e3 = await q8.init().catch((e: unknown) => e); // the failed load is not cached forever
    expect(isQuiverError(e3, "EMBEDDING_FAILED")).toBe(true);
  });
});
