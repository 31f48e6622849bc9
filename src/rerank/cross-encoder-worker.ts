/**
 * Worker entry for the cross-encoder reranker (`inWorker: true` in browsers): tokenizing and running
 * the model happen here, off the page's thread. Speaks `CrossEncoderWorkerApi`; one model per
 * distinct options, kept for the worker's life.
 */
import * as Comlink from "comlink";
import { registerErrorTransfer } from "../util/error-transfer.js";
import { CrossEncoderModel, type CrossEncoderModelOptions } from "./cross-encoder-model.js";
import type { CrossEncoderWorkerApi } from "./cross-encoder-worker-client.js";

const models = new Map<string, CrossEncoderModel>();

function modelFor(options: CrossEncoderModelOptions): CrossEncoderModel {
  const key = JSON.stringify(options);
  let m = models.get(key);
  if (!m) models.set(key, (m = new CrossEncoderModel(options)));
  return m;
}

const api: CrossEncoderWorkerApi = {
  async load(options, onProgress) {
    await modelFor(options).load(onProgress);
  },
  async score(options, query, documents) {
    const scores = await modelFor(options).score(query, documents);
    return Comlink.transfer(scores, [scores.buffer as ArrayBuffer]);
  },
};

registerErrorTransfer();
Comlink.expose(api);
