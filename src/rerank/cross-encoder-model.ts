/**
 * Runs a transformers.js sequence-classification model (a cross-encoder) in the current thread: the
 * tokenizer reads each (query, document) pair as one input, `[CLS] query [SEP] document [SEP]`, and
 * the model's `logits` [batch, numLabels] give one score per pair. Used directly in Node and on the
 * main thread, and inside `cross-encoder-worker.ts` in browsers.
 *
 * The same lazy, optional import of `@huggingface/transformers` and the same `env` lock as the
 * huggingface embedding function (`hf-pipeline.ts`), so the two can load side by side.
 */
import { createError } from "../errors.js";
import { loadTransformers, where, withEnv, type ModelLoadProgress, type Transformers } from "../embeddings/hf-pipeline.js";

/** Everything that decides which model loads and how a pair becomes a score; plain data, so it crosses to a worker. */
export interface CrossEncoderModelOptions {
  model: string;
  dtype?: string;
  device?: string;
  localModelPath?: string;
  allowRemoteModels?: boolean;
  revision?: string;
  wasmPaths?: string;
  /** Which logit is the score: an index or a label name from the config's id2label. Default: the only one, or index 1 of two. */
  label?: number | string;
  /** Applied to the logits before the score is read: "none" (raw logit), "sigmoid" or "softmax" (over the labels). */
  activation: "none" | "sigmoid" | "softmax";
  /** Tokens per pair at most (query + document + 3 special tokens); longer pairs lose the end of the document. */
  maxLength?: number;
}

interface Tensor {
  data: ArrayLike<number>;
  dims: number[];
}

interface Tokenizer {
  (text: string[], options: { text_pair: string[]; padding: boolean; truncation: boolean; max_length?: number }): Record<string, unknown>;
  model_max_length?: number;
}

interface SequenceClassifier {
  (inputs: Record<string, unknown>): Promise<{ logits?: Tensor }>;
  config?: { id2label?: Record<string, string>; label2id?: Record<string, number>; num_labels?: number };
  dispose?: () => Promise<unknown>;
}

interface WithAutoClasses extends Transformers {
  AutoTokenizer: { from_pretrained(model: string, options: Record<string, unknown>): Promise<Tokenizer> };
  AutoModelForSequenceClassification: { from_pretrained(model: string, options: Record<string, unknown>): Promise<SequenceClassifier> };
}

interface Loaded {
  tokenizer: Tokenizer;
  model: SequenceClassifier;
}

/** Index of the scored logit among `numLabels`, from the `label` option and the model's config. */
export function labelIndex(label: number | string | undefined, numLabels: number, config: SequenceClassifier["config"], model: string): number {
  const bad = (what: string): never => {
    throw createError("INVALID_ARGUMENT", `Cross-encoder "${model}": ${what}.`, { model });
  };
  if (label === undefined) {
    if (numLabels === 1) return 0;
    if (numLabels === 2) return 1;
    return bad(`the model has ${numLabels} labels; say which one means "relevant" with the label option`);
  }
  if (typeof label === "number") return Number.isInteger(label) && label >= 0 && label < numLabels ? label : bad(`label ${label} is not one of its ${numLabels} logits`);
  const fromMap = config?.label2id?.[label] ?? Number(Object.entries(config?.id2label ?? {}).find(([, name]) => name === label)?.[0] ?? NaN);
  return Number.isInteger(fromMap) && fromMap >= 0 && fromMap < numLabels ? fromMap : bad(`no label named "${label}" in its config (id2label: ${JSON.stringify(config?.id2label ?? {})})`);
}

/** Score of row `i` of a [batch, numLabels] logits array. */
export function scoreOfLogits(logits: ArrayLike<number>, i: number, numLabels: number, index: number, activation: CrossEncoderModelOptions["activation"]): number {
  const at = i * numLabels;
  const x = logits[at + index]!;
  if (activation === "sigmoid") return 1 / (1 + Math.exp(-x));
  if (activation === "softmax") {
    let max = -Infinity;
    for (let j = 0; j < numLabels; j++) max = Math.max(max, logits[at + j]!);
    let sum = 0;
    for (let j = 0; j < numLabels; j++) sum += Math.exp(logits[at + j]! - max);
    return Math.exp(x - max) / sum;
  }
  return x;
}

export class CrossEncoderModel {
  #loaded: Promise<Loaded> | undefined;

  constructor(readonly options: CrossEncoderModelOptions) {}

  /** Loads tokenizer and model once; concurrent callers share the load. A failed load may be retried. */
  load(onProgress?: (p: ModelLoadProgress) => void): Promise<Loaded> {
    this.#loaded ??= (async () => {
      const t = (await loadTransformers()) as WithAutoClasses;
      const o = this.options;
      try {
        return await withEnv(t, o, async () => {
          const common = {
            ...(o.revision !== undefined && { revision: o.revision }),
            ...(onProgress && { progress_callback: (p: unknown) => onProgress(p as ModelLoadProgress) }),
          };
          const [tokenizer, model] = await Promise.all([
            t.AutoTokenizer.from_pretrained(o.model, common),
            t.AutoModelForSequenceClassification.from_pretrained(o.model, {
              ...common,
              ...(o.dtype !== undefined && { dtype: o.dtype }),
              ...(o.device !== undefined && { device: o.device }),
            }),
          ]);
          // pipeline() reports "ready" when both are open; from_pretrained does not, so say it here.
          onProgress?.({ status: "ready", name: o.model });
          return { tokenizer, model };
        });
      } catch (e) {
        throw createError("EMBEDDING_FAILED", `Could not load the cross-encoder model ${where(o)}: ${e instanceof Error ? e.message : String(e)}`, { model: o.model }, e);
      }
    })();
    this.#loaded.catch(() => (this.#loaded = undefined));
    return this.#loaded;
  }

  /** One score per document for (query, document), higher is more relevant. */
  async score(query: string, documents: readonly string[], onProgress?: (p: ModelLoadProgress) => void): Promise<Float64Array> {
    if (documents.length === 0) return new Float64Array(0);
    const { tokenizer, model } = await this.load(onProgress);
    const o = this.options;
    let logits: Tensor | undefined;
    try {
      const inputs = tokenizer(documents.map(() => query), {
        text_pair: [...documents],
        padding: true,
        truncation: true,
        ...(o.maxLength !== undefined && { max_length: o.maxLength }),
      });
      logits = (await model(inputs)).logits;
    } catch (e) {
      throw createError("EMBEDDING_FAILED", `The cross-encoder ${where(o)} failed on a batch of ${documents.length} pairs: ${e instanceof Error ? e.message : String(e)}`, { model: o.model }, e);
    }
    const n = documents.length;
    if (!logits || logits.dims.length !== 2 || logits.dims[0] !== n || !(logits.dims[1]! >= 1)) {
      throw createError("EMBEDDING_FAILED", `The cross-encoder ${where(o)} returned ${logits ? `logits of shape [${logits.dims.join(", ")}]` : "no logits"} for ${n} pairs; expected [${n}, numLabels]. Is it a sequence-classification model?`, { model: o.model });
    }
    const numLabels = logits.dims[1]!;
    const index = labelIndex(o.label, numLabels, model.config, o.model);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = scoreOfLogits(logits.data, i, numLabels, index, o.activation);
    return out;
  }

  async dispose(): Promise<void> {
    const l = this.#loaded;
    this.#loaded = undefined;
    if (l) await (await l.catch(() => undefined))?.model.dispose?.();
  }
}
