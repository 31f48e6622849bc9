// The demo's offline sentence encoder: Google's Universal Sentence Encoder (lite, 512-d) through
// TensorFlow.js on its WebAssembly backend and @energetic-ai/embeddings (tokenizer + model
// wrapper), as a Quiver embedding function. It runs inside the
// database worker (db.worker.ts registers it), so embedding never blocks the page. The model files
// (27.9 MB) come from the shared data folder, served under /data/; the service worker keeps them
// after their first use, so documents can be searched offline.
import type { EmbeddingFunction } from "quiverdb";
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreaded from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";

export const USE_MODEL_URL = "/data/use-tfjs-energetic-ai/";

interface UseModel {
  embed(texts: string[]): Promise<number[][]>;
}

export interface BrowserUseOptions {
  /** Folder URL holding model.json, its weight shards and vocab.json. */
  modelUrl?: string;
}

let backend: Promise<string> | undefined;

/** TensorFlow.js on WebAssembly, set up once per worker; its .wasm files are built assets (precached). */
function tfBackend(): Promise<string> {
  backend ??= (async () => {
    const tf = await import("@tensorflow/tfjs-core");
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    wasm.setWasmPaths({
      "tfjs-backend-wasm.wasm": wasmPlain,
      "tfjs-backend-wasm-simd.wasm": wasmSimd,
      "tfjs-backend-wasm-threaded-simd.wasm": wasmThreaded,
    });
    if (!(await tf.setBackend("wasm"))) throw new Error("TensorFlow.js could not start its WebAssembly backend.");
    await tf.ready();
    return tf.getBackend();
  })();
  backend.catch(() => (backend = undefined));
  return backend;
}

export class BrowserUse implements EmbeddingFunction {
  readonly embeddingDataType = "float32" as const;
  readonly preferredBatchSize = 16;
  readonly modelUrl: string;
  #model: Promise<UseModel> | undefined;

  constructor(options: BrowserUseOptions = {}) {
    this.modelUrl = options.modelUrl ?? USE_MODEL_URL;
  }

  ndims(): number {
    return 512;
  }

  toJSON(): { name: string; modelUrl: string } {
    return { name: "use", modelUrl: this.modelUrl };
  }

  init(): Promise<void> {
    return this.model().then(() => undefined);
  }

  private model(): Promise<UseModel> {
    this.#model ??= (async () => {
      await tfBackend();
      const [{ EmbeddingsModel }, { loadGraphModel }] = await Promise.all([import("@energetic-ai/embeddings"), import("@tensorflow/tfjs-converter")]);
      const base = new URL(this.modelUrl, self.location.href).href;
      const [model, vocabulary] = await Promise.all([
        loadGraphModel(`${base}model.json`),
        fetch(`${base}vocab.json`).then((r) => {
          if (!r.ok) throw new Error(`The encoder's vocabulary (${base}vocab.json) could not be loaded: ${r.status}.`);
          return r.json() as Promise<[string, number][]>;
        }),
      ]);
      return new EmbeddingsModel({ model, vocabulary } as never) as unknown as UseModel;
    })();
    // A failed load (offline before the model was ever fetched) is retried on the next call.
    this.#model.catch(() => (this.#model = undefined));
    return this.#model;
  }

  async computeSourceEmbeddings(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const rows = await (await this.model()).embed(texts);
    return rows.map((row) => {
      // USE's outputs are not unit length; scaled, cosine and dot agree.
      const v = Float32Array.from(row);
      let n = 0;
      for (const x of v) n += x * x;
      n = Math.sqrt(n) || 1;
      for (let j = 0; j < 512; j++) v[j]! /= n;
      return v;
    });
  }

  async computeQueryEmbeddings(query: string): Promise<Float32Array> {
    return (await this.computeSourceEmbeddings([query]))[0]!;
  }
}
