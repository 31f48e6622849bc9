/**
 * Worker entry for the huggingface embedding function (`inWorker: true` in browsers): the model is
 * loaded and run here so tokenizing and inference never block the page. Speaks `HfWorkerApi`.
 * One pipeline per distinct options, kept for the worker's life.
 */
import * as Comlink from "comlink";
import { registerErrorTransfer } from "../util/error-transfer.js";
import { HfPipeline, type HfPipelineOptions } from "./hf-pipeline.js";
import type { HfWorkerApi } from "./hf-worker-client.js";

const pipelines = new Map<string, HfPipeline>();

function pipelineFor(options: HfPipelineOptions): HfPipeline {
  const key = JSON.stringify(options);
  let p = pipelines.get(key);
  if (!p) pipelines.set(key, (p = new HfPipeline(options)));
  return p;
}

const api: HfWorkerApi = {
  async load(options, onProgress) {
    const p = pipelineFor(options);
    await p.load(onProgress);
    return p.ndims;
  },
  async embed(options, texts) {
    const vectors = await pipelineFor(options).embed(texts);
    return Comlink.transfer(vectors, vectors.map((v) => v.buffer as ArrayBuffer));
  },
};

registerErrorTransfer();
Comlink.expose(api);
