/**
 * The main-thread side of the cross-encoder worker: the protocol (`CrossEncoderWorkerApi`, types
 * first) and a comlink proxy over a worker running `cross-encoder-worker.ts`. Loaded only when a
 * reranker is created with `inWorker: true` in a browser.
 */
import * as Comlink from "comlink";
import { registerErrorTransfer } from "../util/error-transfer.js";
import type { ModelLoadProgress } from "../embeddings/hf-pipeline.js";
import type { CrossEncoderModelOptions } from "./cross-encoder-model.js";

export interface CrossEncoderWorkerApi {
  /** Loads tokenizer and model (once per options). */
  load(options: CrossEncoderModelOptions, onProgress?: (p: ModelLoadProgress) => void): Promise<void>;
  /** Scores (query, document) pairs with the model for `options` (loading it first if needed). */
  score(options: CrossEncoderModelOptions, query: string, documents: string[]): Promise<Float64Array>;
}

/** Wraps a worker that runs `cross-encoder-worker.ts`. */
export function connectCrossEncoderWorker(worker: Worker): Comlink.Remote<CrossEncoderWorkerApi> {
  registerErrorTransfer();
  return Comlink.wrap<CrossEncoderWorkerApi>(worker);
}

/** A module worker over `cross-encoder-worker.js`, in the `new URL(…, import.meta.url)` form bundlers rewrite. */
export function defaultCrossEncoderWorker(): Worker {
  return new Worker(new URL("./cross-encoder-worker.js", import.meta.url), { type: "module", name: "quiver-cross-encoder" });
}
