import { describe, expect, it } from "vitest";
import {
  EmbeddingCache, EmbeddingFunctionRegistry, getRegistry, withBatching, embedRows, embedQuery, embeddingDimension,
  serializeEmbeddingConfig, restoreEmbeddingConfig, batchedFunction, EMBEDDING_CONFIG_KEY,
  type EmbeddingFunction, type EmbeddingFunctionJSON,
} from "../../src/embeddings/index.js";
import { configKey } from "../../src/embeddings/cache.js";
import { isQuiverError } from "../../src/errors.js";

/** A deterministic toy function: letter counts, optionally scaled; records every call. */
class LetterCounts implements EmbeddingFunction {
  readonly embeddingDataType = "float32" as const;
  readonly calls: string[][] = [];
  constructor(readonly options: { scale?: number; dims?: number; broken?: "short" | "nan" | "count" } = {}) {}
  ndims(): number { return this.options.dims ?? 26; }
  toJSON(): EmbeddingFunctionJSON { return { name: "letters", ...this.options }; }
  async computeSourceEmbeddings(texts: string[]): Promise<number[][]> {
    this.calls.push([...texts]);
    const out = texts.map((t) => {
      const v = new Array<number>(26).fill(0);
      for (const ch of t.toLowerCase()) if (ch >= "a" && ch <= "z") v[ch.charCodeAt(0) - 97]! += this.options.scale ?? 1;
      if (this.options.broken === "short") v.pop();
      if (this.options.broken === "nan") v[3] = NaN;
      return v;
    });
    return this.options.broken === "count" ? out.slice(1) : out;
  }
  async computeQueryEmbeddings(q: string): Promise<number[]> {
    return (await this.computeSourceEmbeddings([q]))[0]!.map((x) => -x);
  }
}

const code = async (p: Promise<unknown> | (() => unknown)): Promise<string | undefined> => {
  try { await (typeof p === "function" ? p() : p); } catch (e) { return isQuiverError(e) ? e.code : `not a QuiverError: ${String(e)}`; }
  return undefined;
};

describe("registry", () => {
  it("has the built-ins and creates functions from them", () => {
    const reg = getRegistry();
    expect(reg.names()).toEqual(expect.arrayContaining(["huggingface", "openai"]));
    const hf = reg.get("huggingface").create({ model: "Xenova/all-MiniLM-L6-v2", dtype: "q8" });
    expect(hf.ndims()).toBe(384);
    expect(hf.toJSON()).toEqual({ name: "huggingface", model: "Xenova/all-MiniLM-L6-v2", dtype: "q8", pooling: "mean", normalize: true });
    const oa = reg.get("openai").create({ model: "text-embedding-3-small", apiKey: "sk-secret", dimensions: 256 });
    expect(oa.ndims()).toBe(256);
    expect(JSON.stringify(oa.toJSON())).not.toContain("sk-secret");
  });

  it("registers user functions, refuses silent replacement, and names what is missing", async () => {
    const reg = new EmbeddingFunctionRegistry();
    reg.register<LetterCounts["options"]>("letters", { create: (o) => new LetterCounts(o) });
    expect(reg.get("letters").create({ scale: 2 }).toJSON()).toEqual({ name: "letters", scale: 2 });
    expect(await code(() => reg.register("letters", { create: () => new LetterCounts() }))).toBe("INVALID_ARGUMENT");
    reg.register("letters", { create: () => new LetterCounts({ scale: 3 }) }, { replace: true });
    expect(reg.get("letters").create().toJSON()).toEqual({ name: "letters", scale: 3 });
    expect(await code(() => reg.register("x", {} as never))).toBe("INVALID_ARGUMENT");
    expect(await code(() => reg.get("nope"))).toBe("NOT_FOUND");
    expect(() => reg.get("nope")).toThrow(/registered: letters/);
  });

  it("rejects bad built-in options", async () => {
    const reg = getRegistry();
    expect(await code(() => reg.get("huggingface").create({ dtype: "fp64" }))).toBe("INVALID_ARGUMENT");
    expect(await code(() => reg.get("huggingface").create({ pooling: "max" }))).toBe("INVALID_ARGUMENT");
    expect(await code(() => reg.get("openai").create({ baseUrl: "not a url" }))).toBe("INVALID_ARGUMENT");
    expect(await code(() => reg.get("openai").create({ maxRetries: -1 }))).toBe("INVALID_ARGUMENT");
  });
});

describe("withBatching", () => {
  it("embeds in batches, reports progress, and returns Float32Arrays in order", async () => {
    const inner = new LetterCounts();
    const fn = withBatching(inner, { batchSize: 3, cache: false });
    const texts = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g"];
    const seen: { done: number; total: number }[] = [];
    const out = await fn.embed(texts, { progress: (p) => seen.push(p) });
    expect(inner.calls).toEqual([["a", "bb", "ccc"], ["dddd", "eeeee", "ffffff"], ["g"]]);
    expect(seen).toEqual([{ done: 3, total: 7 }, { done: 6, total: 7 }, { done: 7, total: 7 }]);
    expect(out.every((v) => v instanceof Float32Array && v.length === 26)).toBe(true);
    expect(out.map((v, i) => v[i === 6 ? 6 : i])).toEqual([1, 2, 3, 4, 5, 6, 1]);
    expect(fn.stats()).toEqual({ cacheHits: 0, computed: 7, batches: 3 });
  });

  it("does not re-embed text it has seen: cache keyed by (config, text)", async () => {
    const cache = new EmbeddingCache({ maxEntries: 100 });
    const inner = new LetterCounts();
    const fn = withBatching(inner, { batchSize: 2, cache });
    const first = await fn.embed(["cat", "dog", "cat"]);
    expect(inner.calls).toEqual([["cat", "dog"]]);
    expect(first[0]).toBe(first[2]);
    const progress: number[] = [];
    const again = await fn.embed(["dog", "cat", "eel"], { progress: (p) => progress.push(p.done) });
    expect(inner.calls).toEqual([["cat", "dog"], ["eel"]]);
    expect(again[0]).toEqual(first[1]);
    expect(progress).toEqual([2, 3]);
    expect(fn.stats()).toEqual({ cacheHits: 3, computed: 3, batches: 2 });
    expect(cache.stats()).toMatchObject({ hits: 2, size: 3 });
    // Another function with the same config shares the entries; a different config does not.
    const twin = new LetterCounts();
    await withBatching(twin, { cache }).embed(["cat"]);
    expect(twin.calls).toEqual([]);
    const scaled = new LetterCounts({ scale: 2 });
    const [s] = await withBatching(scaled, { cache }).embed(["cat"]);
    expect(scaled.calls).toEqual([["cat"]]);
    expect(s![0]).toBe(2);
  });

  it("evicts the least recently used vectors past maxEntries", async () => {
    const cache = new EmbeddingCache({ maxEntries: 2 });
    const inner = new LetterCounts();
    const fn = withBatching(inner, { cache });
    await fn.embed(["a", "b"]);
    await fn.embed(["a"]); // a is now the most recent
    await fn.embed(["c"]); // evicts b
    await fn.embed(["a", "b"]);
    expect(inner.calls).toEqual([["a", "b"], ["c"], ["b"]]);
    expect(cache.stats().size).toBe(2);
  });

  it("checks what the function returns", async () => {
    expect(await code(withBatching(new LetterCounts({ broken: "short" }), { cache: false }).embed(["x"]))).toBe("DIMENSION_MISMATCH");
    expect(await code(withBatching(new LetterCounts({ broken: "nan" }), { cache: false }).embed(["x"]))).toBe("INVALID_VECTOR");
    expect(await code(withBatching(new LetterCounts({ broken: "count" }), { cache: false }).embed(["x", "y"]))).toBe("INVALID_VECTOR");
    expect(await code(withBatching(new LetterCounts(), { cache: false }).embed([3 as unknown as string]))).toBe("INVALID_ARGUMENT");
    expect(await code(() => withBatching(new LetterCounts(), { batchSize: 0 }))).toBe("INVALID_ARGUMENT");
  });

  it("embeds queries with the query method, uncached", async () => {
    const inner = new LetterCounts();
    const fn = withBatching(inner, { cache: new EmbeddingCache() });
    const q = await fn.computeQueryEmbeddings("ab");
    expect(q).toBeInstanceOf(Float32Array);
    expect(Array.from(q.slice(0, 3))).toEqual([-1, -1, -0]);
    await fn.computeQueryEmbeddings("ab");
    expect(inner.calls.length).toBe(2);
  });

  it("handles an empty list", async () => {
    const seen: unknown[] = [];
    expect(await withBatching(new LetterCounts(), { cache: false }).embed([], { progress: (p) => seen.push(p) })).toEqual([]);
    expect(seen).toEqual([{ done: 0, total: 0 }]);
  });
});

describe("table helpers", () => {
  it("embedRows fills the vector column, leaves nulls null and keeps given vectors", async () => {
    const fn = withBatching(new LetterCounts(), { cache: false, batchSize: 2 });
    const given = new Float32Array(26).fill(9);
    const rows = [
      { id: 1, text: "abc" },
      { id: 2, text: null },
      { id: 3 },
      { id: 4, text: "zz", vector: given },
      { id: 5, text: "b" },
    ];
    const progress: unknown[] = [];
    const out = await embedRows({ sourceColumn: "text", function: fn }, rows, { progress: (p) => progress.push(p) });
    expect(rows[0]).toEqual({ id: 1, text: "abc" }); // input untouched
    expect(Array.from((out[0]!.vector as Float32Array).slice(0, 3))).toEqual([1, 1, 1]);
    expect(out[1]!.vector).toBeNull();
    expect(out[2]!.vector).toBeNull();
    expect(out[3]!.vector).toBe(given);
    expect((out[4]!.vector as Float32Array)[1]).toBe(1);
    expect(progress).toEqual([{ done: 2, total: 2 }]);
    const over = await embedRows({ sourceColumn: "text", vectorColumn: "vector", function: fn }, rows, { overwrite: true });
    expect((over[3]!.vector as Float32Array)[25]).toBe(2);
    expect(fn.stats().computed).toBe(5);
  });

  it("embedRows rejects non-text sources and bad configs", async () => {
    const fn = new LetterCounts();
    expect(await code(embedRows({ sourceColumn: "text", function: fn }, [{ text: 5 }]))).toBe("INVALID_ARGUMENT");
    expect(await code(embedRows({ sourceColumn: "v", vectorColumn: "v", function: fn }, []))).toBe("INVALID_ARGUMENT");
    expect(await code(embedRows({ sourceColumn: "text", function: {} as never }, []))).toBe("INVALID_ARGUMENT");
  });

  it("wraps plain functions once, with the shared cache", async () => {
    const fn = new LetterCounts({ scale: 7 });
    expect(batchedFunction(fn)).toBe(batchedFunction(fn));
    await embedRows({ sourceColumn: "t", function: fn }, [{ t: "unique text 7f3a" }]);
    await embedRows({ sourceColumn: "t", function: fn }, [{ t: "unique text 7f3a" }]);
    expect(fn.calls).toEqual([["unique text 7f3a"]]);
  });

  it("embedQuery and embeddingDimension", async () => {
    const config = { sourceColumn: "text", function: new LetterCounts() };
    expect((await embedQuery(config, "a"))[0]).toBe(-1);
    expect(await embeddingDimension(config)).toBe(26);
    const unknown = new (class extends LetterCounts { override ndims(): number { return undefined as unknown as number; } })();
    expect(await embeddingDimension({ sourceColumn: "text", function: unknown })).toBe(26);
  });

  it("serializes to JSON and restores through the registry", async () => {
    const registry = new EmbeddingFunctionRegistry().register<LetterCounts["options"]>("letters", { create: (o) => new LetterCounts(o) });
    const saved = serializeEmbeddingConfig({ sourceColumn: "body", vectorColumn: "emb", function: new LetterCounts({ scale: 2 }) });
    expect(saved).toEqual({ sourceColumn: "body", vectorColumn: "emb", function: { name: "letters", scale: 2 } });
    const manifestConfig = JSON.parse(JSON.stringify({ [EMBEDDING_CONFIG_KEY]: [saved] })) as Record<string, unknown[]>;
    const restored = restoreEmbeddingConfig(manifestConfig[EMBEDDING_CONFIG_KEY]![0], { registry });
    expect(restored.sourceColumn).toBe("body");
    expect(restored.vectorColumn).toBe("emb");
    expect((await embedRows(restored, [{ body: "a" }]))[0]!.emb).toEqual(new Float32Array(26).fill(0).fill(2, 0, 1));
    const withOverride = restoreEmbeddingConfig(saved, { registry, functionOptions: { letters: { scale: 5 } } });
    expect(withOverride.function.toJSON()).toEqual({ name: "letters", scale: 5 });
    expect(await code(() => restoreEmbeddingConfig(saved))).toBe("NOT_FOUND"); // not in the global registry
    expect(() => restoreEmbeddingConfig(saved)).toThrow(/"letters".*register\("letters"/);
    expect(await code(() => restoreEmbeddingConfig({ sourceColumn: "a" }))).toBe("INVALID_ARGUMENT");
  });

  it("round-trips the built-ins without secrets", () => {
    const saved = serializeEmbeddingConfig({ sourceColumn: "text", function: getRegistry().get("openai").create({ apiKey: "sk-1", baseUrl: "http://127.0.0.1:1/v1", model: "m" }) });
    expect(saved.function).toEqual({ name: "openai", model: "m", baseUrl: "http://127.0.0.1:1/v1" });
    const again = restoreEmbeddingConfig(saved);
    expect(again.function.toJSON()).toEqual(saved.function);
    const hf = restoreEmbeddingConfig(serializeEmbeddingConfig({ sourceColumn: "text", function: getRegistry().get("huggingface").create({ model: "Xenova/bge-base-en-v1.5", onLoadProgress: () => {} }) }));
    expect(hf.function.ndims()).toBe(768);
    expect(hf.function.toJSON()).toEqual({ name: "huggingface", model: "Xenova/bge-base-en-v1.5", pooling: "mean", normalize: true });
  });

  it("config keys ignore option order", () => {
    expect(configKey({ name: "a", x: 1, y: { b: 1, a: 2 } })).toBe(configKey({ y: { a: 2, b: 1 }, x: 1, name: "a" }));
  });
});

describe("bundling", () => {
  it("keeps @huggingface/transformers out of the entry chunk (loaded only when the function runs)", async () => {
    const { build } = await import("esbuild");
    const result = await build({
      entryPoints: [new URL("../../src/index.ts", import.meta.url).pathname],
      bundle: true, format: "esm", splitting: true, platform: "browser", write: false, outdir: "/virtual", logLevel: "silent",
      external: ["apache-arrow"],
    });
    const entry = result.outputFiles.find((f) => f.path.endsWith("/index.js"))!;
    const lazy = result.outputFiles.filter((f) => /transformers/.test(f.path));
    expect(lazy.length).toBe(1);
    expect(lazy[0]!.contents.length).toBeGreaterThan(500_000);
    expect(entry.text).not.toMatch(/onnxruntime/);
    // Reached only through a dynamic import (of the pipeline module, which imports transformers.js).
    expect(result.outputFiles.some((f) => /import\("\.\/transformers[^"]*\.js"\)/.test(f.text))).toBe(true);
  });

  it("leaves transformers.js out of the browser worker script even when a bundler inlines every dynamic import", async () => {
    // Vite's default worker format (IIFE) inlines dynamic imports; esbuild without splitting does the same.
    const { build } = await import("esbuild");
    const result = await build({
      entryPoints: [new URL("../../src/worker/worker.ts", import.meta.url).pathname],
      bundle: true, format: "iife", platform: "browser", write: false, outdir: "/virtual", logLevel: "silent",
      external: ["apache-arrow"], loader: { ".wasm": "file" },
    });
    const text = result.outputFiles.filter((f) => f.path.endsWith(".js")).map((f) => f.text).join("");
    expect(text).not.toMatch(/onnxruntime/);
    // Embedding functions there use a nested worker of their own.
    expect(text).toMatch(/hf-worker\.js/);
  });
});
