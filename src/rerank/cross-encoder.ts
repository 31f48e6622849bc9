/**
 * A cross-encoder reranker: a transformers.js sequence-classification model reads each (query,
 * document) pair together and scores its relevance, which is slower than fusing two rankings but
 * sees the words of both at once. It is a `PairScoreReranker` whose scorer is the model, so hybrid,
 * vector-only and full-text-only results are all reranked the same way; `_relevance_score` is the
 * model's score (the raw logit of the relevant label unless `activation` says otherwise).
 *
 *   const reranker = await rerankers.CrossEncoderReranker.create({ model: "Xenova/ms-marco-MiniLM-L-6-v2" });
 *   await table.search("what is BM25?", "hybrid").rerank(reranker).limit(10).toArray();
 *
 * The model loads on first use (or `init()`). In browsers, `inWorker: true` runs it in a dedicated
 * worker (`cross-encoder-worker.ts`); in Node and Deno onnxruntime already runs off the JavaScript thread.
 * Every candidate row is scored: a hybrid query with limit 10 hands it up to 2 × 10 rows (more with
 * a larger limit), so the cost grows with the limit, not with the table.
 */
import { createError } from "../errors.js";
import type { ModelLoadProgress } from "../embeddings/hf-pipeline.js";
import type { CrossEncoderModel, CrossEncoderModelOptions } from "./cross-encoder-model.js";
import { localCrossEncoders } from "./local-models.js";
import type { CrossEncoderWorkerApi } from "./cross-encoder-worker-client.js";
import { PairScoreReranker } from "./pair-score.js";
import { checkReturnScore } from "./merge.js";
import type { ReturnScore } from "./types.js";

export interface CrossEncoderOptions {
  /** Hub id or local folder name under `localModelPath`. Default "Xenova/ms-marco-MiniLM-L-6-v2" (one logit: relevance). */
  model?: string;
  /** Weights variant: "fp32" (onnx/model.onnx), "q8" (model_quantized.onnx, about 4× smaller and faster on CPU), "fp16", … Default: transformers.js's choice. */
  dtype?: "auto" | "fp32" | "fp16" | "q8" | "int8" | "uint8" | "q4" | "bnb4" | "q4f16";
  /** "wasm" / "webgpu" in browsers, "cpu" in Node. Default: transformers.js's choice. */
  device?: string;
  /** Folder (Node) or URL path (browsers) holding `<model>/config.json, tokenizer.json, onnx/…`. */
  localModelPath?: string;
  /** false: never fetch from the hub (offline). Default: transformers.js's setting (true). */
  allowRemoteModels?: boolean;
  /** Hub revision (branch, tag or commit). */
  revision?: string;
  /** Browsers: URL prefix where onnxruntime-web's `.wasm`/`.mjs` files are served (see the huggingface embedding function). */
  wasmPaths?: string;
  /** The column holding each row's text (default "text"); the query must select it. */
  column?: string;
  /** Pairs per model run (default 32). Larger batches run faster per pair and use more memory (batch × tokens × hidden floats). */
  batchSize?: number;
  /**
   * Which logit is the relevance score: an index, or a label name from the model's config (id2label).
   * Default: the only logit (ms-marco and bge rerankers have one), or index 1 when there are two.
   */
  label?: number | string;
  /**
   * "none" (default): the raw logit, as sentence-transformers' CrossEncoder returns for one-label
   * models. "sigmoid" maps it to 0..1 without changing the order; "softmax" is over the labels (for
   * two-label models it orders like the logit difference, not like the raw logit).
   */
  activation?: "none" | "sigmoid" | "softmax";
  /** Tokens per pair at most (default: the tokenizer's model_max_length, 512 for MiniLM); longer documents are cut at the end. */
  maxLength?: number;
  /** Browsers: run the model in a dedicated worker (default false). Ignored where there is no DOM. */
  inWorker?: boolean;
  returnScore?: ReturnScore;
  /** Called while model files are fetched and opened (status initiate / download / progress / done / ready). */
  onLoadProgress?: (progress: ModelLoadProgress) => void;
  /** The worker to use with `inWorker` (default: one over `cross-encoder-worker.js`). */
  createWorker?: () => Worker;
}

const DTYPES = new Set(["auto", "fp32", "fp16", "q8", "int8", "uint8", "q4", "bnb4", "q4f16"]);
const ACTIVATIONS = new Set(["none", "sigmoid", "softmax"]);

function checkOptions(o: CrossEncoderOptions): void {
  const bad = (what: string): never => {
    throw createError("INVALID_ARGUMENT", `CrossEncoderReranker: ${what}.`);
  };
  if (o.model !== undefined && (typeof o.model !== "string" || o.model.length === 0)) bad(`model must be a non-empty string, got ${JSON.stringify(o.model)}`);
  if (o.dtype !== undefined && !DTYPES.has(o.dtype)) bad(`dtype must be one of ${[...DTYPES].join(", ")}, got ${JSON.stringify(o.dtype)}`);
  if (o.activation !== undefined && !ACTIVATIONS.has(o.activation)) bad(`activation must be "none", "sigmoid" or "softmax", got ${JSON.stringify(o.activation)}`);
  if (o.label !== undefined && !(typeof o.label === "string" || (Number.isInteger(o.label) && o.label >= 0))) bad(`label must be a label name or an index >= 0, got ${JSON.stringify(o.label)}`);
  if (o.maxLength !== undefined && (!Number.isInteger(o.maxLength) || o.maxLength < 4)) bad(`maxLength must be an integer >= 4, got ${String(o.maxLength)}`);
  if (o.column !== undefined && (typeof o.column !== "string" || o.column.length === 0)) bad(`column must be a non-empty string, got ${JSON.stringify(o.column)}`);
}

const hasDom = (): boolean => typeof window !== "undefined" && typeof document !== "undefined" && typeof Worker !== "undefined";

export class CrossEncoderReranker extends PairScoreReranker {
  readonly #options: CrossEncoderOptions;
  readonly #modelOptions: CrossEncoderModelOptions;
  #local: CrossEncoderModel | undefined;
  #loadLocal: Promise<CrossEncoderModel> | undefined;
  #remote: Promise<{ api: CrossEncoderWorkerApi; worker: Worker }> | undefined;
  #workerLoad: Promise<void> | undefined;

  constructor(options: CrossEncoderOptions = {}) {
    checkOptions(options ?? {});
    const o = { ...options };
    // The scorer closes over `self`: `this` is not usable before super() returns.
    let self: CrossEncoderReranker | undefined;
    super({
      scorer: (query, documents) => self!.score(query, documents),
      column: o.column ?? "text",
      batchSize: o.batchSize ?? 32,
      returnScore: checkReturnScore(o.returnScore ?? "relevance"),
    });
    self = this;
    this.#options = o;
    this.#modelOptions = {
      model: o.model ?? "Xenova/ms-marco-MiniLM-L-6-v2",
      activation: o.activation ?? "none",
      ...(o.dtype !== undefined && { dtype: o.dtype }),
      ...(o.device !== undefined && { device: o.device }),
      ...(o.localModelPath !== undefined && { localModelPath: o.localModelPath }),
      ...(o.allowRemoteModels !== undefined && { allowRemoteModels: o.allowRemoteModels }),
      ...(o.revision !== undefined && { revision: o.revision }),
      ...(o.wasmPaths !== undefined && { wasmPaths: o.wasmPaths }),
      ...(o.label !== undefined && { label: o.label }),
      ...(o.maxLength !== undefined && { maxLength: o.maxLength }),
    };
  }

  /** LanceDB-style factory. The model is not loaded until the first rerank (or `init()`). */
  static async create(options: CrossEncoderOptions = {}): Promise<CrossEncoderReranker> {
    return new CrossEncoderReranker(options);
  }

  get model(): string {
    return this.#modelOptions.model;
  }

  /** True when scoring runs in a worker of its own (browsers with `inWorker: true`, or inside Quiver's browser worker). */
  get inWorker(): boolean {
    // A thread that may not load transformers.js itself (the browser worker script) always uses one.
    return (this.#options.inWorker === true && hasDom()) || localCrossEncoders.load === undefined;
  }

  /** Loads the model now instead of on the first rerank. */
  async init(): Promise<void> {
    if (this.inWorker) {
      this.#workerLoad ??= (async () => {
        const progress = this.#options.onLoadProgress;
        // Comlink calls back across the hop only through a proxy; comlink loads only on this path.
        const { proxy } = await import("comlink");
        await (await this.remote()).api.load(this.#modelOptions, progress && proxy(progress));
      })();
      this.#workerLoad.catch(() => (this.#workerLoad = undefined));
      return this.#workerLoad;
    }
    await (await this.local()).load(this.#options.onLoadProgress);
  }

  /**
   * Scores (query, document) pairs, higher is more relevant: what the reranker sorts by. One model
   * run for all `documents` (the reranker calls it `batchSize` at a time).
   */
  async score(query: string, documents: readonly string[]): Promise<Float64Array> {
    if (typeof query !== "string") throw createError("INVALID_ARGUMENT", `CrossEncoderReranker needs the query text, got ${typeof query}. Rerank a query that has one (search(text, …) or fullTextSearch(text)).`);
    if (this.inWorker) {
      await this.init();
      return (await this.remote()).api.score(this.#modelOptions, query, [...documents]);
    }
    return (await this.local()).score(query, documents, this.#options.onLoadProgress);
  }

  /** The in-thread model, its code loaded on first use (the core does not carry it). */
  private local(): Promise<CrossEncoderModel> {
    return (this.#loadLocal ??= localCrossEncoders.load!().then((m) => (this.#local = new m.CrossEncoderModel(this.#modelOptions))));
  }

  private remote(): Promise<{ api: CrossEncoderWorkerApi; worker: Worker }> {
    this.#remote ??= import("./cross-encoder-worker-client.js").then(({ connectCrossEncoderWorker, defaultCrossEncoderWorker }) => {
      const worker = (this.#options.createWorker ?? defaultCrossEncoderWorker)();
      return { api: connectCrossEncoderWorker(worker) as unknown as CrossEncoderWorkerApi, worker };
    });
    return this.#remote;
  }

  /** Frees the model (and terminates the worker, if one was started). */
  async dispose(): Promise<void> {
    const local = await this.#loadLocal?.catch(() => undefined);
    this.#loadLocal = undefined;
    this.#local = undefined;
    await local?.dispose();
    void this.#remote?.then((r) => r.worker.terminate(), () => undefined);
    this.#remote = undefined;
    this.#workerLoad = undefined;
  }
}
