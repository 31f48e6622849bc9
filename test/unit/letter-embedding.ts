/**
 * A deterministic user-defined embedding function for table tests: letter counts of the text
 * (26-d, normalized) — semantic enough to rank texts by shared letters. It logs what it embeds so
 * tests can see cache hits.
 */
import { getRegistry, type EmbeddingFunction } from "../../src/index.js";

export class LetterCounts implements EmbeddingFunction {
  readonly embeddingDataType = "float32" as const;
  static embedded: string[] = [];

  constructor(
    private readonly options: { salt?: number } = {},
    private readonly registryName = "letter-counts",
  ) {}

  ndims(): number {
    return 26;
  }

  private one(text: string): Float32Array {
    const v = new Float32Array(26);
    for (const ch of text.toLowerCase()) {
      const i = ch.charCodeAt(0) - 97;
      if (i >= 0 && i < 26) v[i]! += 1;
    }
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  }

  async computeSourceEmbeddings(texts: string[]): Promise<Float32Array[]> {
    LetterCounts.embedded.push(...texts);
    return texts.map((t) => this.one(t));
  }

  async computeQueryEmbeddings(query: string): Promise<Float32Array> {
    return this.one(query);
  }

  toJSON(): { name: string; salt?: number } {
    return { name: this.registryName, ...this.options };
  }
}

/** Registers LetterCounts under `name`, so tables saved with it reopen. */
export function registerLetterCounts(name = "letter-counts"): void {
  getRegistry().register(name, { create: (o) => new LetterCounts(o as { salt?: number }, name) }, { replace: true });
}
