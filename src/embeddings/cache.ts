/**
 * An in-memory LRU of embeddings keyed by (function config, text), so adding the same text twice
 * embeds it once. A Map keeps insertion order, so "least recently used" is its first key: a hit
 * deletes and re-inserts the entry.
 */

export interface EmbeddingCacheOptions {
  /**
   * Most vectors kept. Default 10,000 (about 15 MB at 384 dimensions). Raise it for large re-ingests
   * of repeated text; 0 keeps nothing.
   */
  maxEntries?: number;
}

export interface EmbeddingCacheStats {
  hits: number;
  misses: number;
  size: number;
}

export class EmbeddingCache {
  readonly maxEntries: number;
  readonly #entries = new Map<string, Float32Array>();
  #hits = 0;
  #misses = 0;

  constructor(options: EmbeddingCacheOptions = {}) {
    const max = options.maxEntries ?? 10_000;
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`maxEntries must be an integer >= 0, got ${String(max)}.`);
    this.maxEntries = max;
  }

  static key(configKey: string, text: string): string {
    return `${configKey}\u0000${text}`;
  }

  get(key: string): Float32Array | undefined {
    const v = this.#entries.get(key);
    if (v === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#entries.delete(key);
    this.#entries.set(key, v);
    return v;
  }

  set(key: string, vector: Float32Array): void {
    if (this.maxEntries === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, vector);
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }

  clear(): void {
    this.#entries.clear();
  }

  stats(): EmbeddingCacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size };
  }
}

/** The cache functions share unless given their own: same config + same text = one embedding per process. */
export const defaultEmbeddingCache = new EmbeddingCache();

/** A stable string for a config: keys sorted at every level, so option order does not matter. */
export function configKey(json: unknown): string {
  return JSON.stringify(json, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
