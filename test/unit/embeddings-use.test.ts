/**
 * The Universal Sentence Encoder example (a user-defined function over @energetic-ai/embeddings) on
 * the real 512-d model in ../shared/data/use-tfjs-energetic-ai: semantics, normalization, registry
 * round trip. Throughput is measured by `npx tsx examples/use-embedding.ts --bench 200`, not here.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_USE_PATH, UniversalSentenceEncoder, registerUse } from "../../examples/use-embedding.js";
import { EmbeddingFunctionRegistry, withBatching, restoreEmbeddingConfig, serializeEmbeddingConfig } from "../../src/embeddings/index.js";

const available = existsSync(join(DEFAULT_USE_PATH, "model.json")) && existsSync(join(DEFAULT_USE_PATH, "vocab.json"));
if (!available) console.warn(`skipping the Universal Sentence Encoder tests: no model files in ${DEFAULT_USE_PATH} (set QUIVER_USE_MODEL)`);

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe.skipIf(!available)("Universal Sentence Encoder example", () => {
  const registry = registerUse(new EmbeddingFunctionRegistry());
  const fn = registry.get("use").create() as UniversalSentenceEncoder;

  it("gives unit 512-d vectors with sensible word semantics", async () => {
    const [cat, kitten, car] = await fn.computeSourceEmbeddings(["cat", "kitten", "car"]);
    for (const v of [cat!, kitten!, car!]) {
      expect(v.length).toBe(512);
      expect(dot(v, v)).toBeCloseTo(1, 5);
    }
    // SOURCE.md: cos(cat, kitten) = 0.7582 > cos(cat, car) = 0.4833
    expect(dot(cat!, kitten!)).toBeCloseTo(0.7582, 3);
    expect(dot(cat!, car!)).toBeCloseTo(0.4833, 3);
  });

  it("ranks a paraphrase above an unrelated sentence, for documents and queries alike", async () => {
    const use = withBatching(fn, { cache: false, batchSize: 2 });
    const docs = await use.embed([
      "The kitten slept on the warm windowsill.",
      "Interest rates rose sharply after the central bank meeting.",
      "Vaccines train the immune system to recognise a virus.",
    ]);
    const q1 = await use.computeQueryEmbeddings("A small cat was napping in the sun.");
    const q2 = await use.computeQueryEmbeddings("How does immunization protect against infection?");
    const best = (q: Float32Array): number => docs.map((d) => dot(q, d)).reduce((b, s, i, all) => (s > all[b]! ? i : b), 0);
    expect(best(q1)).toBe(0);
    expect(best(q2)).toBe(2);
    expect(use.stats().batches).toBe(2);
  });

  it("round-trips through the registry", async () => {
    const saved = serializeEmbeddingConfig({ sourceColumn: "text", function: fn });
    expect(saved.function).toEqual({ name: "use", modelPath: DEFAULT_USE_PATH, normalize: true, batchSize: 32 });
    const restored = restoreEmbeddingConfig(JSON.parse(JSON.stringify(saved)), { registry });
    expect(await restored.function.computeQueryEmbeddings("cat")).toEqual(await fn.computeQueryEmbeddings("cat"));
  });
});
