/**
 * CrossEncoderReranker in real Chromium: the transformers.js web build with onnxruntime-web (WASM), on
 * the page's main thread and inside its dedicated worker (`inWorker`), on the tiny
 * sequence-classification model of the unit tests, written under node_modules/.cache/ so Vite serves
 * it. Expected scores are recomputed here in Node from the model's weights and the tokenizer's ids.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { AutoTokenizer, env } from "@huggingface/transformers";
import type { RerankReport } from "./fixture/cross-encoder-main.js";
import { hasTokenizer, randomFloats, writeTinyBert } from "../unit/embeddings-tiny-bert.js";

const HIDDEN = 16;
const SEED = 5;
const MODEL = "test/tiny-ce";
const CACHE = join(import.meta.dirname, "..", "..", "node_modules", ".cache");

test.skip(!hasTokenizer(), "no tokenizer files in ../shared/data/all-MiniLM-L6-v2-tokenizer");

let MODEL_URL = "";
let dir = "";
test.beforeAll(({}, info) => {
  const name = `quiver-tiny-ce-${info.workerIndex}`;
  dir = join(CACHE, name);
  rmSync(dir, { recursive: true, force: true });
  writeTinyBert(dir, { modelId: MODEL, hidden: HIDDEN, seed: SEED, numLabels: 1 });
  MODEL_URL = `/node_modules/.cache/${name}/`;
});

type Api = {
  rerank(path: string, inWorker: boolean, model: string, query: string, docs: string[]): Promise<RerankReport>;
  missing(path: string, inWorker: boolean): Promise<{ name: string; code?: string; message: string }>;
};

async function open(page: Page): Promise<void> {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/cross-encoder.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
}

/** The graph by hand: masked mean of tanh(word[id] + type[tt]) over the pair's tokens, · W + b. */
async function expectedScores(query: string, docs: string[]): Promise<number[]> {
  const saved = { localModelPath: env.localModelPath, allowRemoteModels: env.allowRemoteModels };
  Object.assign(env, { localModelPath: `${dir}/`, allowRemoteModels: false });
  const tok = (await AutoTokenizer.from_pretrained(MODEL).finally(() => Object.assign(env, saved))) as unknown as (a: string, o: { text_pair: string }) => { input_ids: { data: BigInt64Array }; token_type_ids: { data: BigInt64Array } };
  const word = randomFloats(30522 * HIDDEN, SEED);
  const type = randomFloats(2 * HIDDEN, SEED + 1);
  const w = randomFloats(HIDDEN, SEED + 2);
  const b = randomFloats(1, SEED + 3);
  return docs.map((d) => {
    const enc = tok(query, { text_pair: d });
    const ids = Array.from(enc.input_ids.data, Number);
    const tt = Array.from(enc.token_type_ids.data, Number);
    let s = b[0]!;
    for (let h = 0; h < HIDDEN; h++) {
      let m = 0;
      ids.forEach((id, i) => (m += Math.tanh(Math.fround(word[id * HIDDEN + h]! + type[tt[i]! * HIDDEN + h]!))));
      s += (m / ids.length) * w[h]!;
    }
    return s;
  });
}

const QUERY = "how do vaccines train the immune system";
const DOCS = ["Vaccines teach the immune system.", "The stock market fell.", "Immunization fights infection.", "Sourdough bread.", "T cells and B cells."];

for (const inWorker of [true, false]) {
  const where = inWorker ? "in a dedicated worker" : "on the main thread";
  test(`CrossEncoderReranker runs the real model ${where}`, async ({ page }) => {
    await open(page);
    const r = await page.evaluate(([path, w, m, q, d]) => (globalThis as unknown as { quiverCrossEncoder: Api }).quiverCrossEncoder.rerank(path, w, m, q, d), [MODEL_URL, inWorker, MODEL, QUERY, DOCS] as const);
    expect(r.inWorker).toBe(inWorker);
    expect(r.statuses).toContain("ready");
    const want = await expectedScores(QUERY, DOCS);
    r.scores.forEach((s, i) => expect(s).toBeCloseTo(want[i]!, 4));
    const order = DOCS.map((_, i) => i).sort((a, b) => want[b]! - want[a]!);
    expect(r.ranked.map((x) => x.id)).toEqual(order);
  });

  test(`a missing cross-encoder fails with EMBEDDING_FAILED ${where}`, async ({ page }) => {
    await open(page);
    const e = await page.evaluate(([path, w]) => (globalThis as unknown as { quiverCrossEncoder: Api }).quiverCrossEncoder.missing(path, w), [MODEL_URL, inWorker] as const);
    expect(e).toMatchObject({ name: "QuiverError", code: "EMBEDDING_FAILED" });
    expect(e.message).toMatch(/test\/not-here/);
  });
}
