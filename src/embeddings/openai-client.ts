/**
 * The requests of the "openai" embedding function (openai.ts), loaded on its first use: one POST per
 * batch, 429 / 5xx / timeouts / network errors retried with bounded exponential backoff, and the
 * answer checked (count, order, shape) before it becomes vectors.
 */
import { createError } from "../errors.js";
import type { OpenAIOptions } from "./openai.js";

export interface OpenAIRequest {
  readonly url: string;
  readonly model: string;
  readonly key: string | undefined;
  readonly options: OpenAIOptions;
}

interface EmbeddingsResponse {
  data?: { embedding?: unknown; index?: number }[];
}

class RetryableError extends Error {
  constructor(message: string, readonly status: number | undefined, readonly retryAfterMs: number | undefined, override readonly cause?: unknown) {
    super(message);
  }
}

export async function requestEmbeddings(r: OpenAIRequest, texts: string[]): Promise<Float32Array[]> {
  const { key, options } = r;
  const body = JSON.stringify({ model: r.model, input: texts, encoding_format: "float", ...(options.dimensions !== undefined && { dimensions: options.dimensions }) });
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  const maxRetries = options.maxRetries ?? 4;
  const base = options.retryDelayMs ?? 500;
  const cap = options.maxRetryDelayMs ?? 20_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await post(r, body, headers, texts.length);
    } catch (e) {
      if (!(e instanceof RetryableError)) throw e;
      if (attempt >= maxRetries) {
        throw createError("EMBEDDING_FAILED", `${e.message} (gave up after ${attempt + 1} attempt${attempt === 0 ? "" : "s"}).`, { status: e.status, url: r.url, attempts: attempt + 1 }, e.cause ?? e);
      }
      const backoff = e.retryAfterMs ?? base * 2 ** attempt * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, Math.min(cap, backoff)));
    }
  }
}

/** One attempt: resolves to vectors, throws RetryableError for what may pass, a QuiverError for what will not. */
async function post(r: OpenAIRequest, body: string, headers: Record<string, string>, count: number): Promise<Float32Array[]> {
  const { url, options } = r;
  const doFetch = options.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await doFetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
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
      throw createError("INVALID_ARGUMENT", `The embedding service rejected the API key (${said}). Check ${options.apiKey !== undefined ? "the apiKey option" : `the ${options.apiKeyEnv ?? "OPENAI_API_KEY"} environment variable`}.`, details);
    }
    if (res.status === 404) throw createError("NOT_FOUND", `The embedding service has no such model or endpoint (${said}). Check baseUrl and model "${r.model}".`, details);
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
  return out;
}

/** Retry-After is seconds or an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const s = Number(header);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(header);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}
