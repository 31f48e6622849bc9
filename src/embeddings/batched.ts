/**
 * `withBatching(fn)`: an embedding function wrapped with what every function needs and none should
 * write itself: batching, progress, a cache keyed by (config, text), and checks on what comes back.
 *
 *   texts ──► cache lookup ──► unique misses ──► batches of batchSize ──► fn.computeSourceEmbeddings
 *                  ▲                                                        │ checked: count, length, finite
 *                  └──────────────── cache fill ◄───────────────────────────┘ progress after each batch
 */
import { createError } from "../errors.js";
import { EmbeddingCache, configKey, defaultEmbeddingCache } from "./cache.js";
import type { EmbeddingFunction, EmbeddingFunctionJSON, EmbeddingProgress } from "./types.js";

export interface BatchingOptions {
  /**
   * Texts per call to the wrapped function. Default: the function's `preferredBatchSize`, else 32.
   * Larger batches amortize per-call overhead (HTTP round trips, ONNX session runs) but pad every
   * text to the batch's longest and report progress less often.
   */
  batchSize?: number;
  /** Where vectors are remembered. Default: the process-wide `defaultEmbeddingCache`; `false` disables caching. */
  cache?: EmbeddingCache | false;
}

export interface EmbedOptions {
  /** Called after each batch with texts done so far (cache hits count as done at once). */
  progress?: (progress: EmbeddingProgress) => void;
}

export interface BatchingStats {
  /** Texts answered from the cache (including repeats within one call). */
  cacheHits: number;
  /** Texts sent to the wrapped function. */
  computed: number;
  /** Calls made to the wrapped function. */
  batches: number;
}

function toFloat32(v: Float32Array | number[] | undefined, where: string, dims: number | undefined): Float32Array {
  if (!(v instanceof Float32Array) && !Array.isArray(v)) {
    throw createError("INVALID_VECTOR", `${where} is not a vector (got ${v === null ? "null" : typeof v}).`);
  }
  const out = v instanceof Float32Array ? v : Float32Array.from(v);
  if (out.length === 0) throw createError("INVALID_VECTOR", `${where} is empty.`);
  if (dims !== undefined && out.length !== dims) {
    throw createError("DIMENSION_MISMATCH", `${where} has ${out.length} dimensions; the function declares ${dims}.`, { expected: dims, actual: out.length });
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw createError("INVALID_VECTOR", `${where} holds ${out[i]} at index ${i}.`);
  }
  return out;
}

export class BatchedEmbeddingFunction implements EmbeddingFunction {
  readonly embeddingDataType = "float32" as const;
  readonly batchSize: number;
  readonly #cache: EmbeddingCache | undefined;
  readonly #stats: BatchingStats = { cacheHits: 0, computed: 0, batches: 0 };
  #key: string | undefined;
  #dims: number | undefined;

  constructor(readonly inner: EmbeddingFunction, options: BatchingOptions = {}) {
    const size = options.batchSize ?? inner.preferredBatchSize ?? 32;
    if (!Number.isInteger(size) || size < 1) throw createError("INVALID_ARGUMENT", `batchSize must be an integer >= 1, got ${String(size)}.`);
    this.batchSize = size;
    this.#cache = options.cache === false ? undefined : (options.cache ?? defaultEmbeddingCache);
  }

  get preferredBatchSize(): number {
    return this.batchSize;
  }

  ndims(): number | undefined {
    return this.inner.ndims() ?? this.#dims;
  }

  toJSON(): EmbeddingFunctionJSON {
    return this.inner.toJSON();
  }

  async init(): Promise<void> {
    await this.inner.init?.();
  }

  stats(): BatchingStats {
    return { ...this.#stats };
  }

  /** The part of cache keys that names the function; computed once (a function's config does not change). */
  private key(): string {
    return (this.#key ??= configKey(this.inner.toJSON()));
  }

  private check(v: Float32Array | number[] | undefined, where: string): Float32Array {
    const out = toFloat32(v, where, this.inner.ndims() ?? this.#dims);
    this.#dims ??= out.length;
    return out;
  }

  computeSourceEmbeddings(texts: string[]): Promise<Float32Array[]> {
    return this.embed(texts);
  }

  /** Embeds documents: cached vectors are reused, the rest computed in batches. One vector per text, in order. */
  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const out = new Array<Float32Array | undefined>(texts.length);
    // Unique texts not in the cache, each with the positions that want it.
    const pending = new Map<string, number[]>();
    const key = this.key();
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i];
      if (typeof text !== "string") throw createError("INVALID_ARGUMENT", `Text ${i} to embed is ${text === null ? "null" : typeof text}, not a string.`, { row: i });
      const waiting = pending.get(text);
      if (waiting) { waiting.push(i); this.#stats.cacheHits++; continue; }
      const hit = this.#cache?.get(EmbeddingCache.key(key, text));
      if (hit) { out[i] = hit; this.#stats.cacheHits++; continue; }
      pending.set(text, [i]);
    }
    const total = texts.length;
    let done = total - [...pending.values()].reduce((s, p) => s + p.length, 0);
    if (done > 0 || total === 0) options.progress?.({ done, total });
    const unique = [...pending.keys()];
    for (let b = 0; b < unique.length; b += this.batchSize) {
      const batch = unique.slice(b, b + this.batchSize);
      const vectors = await this.inner.computeSourceEmbeddings(batch);
      this.#stats.batches++;
      this.#stats.computed += batch.length;
      if (!Array.isArray(vectors) || vectors.length !== batch.length) {
        throw createError("INVALID_VECTOR", `The embedding function returned ${Array.isArray(vectors) ? vectors.length : "no"} vectors for ${batch.length} texts.`);
      }
      for (let j = 0; j < batch.length; j++) {
        const text = batch[j]!;
        const v = this.check(vectors[j], `Embedding of text ${pending.get(text)![0]}`);
        this.#cache?.set(EmbeddingCache.key(key, text), v);
        for (const i of pending.get(text)!) out[i] = v;
        done += pending.get(text)!.length;
      }
      options.progress?.({ done, total });
    }
    return out as Float32Array[];
  }

  /** Queries are not cached: functions may embed them differently, and they rarely repeat in bulk. */
  async computeQueryEmbeddings(query: string): Promise<Float32Array> {
    if (typeof query !== "string") throw createError("INVALID_ARGUMENT", `A text query must be a string, got ${typeof query}.`);
    return this.check(await this.inner.computeQueryEmbeddings(query), "The query embedding");
  }
}

/** Wraps a function with batching, a cache and result checks. Wrapping a wrapped function re-wraps its inner one. */
export function withBatching(fn: EmbeddingFunction, options: BatchingOptions = {}): BatchedEmbeddingFunction {
  return new BatchedEmbeddingFunction(fn instanceof BatchedEmbeddingFunction ? fn.inner : fn, options);
}
