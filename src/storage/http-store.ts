/**
 * `https://…` (and `http://…`): a read-only store over files published to a web server, object
 * store or CDN, read with HTTP Range requests so that a reader fetches only the bytes it needs.
 *
 * Key `a/b.quiver` is fetched from `<base>/a/b.quiver` (each segment URL-encoded). What the server
 * must do:
 * - answer `Range: bytes=a-b` with 206 and `Content-Range` (a 200 with the whole body also works,
 *   but costs the whole file; the read stops as soon as it has the requested bytes);
 * - answer HEAD with `Content-Length`;
 * - serve files without `Content-Encoding` (ranges of a compressed body are not ranges of the file);
 * - for `list`, serve a listing written by the publisher at `<base>/_listing.json`: a JSON array of
 *   `{ "key": string, "size": number, "modified"?: number }`, one entry per object
 *   (`writeHttpListing` writes it). Without it `list` is UNSUPPORTED.
 *
 * Status 404 and 410 mean NOT_FOUND. Reads are idempotent, so a network failure, a timeout, a body
 * cut short or an answer 408/429/500/502/503/504 is retried with exponential backoff and jitter
 * (honouring a short Retry-After); what still fails is NETWORK_ERROR naming the URL, the status
 * and the attempts. Each attempt has a deadline covering the response and its whole body, so a
 * stalled server cannot hang a read. An AbortSignal in the options cancels everything (ABORTED).
 */
import { createError, isQuiverError } from "../errors.js";
import { joinParts, type BlobInfo, type BlobStore, type ByteRange, type RangeReadHint } from "./blob-store.js";
import type { Connection, ConnectionBudget } from "./http-connections.js";
import type { RangeTransport } from "./http-ranges.js";
import { lazyImport } from "../util/lazy.js";
import { checkKey, checkPrefix, checkRange, closedError, keySegments, notFoundError, readOnlyError, shortReadError } from "./keys.js";

export const LISTING_KEY = "_listing.json";

/**
 * The range-read module, loaded once: a query reads many ranges, and in a page each `import()`
 * resolves in a task of its own, so reads asked for together would go out in different tasks
 * (and requests).
 */
const rangeCode = lazyImport(() => import("./http-ranges.js"));

export interface HttpStoreOptions {
  /** The fetch to use. Default: the global `fetch`. For tests, proxies and runtimes with their own. */
  fetch?: typeof fetch;
  /** Headers sent with every request, e.g. `Authorization`. */
  headers?: Record<string, string>;
  /**
   * Deadline of one attempt, in ms, from sending the request to the last byte of its body.
   * Default 30000; 0 disables it. Lower it to fail over fast; raise it for huge whole-file reads on
   * slow links (range reads are small).
   */
  timeoutMs?: number;
  /** Attempts after the first for a read that failed in a way worth repeating (see above). Default 3; 0 disables. */
  retries?: number;
  /** Pause before the first retry, in ms; it doubles per retry, with jitter. Default 200. */
  retryDelayMs?: number;
  /** Longest pause between retries (and longest Retry-After honoured), in ms. Default 5000. */
  maxRetryDelayMs?: number;
  /** Cancels every request of this store, now and later (ABORTED). */
  signal?: AbortSignal;
  /**
   * Whether `getRanges` asks for many ranges in one request (`Range: bytes=a-b,c-d`, answered
   * `multipart/byteranges`). Default true. A server that answers with the whole file or with one
   * range only is detected on the first such request, and the store then sends one range per
   * request (in parallel); false skips that first try.
   */
  multiRange?: boolean;
  /**
   * Most requests in flight at once; the others wait, those a query is waiting on before reads
   * ahead of need (data files' footers opened while the index head travels). Default 0: no limit
   * of the store's own (the runtime's applies). Set 6 for a server that speaks HTTP/1.1 to a
   * browser, which opens 6 connections per host and queues the rest in order of sending, so a
   * query's next step would wait behind its own read-ahead; over HTTP/2 or HTTP/3 (most CDNs) one
   * connection carries every request at once, and a limit only lengthens the waves of a table of
   * many data files.
   */
  maxConnections?: number;
}


/** Statuses a retry may cure: timeouts, throttling and a server or gateway in trouble. */
const RETRY_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** What aborted an attempt when its deadline passed. */
class Deadline extends Error {}

export class HttpStore implements BlobStore {
  readonly readOnly = true;
  readonly remote = true;
  readonly uri: string;
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #multiRange: boolean;
  readonly #maxConnections: number;
  #connections: Promise<ConnectionBudget> | undefined;
  #budget: ConnectionBudget | undefined;
  #ranges: RangeTransport | undefined;
  #listing: Promise<Uint8Array> | undefined;
  #closed = false;
  #requests = 0;
  #bytesFetched = 0;

  /** `base` is the URL of the store's root directory, e.g. `https://cdn.example.com/db`. */
  constructor(base: string, options: HttpStoreOptions = {}) {
    let url: URL;
    try {
      url = new URL(base);
    } catch (error) {
      throw createError("INVALID_ARGUMENT", `${JSON.stringify(base)} is not a URL.`, { uri: base }, error);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw createError("INVALID_ARGUMENT", `${base}: HttpStore reads http:// and https:// URLs only.`, { uri: base });
    }
    if (url.search || url.hash) {
      throw createError("INVALID_ARGUMENT", `${base}: the store URL may not have a query or fragment.`, { uri: base });
    }
    this.uri = url.href.replace(/\/+$/, "");
    this.#base = `${this.uri}/`;
    const globalFetch = globalThis.fetch as typeof fetch | undefined;
    const chosen = options.fetch ?? globalFetch;
    if (!chosen) throw createError("UNSUPPORTED", `${base}: this runtime has no fetch; pass one in the options.`);
    // The global fetch throws "Illegal invocation" when called as a method of another object.
    this.#fetch = options.fetch ?? globalFetch!.bind(globalThis);
    this.#headers = { ...options.headers };
    const count = (name: string, value: number | undefined, fallback: number): number => {
      if (value === undefined) return fallback;
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw createError("INVALID_ARGUMENT", `http.${name} must be a non-negative number, got ${String(value)}.`, { [name]: value });
      }
      return value;
    };
    this.#timeoutMs = count("timeoutMs", options.timeoutMs, 30_000);
    this.#retries = Math.floor(count("retries", options.retries, 3));
    this.#retryDelayMs = count("retryDelayMs", options.retryDelayMs, 200);
    this.#maxRetryDelayMs = count("maxRetryDelayMs", options.maxRetryDelayMs, 5_000);
    this.#signal = options.signal;
    this.#multiRange = options.multiRange ?? true;
    this.#maxConnections = Math.floor(count("maxConnections", options.maxConnections, 0));
  }

  /** HTTP requests sent so far. */
  get requests(): number {
    return this.#requests;
  }

  /** Response body bytes received so far (what the network carried, less headers). */
  get bytesFetched(): number {
    return this.#bytesFetched;
  }

  /** The URL of `key`. */
  url(key: string): string {
    return this.#base + keySegments(key).map(encodeURIComponent).join("/");
  }

  async get(key: string): Promise<Uint8Array> {
    this.#checkOpen();
    checkKey(key);
    return this.#read("GET", key, {}, async (response) => {
      if (!response.ok) throw this.#statusError(response, "GET", key);
      return this.#body(response, Infinity);
    });
  }

  async getRange(key: string, offset: number, length: number, hint?: RangeReadHint): Promise<Uint8Array> {
    this.#checkOpen();
    checkRange(checkKey(key), offset, length);
    if (length === 0) {
      // "bytes=a-b" cannot say "nothing"; check the object exists and is long enough.
      const info = await this.head(key);
      if (!info) throw notFoundError(this.uri, key);
      if (offset > info.size) throw shortReadError(this.uri, key, offset, length, info.size);
      return new Uint8Array(0);
    }
    const last = offset + length - 1;
    // The answer's checks (206, 200, 416) load with the first range read (the core does not carry
    // them), while the request travels: on a cold page, not one round trip before it.
    const ranges = rangeCode();
    ranges.catch(() => {});
    return this.#read("GET", key, { Range: `bytes=${offset}-${last}` }, async (response) => (await ranges).rangeBody(this.#transport(), response, key, offset, length), this.#retries, hint?.ahead);
  }

  /** Many ranges in few requests: multi-range requests while the server answers them (http-ranges.ts). */
  async getRanges(key: string, ranges: readonly ByteRange[]): Promise<Uint8Array[]> {
    this.#checkOpen();
    for (const r of ranges) checkRange(checkKey(key), r.offset, r.length);
    return (await rangeCode()).getRanges(this.#transport(), key, ranges);
  }

  #transport(): RangeTransport {
    return (this.#ranges ??= {
      multiRange: this.#multiRange,
      maxConnections: this.#maxConnections,
      store: this,
      read: (k, range, consume, retries) => this.#read("GET", k, { Range: range }, consume, retries),
      body: (response, limit) => this.#body(response, limit),
      statusError: (response, k) => this.#statusError(response, "GET", k),
      url: (k) => this.url(k),
    });
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    this.#checkOpen();
    checkKey(key);
    const info = await this.#read("HEAD", key, {}, async (response) => {
      if (response.status === 404 || response.status === 410) return undefined;
      if (!response.ok) throw this.#statusError(response, "HEAD", key);
      return { modified: Date.parse(response.headers.get("Last-Modified") ?? ""), size: Number(response.headers.get("Content-Length") ?? Number.NaN) };
    });
    if (info === undefined) return undefined;
    // No length on HEAD (some servers and compressing proxies): a one-byte range read tells it.
    const size = Number.isSafeInteger(info.size) ? info.size : await (await rangeCode()).sizeByProbe(this.#transport(), key);
    return Number.isNaN(info.modified) ? { key, size } : { key, size, modified: info.modified };
  }

  /** Reads the publisher's listing (`_listing.json`); UNSUPPORTED when there is none. */
  async list(prefix: string): Promise<BlobInfo[]> {
    this.#checkOpen();
    checkPrefix(prefix);
    // Loads while the listing travels.
    const parser = import("./http-listing.js");
    // Lists asked for while one is on its way (the shards of a view opening) share its answer.
    const body = await (this.#listing ??= this.#read("GET", LISTING_KEY, {}, async (response) => {
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel();
        throw createError(
          "UNSUPPORTED",
          `${this.uri} cannot be listed: publish a ${LISTING_KEY} next to the files (see writeHttpListing), or open tables by name.`,
          { store: this.uri },
        );
      }
      if (!response.ok) throw this.#statusError(response, "GET", LISTING_KEY);
      return this.#body(response, Infinity);
    }).finally(() => (this.#listing = undefined)));
    return (await parser).parseListing(body, this.url(LISTING_KEY), this.uri, prefix);
  }

  /** Reads ahead of `key` still waiting for a connection are now waited on (see http-connections.ts). */
  needed(key: string): void {
    this.#budget?.needed(key);
  }

  async put(): Promise<void> {
    this.#checkOpen();
    throw readOnlyError(this.uri, "put");
  }

  async putIfAbsent(): Promise<boolean> {
    this.#checkOpen();
    throw readOnlyError(this.uri, "putIfAbsent");
  }

  async delete(): Promise<void> {
    this.#checkOpen();
    throw readOnlyError(this.uri, "delete");
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(this.uri);
  }

  /**
   * One read: sends the request and hands the response to `consume` (which reads the body) within
   * one attempt's deadline; retries what a retry may cure; types every failure.
   */
  async #read<T>(method: "GET" | "HEAD", key: string, headers: Record<string, string>, consume: (response: Response) => Promise<T>, retries = this.#retries, ahead = false): Promise<T> {
    const url = this.url(key);
    for (let attempt = 0; ; attempt++) {
      this.#throwIfAborted(method, url);
      // A connection is held from sending to the body's last byte (or the failure), not across a retry's pause.
      const connection: Connection | undefined = this.#maxConnections > 0 ? await (await this.#budgetLoaded()).acquire(key, ahead) : undefined;
      const controller = new AbortController();
      const cancel = (): void => controller.abort(this.#signal?.reason);
      this.#signal?.addEventListener("abort", cancel, { once: true });
      const timer = this.#timeoutMs > 0 ? setTimeout(() => controller.abort(new Deadline()), this.#timeoutMs) : undefined;
      let retryAfter: number | undefined;
      let failure: string;
      try {
        this.#throwIfAborted(method, url);
        this.#requests++;
        const response = await this.#fetch(url, { method, headers: { ...this.#headers, ...headers }, signal: controller.signal });
        if (method === "GET" && (response.status === 404 || response.status === 410)) {
          await response.body?.cancel();
          if (key !== LISTING_KEY) throw notFoundError(this.uri, key);
        }
        if (!RETRY_STATUS.has(response.status) || attempt >= retries) return await consume(response);
        await response.body?.cancel().catch(() => {});
        failure = `HTTP ${response.status} ${response.statusText}`.trim();
        retryAfter = retryAfterMs(response.headers.get("Retry-After"));
      } catch (error) {
        if (isQuiverError(error)) throw error;
        this.#throwIfAborted(method, url, error);
        const timedOut = controller.signal.aborted && controller.signal.reason instanceof Deadline;
        failure = timedOut ? `no complete answer within ${this.#timeoutMs} ms` : (error as Error)?.name === "WrongRange" ? (error as Error).message : `the connection failed (${(error as Error)?.message ?? String(error)})`;
        if (attempt >= retries) {
          throw createError(
            "NETWORK_ERROR",
            `${method} ${url} failed after ${attempt + 1} attempt${attempt > 0 ? "s" : ""}: ${failure}.`,
            { url, method, attempts: attempt + 1, timedOut },
            error,
          );
        }
      } finally {
        clearTimeout(timer);
        this.#signal?.removeEventListener("abort", cancel);
        connection?.release();
      }
      const backoff = Math.min(this.#maxRetryDelayMs, this.#retryDelayMs * 2 ** attempt) * (0.5 + Math.random() / 2);
      await this.#pause(retryAfter !== undefined && retryAfter <= this.#maxRetryDelayMs ? Math.max(retryAfter, backoff) : backoff, method, url);
    }
  }

  #budgetLoaded(): Promise<ConnectionBudget> {
    return (this.#connections ??= import("./http-connections.js").then(({ ConnectionBudget }) => (this.#budget = new ConnectionBudget(this.#maxConnections))));
  }

  #throwIfAborted(method: string, url: string, cause?: unknown): void {
    if (this.#signal?.aborted) throw createError("ABORTED", `${method} ${url} was cancelled.`, { url }, cause ?? this.#signal.reason);
  }

  #pause(ms: number, method: string, url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => { this.#signal?.removeEventListener("abort", stop); resolve(); };
      const stop = (): void => { clearTimeout(timer); reject(createError("ABORTED", `${method} ${url} was cancelled.`, { url }, this.#signal?.reason)); };
      const timer = setTimeout(done, ms);
      this.#signal?.addEventListener("abort", stop, { once: true });
    });
  }

  /** Reads the body until it ends or `limit` bytes have arrived, then stops the download. */
  async #body(response: Response, limit: number): Promise<Uint8Array> {
    if (!response.body) return new Uint8Array(0);
    const length = Number(response.headers.get("Content-Length") ?? Number.NaN);
    if (Number.isSafeInteger(length) && length > 0 && length <= limit) {
      const read = await this.#bodyInto(response.body, length);
      if (read !== undefined) return read;
    }
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      this.#bytesFetched += value.length;
    }
    if (total >= limit) await reader.cancel();
    return joinParts(chunks);
  }

  /**
   * A body of announced `length` read straight into one buffer of that size (a BYOB reader): the
   * bytes are copied once, not into a chunk each and then into one piece, which for the MBs of a
   * cold query is a visible share of its time (every copy touches fresh memory). Undefined when the
   * stream takes no BYOB reader (nothing read yet). A body longer than announced (compressed by a
   * server, with Content-Encoding hidden from a cross-origin page) is read on and joined.
   */
  async #bodyInto(body: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array | undefined> {
    let reader: ReadableStreamBYOBReader;
    try {
      reader = body.getReader({ mode: "byob" });
    } catch {
      return undefined;
    }
    let buffer = new ArrayBuffer(length);
    let at = 0;
    while (at < length) {
      const { done, value } = await reader.read(new Uint8Array(buffer, at, length - at));
      if (value !== undefined) {
        buffer = value.buffer as ArrayBuffer;
        at += value.byteLength;
        this.#bytesFetched += value.byteLength;
      }
      if (done) return new Uint8Array(buffer, 0, at);
    }
    const more: Uint8Array[] = [new Uint8Array(buffer)];
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(64 * 1024));
      if (value !== undefined && value.byteLength > 0) {
        more.push(value);
        this.#bytesFetched += value.byteLength;
      }
      if (done) break;
    }
    return joinParts(more);
  }

  #statusError(response: Response, method: string, key: string): Error {
    void response.body?.cancel().catch(() => {});
    const url = this.url(key);
    const why = response.status === 401 || response.status === 403 ? " (check the headers, e.g. Authorization, passed in the http options)" : "";
    return createError("NETWORK_ERROR", `${method} ${url}: HTTP ${response.status} ${response.statusText}${why}`.trim(), { url, method, status: response.status });
  }
}

/** Retry-After as ms (seconds or an HTTP date); undefined when absent or unreadable. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Writes `_listing.json` into `store` (a directory about to be published) listing every object
 * in it, so that an HttpStore over the published copy can `list`. Run it after the last write.
 */
export async function writeHttpListing(store: BlobStore): Promise<void> {
  const entries = (await store.list("")).filter((info) => info.key !== LISTING_KEY);
  const listing = entries.map(({ key, size, modified }) => (modified === undefined ? { key, size } : { key, size, modified }));
  await store.put(LISTING_KEY, new TextEncoder().encode(JSON.stringify(listing)));
}
