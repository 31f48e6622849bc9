/**
 * The huggingface embedding function in real Chromium: the transformers.js web build with
 * onnxruntime-web (WASM), on the page's main thread and inside its dedicated worker (`inWorker`), on
 * the tiny BERT-shaped model of the unit tests, written here under node_modules/.cache/ so Vite serves it.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import type { EmbedReport } from "./fixture/embeddings-main.js";
import { hasTokenizer, randomFloats, writeTinyBert } from "../unit/embeddings-tiny-bert.js";

const HIDDEN = 16;
const CACHE = join(import.meta.dirname, "..", "..", "node_modules", ".cache");

test.skip(!hasTokenizer(), "no tokenizer files in ../shared/data/all-MiniLM-L6-v2-tokenizer");

// One folder per Playwright worker: tests of this file may run in parallel workers.
let MODEL_URL = "";
test.beforeAll(({}, info) => {
  const name = `quiver-tiny-bert-${info.workerIndex}`;
  rmSync(join(CACHE, name), { recursive: true, force: true });
  writeTinyBert(join(CACHE, name), { hidden: HIDDEN, seed: 3 });
  MODEL_URL = `/node_modules/.cache/${name}/`;
});

type Api = {
  embed(path: string, inWorker: boolean, texts: string[]): Promise<EmbedReport>;
  missing(path: string, inWorker: boolean): Promise<{ name: string; code?: string; message: string }>;
  inQuiverWorker(path: string, texts: string[]): Promise<{ nearest: number; rows: number; maxDiff: number }>;
};

async function open(page: Page): Promise<void> {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/embeddings.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
}

/** Mean of tanh(word + type) over the tokens, normalized: what the tiny graph + pooling compute. */
function expected(ids: readonly number[]): number[] {
  const word = randomFloats(30522 * HIDDEN, 3);
  const type = randomFloats(2 * HIDDEN, 4);
  const v = Array.from({ length: HIDDEN }, (_, h) => ids.reduce((s, id) => s + Math.tanh(Math.fround(word[id * HIDDEN + h]! + type[h]!)), 0));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const TEXTS = ["Hello world! The quick brown fox.", "hello WORLD! the quick brown fox.", "A different sentence.", "Hello world! The quick brown fox."];

for (const inWorker of [true, false]) {
  const where = inWorker ? "in a dedicated worker" : "on the main thread";
  test(`huggingface function runs the real pipeline ${where}`, async ({ page }) => {
    await open(page);
    const r = await page.evaluate(([path, w, texts]) => (globalThis as unknown as { quiverEmbeddings: Api }).quiverEmbeddings.embed(path, w, texts), [MODEL_URL, inWorker, TEXTS] as const);
    expect(r.inWorker).toBe(inWorker);
    expect(r.mainThreadLoadedTransformers).toBe(!inWorker);
    expect(r.ndims).toBe(HIDDEN);
    if (!inWorker) expect(r.statuses.at(-1)).toBe("ready"); // progress callbacks cross the worker hop too, but may trail the result
    expect(r.statuses).toContain("ready");
    const want = expected([101, 7592, 2088, 999, 1996, 4248, 2829, 4419, 1012, 102]);
    r.vectors[0]!.forEach((x, h) => expect(x).toBeCloseTo(want[h]!, 5));
    expect(r.vectors[1]).toEqual(r.vectors[0]);
    expect(r.vectors[3]).toEqual(r.vectors[0]);
    expect(r.vectors[2]).not.toEqual(r.vectors[0]);
    r.query.forEach((x, h) => expect(x).toBeCloseTo(r.vectors[0]![h]!, 6));
    expect(r.stats).toEqual({ cacheHits: 1, computed: 3, batches: 2 });
  });

  test(`a missing model fails with EMBEDDING_FAILED ${where}`, async ({ page }) => {
    await open(page);
    const e = await page.evaluate(([path, w]) => (globalThis as unknown as { quiverEmbeddings: Api }).quiverEmbeddings.missing(path, w), [MODEL_URL, inWorker] as const);
    expect(e).toMatchObject({ name: "QuiverError", code: "EMBEDDING_FAILED" });
    expect(e.message).toMatch(/Xenova\/not-here/);
  });
}

test("inside quiverdb/worker (whose script carries no transformers.js) the function runs in a nested worker and embeds as the page does", async ({ page }) => {
  await open(page);
  const r = await page.evaluate(([path, texts]) => (globalThis as unknown as { quiverEmbeddings: Api }).quiverEmbeddings.inQuiverWorker(path, texts), [MODEL_URL, TEXTS] as const);
  expect(r.rows).toBe(TEXTS.length);
  expect(r.nearest).toBe(2);
  expect(r.maxDiff).toBeLessThan(1e-6);
});
