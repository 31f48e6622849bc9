/**
 * The "openai" embedding function: any service that speaks OpenAI's `POST {baseUrl}/embeddings`
 * (OpenAI, Azure-style gateways, Ollama, llama.cpp server, vLLM, text-embeddings-inference, …).
 *
 *   getRegistry().get("openai").create({ model: "text-embedding-3-small", apiKeyEnv: "OPENAI_API_KEY" })
 *
 * The key is never saved with the table: `toJSON()` keeps the *name* of the environment variable to
 * read it from, and a literal `apiKey` must be passed again when the table is reopened.
 * 429 and 5xx answers, timeouts and network errors are retried with bounded exponential backoff.
 */
import { createError } from "../errors.js";
import type { EmbeddingFunction, EmbeddingFunctionFactory, EmbeddingFunctionJSON } from "./types.js";

export interface OpenAIOptions {
  /** Default "text-embedding-3-small" (1536-d). */
  model?: string;
  /** Default "https://api.openai.com/v1"; the function posts to `${baseUrl}/embeddings`. */
  baseUrl?: string;
  /** Not saved with the table. Takes precedence over `apiKeyEnv`. */
  apiKey?: string;
  /**
   * Environment variable holding the key, read at request time (Node, Deno). Default "OPENAI_API_KEY".
   * When it is unset, requests go without a key to services other than api.openai.com (local servers).
   */
  apiKeyEnv?: string;
  /** Ask the service for shorter vectors (text-embedding-3 models). */
  dimensions?: number;
  /** Vector length to report before the first request, for models Quiver does not know. */
  ndims?: number;
  /** Texts per request. Default 256 (OpenAI accepts up to 2048 inputs and 300k tokens per request). */
  batchSize?: number;
  /** Retries after a 429, a 5xx, a timeout or a network error. Default 4; 0 never retries. */
  maxRetries?: number;
  /** First backoff; doubles each retry (with jitter), at most `maxRetryDelayMs`. Default 500. A Retry-After header wins when present. */
  retryDelayMs?: number;
  /** Cap on one backoff, Retry-After included. Default 20,000. */
  maxRetryDelayMs?: number;
  /** Per request. Default 60,000. */
  timeoutMs?: number;
  /** Not saved. Extra request headers (e.g. an organization or a gateway token). */
  headers?: Readonly<Record<string, string>>;
  /** Not saved. The fetch to use (default: global fetch). */
  fetch?: typeof fetch;
}

const KNOWN_DIMS: Readonly<Record<string, number>> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
};

const DEFAULT_BASE_URL = "https://api.openai.com/v1";
const SAVED_KEYS = ["model", "baseUrl", "apiKeyEnv", "dimensions", "ndims", "batchSize", "maxRetries", "retryDelayMs", "maxRetryDelayMs", "timeoutMs"] as const;

function readEnv(name: string): string | undefined {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> }; Deno?: { env: { get(n: string): string | undefined } } };
  try {
    return g.process?.env?.[name] ?? g.Deno?.env.get(name);
  } catch {
    return undefined; // Deno without --allow-env
  }
}

function positiveInt(name: string, v: unknown, min = 1): void {
  if (v !== undefined && (!Number.isInteger(v) || (v as number) < min)) {
    throw createError("INVALID_ARGUMENT", `openai embedding function: ${name} must be an integer >= ${min}, got ${String(v)}.`);
  }
}

export class OpenAIEmbeddingFunction implements EmbeddingFunction {
  readonly embeddingDataType = "float32" as const;
  readonly preferredBatchSize: number;
  readonly #options: OpenAIOptions;
  #learnedDims: number | undefined;

  constructor(options: OpenAIOptions = {}) {
    if (options.model !== undefined && (typeof options.model !== "string" || options.model.length === 0)) {
      throw createError("INVALID_ARGUMENT", `openai embedding function: model must be a non-empty string, got ${JSON.stringify(options.model)}.`);
    }
    if (options.baseUrl !== undefined) {
      try { new URL(options.baseUrl); } catch {
        throw createError("INVALID_ARGUMENT", `openai embedding function: baseUrl ${JSON.stringify(options.baseUrl)} is not an absolute URL.`);
      }
    }
    positiveInt("dimensions", options.dimensions);
    positiveInt("ndims", options.ndims);
    positiveInt("batchSize", options.batchSize);
    positiveInt("maxRetries", options.maxRetries, 0);
    positiveInt("retryDelayMs", options.retryDelayMs, 0);
    positiveInt("maxRetryDelayMs", options.maxRetryDelayMs, 0);
    positiveInt("timeoutMs", options.timeoutMs);
    this.#options = { ...options };
    this.preferredBatchSize = options.batchSize ?? 256;
  }

  get model(): string {
    return this.#options.model ?? "text-embedding-3-small";
  }

  get url(): string {
    return `${(this.#options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "")}/embeddings`;
  }

  ndims(): number | undefined {
    return this.#options.dimensions ?? this.#options.ndims ?? this.#learnedDims ?? KNOWN_DIMS[this.model];
  }

  /** `{ name: "openai", model, baseUrl?, apiKeyEnv?, … }`: never the key itself, nor headers. */
  toJSON(): EmbeddingFunctionJSON {
    const out: Record<string, unknown> = { name: "openai", model: this.model };
    for (const k of SAVED_KEYS) if (this.#options[k] !== undefined && !(k in out)) out[k] = this.#options[k];
    return out as EmbeddingFunctionJSON;
  }

  private apiKey(): string | undefined {
    if (this.#options.apiKey !== undefined) return this.#options.apiKey;
    const envName = this.#options.apiKeyEnv ?? "OPENAI_API_KEY";
    const key = readEnv(envName);
    if (key) return key;
    const needsKey = this.#options.apiKeyEnv !== undefined || this.#options.baseUrl === undefined || new URL(this.url).hostname === "api.openai.com";
    if (needsKey) {
      throw createError("INVALID_ARGUMENT", `openai embedding function: no API key. Set the environment variable ${envName}, or pass { apiKey } when creating the function (keys are not saved with tables, so pass it again when reopening one).`);
    }
    return undefined;
  }

  computeSourceEmbeddings(texts: string[]): Promise<Float32Array[]> {
    return this.request(texts);
  }

  async computeQueryEmbeddings(query: string): Promise<Float32Array> {
    const [v] = await this.request([query]);
    return v!;
  }

  private async request(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const key = this.apiKey();
    // The request, retry and answer-checking code loads on first use: the core does not carry it.
    const { requestEmbeddings } = await import("./openai-client.js");
    const out = await requestEmbeddings({ url: this.url, model: this.model, key, options: this.#options }, texts);
    this.#learnedDims ??= out[0]!.length;
    return out;
  }
}

export const openAIFactory: EmbeddingFunctionFactory<OpenAIOptions> = {
  create: (options) => new OpenAIEmbeddingFunction(options),
};
