/**
 * The "huggingface" embedding function: sentence embeddings from a transformers.js
 * `feature-extraction` pipeline (ONNX models from the Hugging Face hub, or from a local folder).
 *
 *   getRegistry().get("huggingface").create({ model: "Xenova/all-MiniLM-L6-v2", dtype: "q8" })
 *
 * The model loads on first use (or `init()`). In browsers, `inWorker: true` runs it in a dedicated
 * worker (`hf-worker.ts`); in Node and Deno onnxruntime already runs off the JavaScript thread.
 */
import { createError } from "../errors.js";
import type { HfPipeline, HfPipelineOptions, ModelLoadProgress } from "./hf-pipeline.js";
import { localPipelines } from "./local-models.js";
import type { HfWorkerApi } from "./hf-worker-client.js";
import type { EmbeddingFunction, EmbeddingFunctionFactory, EmbeddingFunctionJSON } from "./types.js";

export type { ModelLoadProgress } from "./hf-pipeline.js";

export interface HuggingFaceOptions {
  /** Hub id or local folder name under `localModelPath`. Default "Xenova/all-MiniLM-L6-v2" (384-d). */
  model?: string;
  /**
   * Weights variant: "fp32" (onnx/model.onnx), "fp16", "q8" (model_quantized.onnx, about 4× smaller,
   * slightly less accurate), "q4", … Default: transformers.js's choice for the device.
   */
  dtype?: "auto" | "fp32" | "fp16" | "q8" | "int8" | "uint8" | "q4" | "bnb4" | "q4f16";
  /** "wasm" / "webgpu" in browsers, "cpu" in Node. Default: transformers.js's choice. */
  device?: string;
  /** "mean" (default; what sentence-transformers models expect) or "cls". */
  pooling?: "mean" | "cls";
  /** Scale vectors to unit length (default true), so dot product equals cosine similarity. */
  normalize?: boolean;
  /** Folder (Node) or URL path (browsers) holding `<model>/config.json, tokenizer.json, onnx/…`. */
  localModelPath?: string;
  /** false: never fetch from the hub (offline). Default: transformers.js's setting (true). */
  allowRemoteModels?: boolean;
  /** Hub revision (branch, tag or commit). */
  revision?: string;
  /**
   * Browsers: URL prefix where onnxruntime-web's `.wasm`/`.mjs` files are served (copy them from
   * `node_modules/onnxruntime-web/dist/`). Default: transformers.js fetches them from a CDN, which an
   * offline app cannot reach. Set once per page or worker: the runtime loads once.
   */
  wasmPaths?: string;
  /** Vector length, when the model is not one Quiver knows and you want it before the model loads. */
  ndims?: number;
  /** Texts per model run (default 32). */
  batchSize?: number;
  /** Prepended to documents / queries, for models trained with prefixes (e5: "passage: " / "query: "). */
  sourcePrefix?: string;
  queryPrefix?: string;
  /** Browsers: run the model in a dedicated worker (default false). Ignored where there is no DOM. */
  inWorker?: boolean;
  /** Not saved with the table. Called while model files are fetched and opened. */
  onLoadProgress?: (progress: ModelLoadProgress) => void;
  /** Not saved with the table. The worker to use with `inWorker` (default: one over `hf-worker.js`). */
  createWorker?: () => Worker;
}

/** Output sizes of common models, so `ndims()` is known before loading. */
const KNOWN_DIMS: Readonly<Record<string, number>> = {
  "Xenova/all-MiniLM-L6-v2": 384,
  "Xenova/all-MiniLM-L12-v2": 384,
  "Xenova/paraphrase-multilingual-MiniLM-L12-v2": 384,
  "Xenova/bge-small-en-v1.5": 384,
  "Xenova/bge-base-en-v1.5": 768,
  "Xenova/gte-small": 384,
  "Xenova/multilingual-e5-small": 384,
};

const DTYPES = new Set(["auto", "fp32", "fp16", "q8", "int8", "uint8", "q4", "bnb4", "q4f16"]);
const SAVED_KEYS = ["model", "dtype", "device", "pooling", "normalize", "localModelPath", "allowRemoteModels", "revision", "wasmPaths", "ndims", "batchSize", "sourcePrefix", "queryPrefix", "inWorker"] as const;

function checkOptions(o: HuggingFaceOptions): void {
  const bad = (what: string): never => { throw createError("INVALID_ARGUMENT", `huggingface embedding function: ${what}.`); };
  if (o.model !== undefined && (typeof o.model !== "string" || o.model.length === 0)) bad(`model must be a non-empty string, got ${JSON.stringify(o.model)}`);
  if (o.dtype !== undefined && !DTYPES.has(o.dtype)) bad(`dtype must be one of ${[...DTYPES].join(", ")}, got ${JSON.stringify(o.dtype)}`);
  if (o.pooling !== undefined && o.pooling !== "mean" && o.pooling !== "cls") bad(`pooling must be "mean" or "cls", got ${JSON.stringify(o.pooling)}`);
  if (o.ndims !== undefined && (!Number.isInteger(o.ndims) || o.ndims < 1)) bad(`ndims must be an integer >= 1, got ${String(o.ndims)}`);
  if (o.batchSize !== undefined && (!Number.isInteger(o.batchSize) || o.batchSize < 1)) bad(`batchSize must be an integer >= 1, got ${String(o.batchSize)}`);
}

const hasDom = (): boolean => typeof window !== "undefined" && typeof document !== "undefined" && typeof Worker !== "undefined";

export class HuggingFaceEmbeddingFunction implements EmbeddingFunction {
  readonly embeddingDataType = "float32" as const;
  readonly preferredBatchSize: number;
  readonly #options: HuggingFaceOptions;
  readonly #pipelineOptions: HfPipelineOptions;
  #local: HfPipeline | undefined;
  #loadLocal: Promise<HfPipeline> | undefined;
  #remote: Promise<{ api: HfWorkerApi; worker: Worker }> | undefined;
  #workerDims: number | undefined;
  #workerLoad: Promise<void> | undefined;

  constructor(options: HuggingFaceOptions = {}) {
    checkOptions(options);
    this.#options = { ...options };
    this.preferredBatchSize = options.batchSize ?? 32;
    this.#pipelineOptions = {
      model: options.model ?? "Xenova/all-MiniLM-L6-v2",
      pooling: options.pooling ?? "mean",
      normalize: options.normalize ?? true,
      ...(options.dtype !== undefined && { dtype: options.dtype }),
      ...(options.device !== undefined && { device: options.device }),
      ...(options.localModelPath !== undefined && { localModelPath: options.localModelPath }),
      ...(options.allowRemoteModels !== undefined && { allowRemoteModels: options.allowRemoteModels }),
      ...(options.revision !== undefined && { revision: options.revision }),
      ...(options.wasmPaths !== undefined && { wasmPaths: options.wasmPaths }),
    };
  }

  get model(): string {
    return this.#pipelineOptions.model;
  }

  /** True when embedding runs in a worker of its own (browsers with `inWorker: true`, or inside Quiver's browser worker). */
  get inWorker(): boolean {
    // A thread that may not load transformers.js itself (the browser worker script) always uses one.
    return (this.#options.inWorker === true && hasDom()) || localPipelines.load === undefined;
  }

  ndims(): number | undefined {
    return this.#options.ndims ?? this.#local?.ndims ?? this.#workerDims ?? KNOWN_DIMS[this.model];
  }

  toJSON(): EmbeddingFunctionJSON {
    const out: Record<string, unknown> = { name: "huggingface", model: this.model, pooling: this.#pipelineOptions.pooling, normalize: this.#pipelineOptions.normalize };
    for (const k of SAVED_KEYS) if (this.#options[k] !== undefined && !(k in out)) out[k] = this.#options[k];
    return out as EmbeddingFunctionJSON;
  }

  /** Loads the model now instead of on the first embedding. */
  async init(): Promise<void> {
    if (this.inWorker) {
      this.#workerLoad ??= (async () => {
        const progress = this.#options.onLoadProgress;
        // Comlink calls back across the hop only through a proxy. comlink loads only on this path.
        const { proxy } = await import("comlink");
        this.#workerDims = await (await this.remote()).api.load(this.#pipelineOptions, progress && proxy(progress));
      })();
      this.#workerLoad.catch(() => (this.#workerLoad = undefined));
      return this.#workerLoad;
    }
    await (await this.local()).load(this.#options.onLoadProgress);
  }

  /** The in-thread model, its code loaded on first use (the core does not carry it). */
  private local(): Promise<HfPipeline> {
    return (this.#loadLocal ??= localPipelines.load!().then((m) => (this.#local = new m.HfPipeline(this.#pipelineOptions))));
  }

  private remote(): Promise<{ api: HfWorkerApi; worker: Worker }> {
    this.#remote ??= import("./hf-worker-client.js").then(({ connectHfWorker, defaultHfWorker }) => {
      const worker = (this.#options.createWorker ?? defaultHfWorker)();
      return { api: connectHfWorker(worker) as unknown as HfWorkerApi, worker };
    });
    return this.#remote;
  }

  private async run(texts: string[]): Promise<Float32Array[]> {
    if (this.inWorker) {
      await this.init();
      return (await this.remote()).api.embed(this.#pipelineOptions, texts);
    }
    return (await this.local()).embed(texts, this.#options.onLoadProgress);
  }

  computeSourceEmbeddings(texts: string[]): Promise<Float32Array[]> {
    const prefix = this.#options.sourcePrefix;
    return this.run(prefix ? texts.map((t) => prefix + t) : texts);
  }

  async computeQueryEmbeddings(query: string): Promise<Float32Array> {
    const [v] = await this.run([(this.#options.queryPrefix ?? "") + query]);
    return v!;
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

export const huggingFaceFactory: EmbeddingFunctionFactory<HuggingFaceOptions> = {
  create: (options) => new HuggingFaceEmbeddingFunction(options),
};
