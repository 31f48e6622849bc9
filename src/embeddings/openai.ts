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

interface EmbeddingsResponse {
  data?: { embedding?: unknown; index?: number }[];
}

class RetryableError extends Error {
  constructor(message: string, readonly status: number | undefined, readonly retryAfterMs: number | undefined, override readonly cause?: unknown) {
    super(message);
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
    const body = JSON.stringify({ model: this.model, input: texts, encoding_format: "float", ...(this.#options.dimensions !== undefined && { dimensions: this.#options.dimensions }) });
    const headers: Record<string, string> = { "content-type": "application/json", ...this.#options.headers };
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    const maxRetries = this.#options.maxRetries ?? 4;
    const base = this.#options.retryDelayMs ?? 500;
    const cap = this.#options.maxRetryDelayMs ?? 20_000;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.post(body, headers, texts.length);
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        if (attempt >= maxRetries) {
          throw createError("EMBEDDING_FAILED", `${e.message} (gave up after ${attempt + 1} attempt${attempt === 0 ? "" : "s"}).`, { status: e.status, url: this.url, attempts: attempt + 1 }, e.cause ?? e);
        }
        const backoff = e.retryAfterMs ?? base * 2 ** attempt * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, Math.min(cap, backoff)));
      }
    }
  }

  /** One attempt: resolves to vectors, throws RetryableError for what may pass, a QuiverError for what will not. */
  private async post(body: string, headers: Record<string, string>, count: number): Promise<Float32Array[]> {
    const url = this.url;
    const doFetch = this.#options.fetch ?? globalThis.fetch;
    let res: Response;
    try {
      res = await doFetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(this.#options.timeoutMs ?? 60_000) });
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
      throw new RetryableError(timedOut ? `POST ${url} timed out` : `POST ${url} failed: ${e instanceof Error ? e.message : String(e)}`, undefined, undefined, e);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      let detail = text.slice(0, 300);
      try {
        const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
        if (typeof m === "string") detail = m;
      } catch { /* not JSON: keep the text */ }
      const said = `${url} answered ${res.status}${detail ? `: ${detail}` : ""}`;
      if (res.status === 429 || res.status >= 500) throw new RetryableError(said, res.status, retryAfterMs(res.headers.get("retry-after")));
      const details = { status: res.status, url };
      if (res.status === 401 || res.status === 403) {
        throw createError("INVALID_ARGUMENT", `The embedding service rejected the API key (${said}). Check ${this.#options.apiKey !== undefined ? "the apiKey option" : `the ${this.#options.apiKeyEnv ?? "OPENAI_API_KEY"} environment variable`}.`, details);
      }
      if (res.status === 404) throw createError("NOT_FOUND", `The embedding service has no such model or endpoint (${said}). Check baseUrl and model "${this.model}".`, details);
      throw createError("INVALID_ARGUMENT", `The embedding service refused the request (${said}).`, details);
    }
    let json: EmbeddingsResponse;
    try {
      json = (await res.json()) as EmbeddingsResponse;
    } catch (e) {
      throw createError("EMBEDDING_FAILED", `${url} answered 200 with a body that is not JSON.`, { url }, e);
    }
    const data = json?.data;
    if (!Array.isArray(data) || data.length !== count) {
      throw createError("EMBEDDING_FAILED", `${url} returned ${Array.isArray(data) ? data.length : "no"} embeddings for ${count} inputs.`, { url });
    }
    const out = new Array<Float32Array>(count);
    data.forEach((d, i) => {
      const at = typeof d?.index === "number" ? d.index : i;
      if (!Array.isArray(d?.embedding) || !Number.isInteger(at) || at < 0 || at >= count || out[at] !== undefined) {
        throw createError("EMBEDDING_FAILED", `${url} returned a malformed embedding at position ${i}.`, { url });
      }
      out[at] = Float32Array.from(d.embedding as number[]);
    });
    this.#learnedDims ??= out[0]!.length;
    return out;
  }
}

/** Retry-After is seconds or an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const s = Number(header);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(header);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

export const openAIFactory: EmbeddingFunctionFactory<OpenAIOptions> = {
  create: (options) => new OpenAIEmbeddingFunction(options),
};
