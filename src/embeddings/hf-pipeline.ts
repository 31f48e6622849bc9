/**
 * Runs a transformers.js `feature-extraction` pipeline in the current thread. Used directly on the
 * main thread and in Node, and inside `hf-worker.ts` in browsers.
 *
 * `@huggingface/transformers` is imported dynamically, on the first load, so it never enters the core
 * bundle and need not be installed by users who do not use this function (it is an optional peer).
 */
import { createError } from "../errors.js";

/** The slice of transformers.js used here, declared locally so our typings do not need the package. */
export interface Transformers {
  env: {
    localModelPath: string;
    allowRemoteModels: boolean;
    allowLocalModels: boolean;
    backends: { onnx: { wasm?: { wasmPaths?: unknown } } };
  };
  pipeline(task: "feature-extraction", model: string, options: Record<string, unknown>): Promise<unknown>;
}

/** Everything that decides which model loads and how it embeds; plain data, so it crosses to a worker. */
export interface HfPipelineOptions {
  model: string;
  dtype?: string;
  device?: string;
  pooling: "mean" | "cls";
  normalize: boolean;
  localModelPath?: string;
  allowRemoteModels?: boolean;
  revision?: string;
  wasmPaths?: string;
}

/** What transformers.js reports while it fetches and opens model files (`status`: initiate, download, progress, done, ready). */
export interface ModelLoadProgress {
  status: string;
  name?: string;
  file?: string;
  /** Percent of this file, 0–100. */
  progress?: number;
  loaded?: number;
  total?: number;
}

interface Extractor {
  (texts: string[], options: { pooling: string; normalize: boolean }): Promise<{ data: ArrayLike<number>; dims: number[] }>;
  model?: { config?: { hidden_size?: number } };
  dispose?: () => Promise<void>;
}

let transformers: Promise<Transformers> | undefined;

export function loadTransformers(): Promise<Transformers> {
  transformers ??= (import("@huggingface/transformers") as Promise<unknown> as Promise<Transformers>).catch((e: unknown) => {
    transformers = undefined;
    throw createError(
      "UNSUPPORTED",
      `The "huggingface" embedding function needs the @huggingface/transformers package; install it (npm install @huggingface/transformers). Import failed: ${String(e)}`,
      {},
      e,
    );
  });
  return transformers;
}

// `env` is global to transformers.js, so loads that change it run one at a time and put it back.
// Shared with the cross-encoder reranker (src/rerank/cross-encoder-model.ts): one lock for both.
let envLock: Promise<unknown> = Promise.resolve();

export async function withEnv<T>(t: Transformers, options: Pick<HfPipelineOptions, "localModelPath" | "allowRemoteModels" | "wasmPaths">, run: () => Promise<T>): Promise<T> {
  const next = envLock.then(async () => {
    const env = t.env;
    const saved = { localModelPath: env.localModelPath, allowRemoteModels: env.allowRemoteModels, allowLocalModels: env.allowLocalModels };
    if (options.localModelPath !== undefined) {
      env.localModelPath = options.localModelPath.endsWith("/") ? options.localModelPath : `${options.localModelPath}/`;
      // Browsers default to remote-only; a local path is a request to look there.
      env.allowLocalModels = true;
    }
    if (options.allowRemoteModels !== undefined) env.allowRemoteModels = options.allowRemoteModels;
    // Where onnxruntime-web finds its .wasm/.mjs (default: a CDN). Global and kept: the runtime loads once.
    if (options.wasmPaths !== undefined && env.backends.onnx.wasm) env.backends.onnx.wasm.wasmPaths = options.wasmPaths;
    try {
      return await run();
    } finally {
      Object.assign(env, saved);
    }
  });
  envLock = next.catch(() => undefined);
  return next;
}

export function where(options: Pick<HfPipelineOptions, "model" | "localModelPath" | "allowRemoteModels">): string {
  const local = options.localModelPath !== undefined ? ` from ${options.localModelPath}` : "";
  const remote = options.allowRemoteModels === false ? " (remote models disallowed)" : "";
  return `"${options.model}"${local}${remote}`;
}

export class HfPipeline {
  #extractor: Promise<Extractor> | undefined;
  #ndims: number | undefined;

  constructor(readonly options: HfPipelineOptions) {}

  get ndims(): number | undefined {
    return this.#ndims;
  }

  /** Loads the model once; concurrent callers share the load. A failed load may be retried. */
  load(onProgress?: (p: ModelLoadProgress) => void): Promise<Extractor> {
    this.#extractor ??= (async () => {
      const t = await loadTransformers();
      const o = this.options;
      try {
        const extractor = await withEnv(t, o, () =>
          t.pipeline("feature-extraction", o.model, {
            ...(o.dtype !== undefined && { dtype: o.dtype }),
            ...(o.device !== undefined && { device: o.device }),
            ...(o.revision !== undefined && { revision: o.revision }),
            ...(onProgress && { progress_callback: (p: unknown) => onProgress(p as ModelLoadProgress) }),
          }),
        ) as unknown as Extractor;
        const hidden = extractor.model?.config?.hidden_size;
        if (typeof hidden === "number") this.#ndims = hidden;
        return extractor;
      } catch (e) {
        throw createError("EMBEDDING_FAILED", `Could not load the embedding model ${where(o)}: ${e instanceof Error ? e.message : String(e)}`, { model: o.model }, e);
      }
    })();
    this.#extractor.catch(() => (this.#extractor = undefined));
    return this.#extractor;
  }

  /** Embeds texts; each vector is its own copy (its buffer can be transferred). */
  async embed(texts: string[], onProgress?: (p: ModelLoadProgress) => void): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const extractor = await this.load(onProgress);
    let out: { data: ArrayLike<number>; dims: number[] };
    try {
      out = await extractor(texts, { pooling: this.options.pooling, normalize: this.options.normalize });
    } catch (e) {
      throw createError("EMBEDDING_FAILED", `The embedding model ${where(this.options)} failed on a batch of ${texts.length}: ${e instanceof Error ? e.message : String(e)}`, { model: this.options.model }, e);
    }
    const [n, dim] = out.dims;
    if (out.dims.length !== 2 || n !== texts.length || !dim) {
      throw createError("EMBEDDING_FAILED", `The model ${where(this.options)} returned a tensor of shape [${out.dims.join(", ")}] for ${texts.length} texts; expected [${texts.length}, hidden].`);
    }
    this.#ndims ??= dim;
    const data = out.data instanceof Float32Array ? out.data : Float32Array.from(out.data);
    return Array.from({ length: n }, (_, i) => data.slice(i * dim, (i + 1) * dim));
  }

  async dispose(): Promise<void> {
    const e = this.#extractor;
    this.#extractor = undefined;
    if (e) await (await e.catch(() => undefined))?.dispose?.();
  }
}
