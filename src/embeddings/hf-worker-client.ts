/**
 * The main-thread side of the huggingface worker: the protocol (`HfWorkerApi`, types first) and a
 * comlink proxy over a worker running `hf-worker.ts`. Vectors come back as transferred buffers.
 */
import * as Comlink from "comlink";
import { registerErrorTransfer } from "../util/error-transfer.js";
import type { HfPipelineOptions, ModelLoadProgress } from "./hf-pipeline.js";

export interface HfWorkerApi {
  /** Loads the model (once per options); resolves to its hidden size when the config names it. */
  load(options: HfPipelineOptions, onProgress?: (p: ModelLoadProgress) => void): Promise<number | undefined>;
  /** Embeds texts with the model for `options` (loading it first if needed). */
  embed(options: HfPipelineOptions, texts: string[]): Promise<Float32Array[]>;
}

/** Wraps a worker that runs `hf-worker.ts`. */
export function connectHfWorker(worker: Worker): Comlink.Remote<HfWorkerApi> {
  registerErrorTransfer();
  return Comlink.wrap<HfWorkerApi>(worker);
}

/** A module worker over `hf-worker.js`, in the `new URL(…, import.meta.url)` form bundlers rewrite (Vite, webpack 5, Parcel). */
export function defaultHfWorker(): Worker {
  return new Worker(new URL("./hf-worker.js", import.meta.url), { type: "module", name: "quiver-embeddings" });
}
