/**
 * Files to import, read by range: a path (Node, Deno), an http(s) URL (HTTP range requests, with the
 * retries and timeouts of HttpStore), a `Blob` / `File` (browsers), or bytes already in memory. The
 * readers above (Arrow IPC, Parquet) ask for the ranges they need, so a column subset of a Parquet
 * file fetches only those column chunks, and nothing is read whole unless a reader asks for it.
 */
import { createError } from "../errors.js";
import { HttpStore, type HttpStoreOptions } from "../storage/http-store.js";

/** Where an import reads from. A string is a URL when it starts with http(s)://, else a file path. */
export type FileSource = string | URL | Blob | Uint8Array | ArrayBuffer;

export interface ByteSource {
  /** For messages: the path, URL or file name. */
  readonly name: string;
  readonly size: number;
  /** Bytes read from the file or received over the network so far. */
  readonly bytesFetched: number;
  /** Reads (file reads, HTTP requests) made so far. */
  readonly requests: number;
  /** Exactly `length` bytes at `offset` (fewer only at the end of the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

type FsPromises = typeof import("node:fs/promises");
const FS_MODULE = "node:fs/promises";

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== "undefined" && value instanceof Blob;
}

export async function openByteSource(source: FileSource, options: { http?: HttpStoreOptions } = {}): Promise<ByteSource> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return memorySource(source instanceof Uint8Array ? source : new Uint8Array(source));
  if (isBlob(source)) return blobSource(source);
  const href = source instanceof URL ? source.href : typeof source === "string" ? source : undefined;
  if (href === undefined) throw createError("INVALID_ARGUMENT", "An import source is a path, an http(s) URL, a Blob/File, or bytes (Uint8Array, ArrayBuffer).");
  if (/^https?:\/\//i.test(href)) return httpSource(href, options.http);
  if (/^file:\/\//i.test(href)) return fileSource(decodeURIComponent(new URL(href).pathname));
  if (source instanceof URL) throw createError("INVALID_ARGUMENT", `${href}: only http(s) and file URLs can be imported.`);
  return fileSource(href);
}

function clampedLength(size: number, offset: number, length: number): number {
  return Math.max(0, Math.min(length, size - offset));
}

function memorySource(bytes: Uint8Array): ByteSource {
  let requests = 0;
  let fetched = 0;
  return {
    name: "bytes",
    size: bytes.length,
    get bytesFetched() { return fetched; },
    get requests() { return requests; },
    async read(offset, length) {
      const n = clampedLength(bytes.length, offset, length);
      requests++;
      fetched += n;
      return bytes.subarray(offset, offset + n);
    },
    async close() {},
  };
}

function blobSource(blob: Blob): ByteSource {
  let requests = 0;
  let fetched = 0;
  const name = typeof (blob as File).name === "string" && (blob as File).name !== "" ? (blob as File).name : "Blob";
  return {
    name,
    size: blob.size,
    get bytesFetched() { return fetched; },
    get requests() { return requests; },
    async read(offset, length) {
      const n = clampedLength(blob.size, offset, length);
      requests++;
      fetched += n;
      return new Uint8Array(await blob.slice(offset, offset + n).arrayBuffer());
    },
    async close() {},
  };
}

async function fileSource(path: string): Promise<ByteSource> {
  let fs: FsPromises;
  try {
    fs = await (import(/* @vite-ignore */ FS_MODULE) as Promise<FsPromises>);
  } catch (e) {
    throw createError("UNSUPPORTED", `Importing ${path}: file paths can be read in Node and Deno only; in a browser pass a File or Blob, or a URL.`, {}, e);
  }
  let handle: Awaited<ReturnType<FsPromises["open"]>>;
  try {
    handle = await fs.open(path, "r");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw createError(code === "ENOENT" ? "NOT_FOUND" : "INVALID_ARGUMENT", `Cannot open ${path} for import: ${(e as Error).message}`, { path }, e);
  }
  const { size } = await handle.stat();
  let requests = 0;
  let fetched = 0;
  return {
    name: path,
    size,
    get bytesFetched() { return fetched; },
    get requests() { return requests; },
    async read(offset, length) {
      const n = clampedLength(size, offset, length);
      const out = new Uint8Array(n);
      let done = 0;
      while (done < n) {
        const { bytesRead } = await handle.read(out, done, n - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      requests++;
      fetched += done;
      return done === n ? out : out.subarray(0, done);
    },
    close: () => handle.close(),
  };
}

async function httpSource(url: string, options: HttpStoreOptions = {}): Promise<ByteSource> {
  const u = new URL(url);
  if (u.search || u.hash) throw createError("INVALID_ARGUMENT", `${url}: a URL with a query or fragment cannot be imported; serve the file at a plain path.`, { url });
  const slash = u.pathname.lastIndexOf("/");
  const key = decodeURIComponent(u.pathname.slice(slash + 1));
  if (key === "") throw createError("INVALID_ARGUMENT", `${url} names a directory, not a file.`, { url });
  const store = new HttpStore(`${u.origin}${u.pathname.slice(0, slash) || "/"}`, options);
  const info = await store.head(key);
  if (info === undefined) throw createError("NOT_FOUND", `${url}: no such file on the server.`, { url });
  return {
    name: url,
    size: info.size,
    get bytesFetched() { return store.bytesFetched; },
    get requests() { return store.requests; },
    async read(offset, length) {
      const n = clampedLength(info.size, offset, length);
      return n === 0 ? new Uint8Array(0) : store.getRange(key, offset, n);
    },
    close: () => store.close(),
  };
}

/**
 * Reads through a window of `readAhead` bytes, so a reader that asks for many small pieces in
 * order (an Arrow IPC stream: a length, a header, a body, per batch) makes one request per window.
 * Only a read that continues where the last one ended fills a window; a jump (a footer, a magic
 * number) reads just what it asks for.
 */
export function readingAhead(source: ByteSource, readAhead: number): ByteSource {
  let start = 0;
  let window: Uint8Array = new Uint8Array(0);
  let lastEnd = -1;
  return {
    name: source.name,
    size: source.size,
    get bytesFetched() { return source.bytesFetched; },
    get requests() { return source.requests; },
    async read(offset, length) {
      const n = clampedLength(source.size, offset, length);
      const sequential = offset === lastEnd;
      lastEnd = offset + n;
      if (offset >= start && offset + n <= start + window.length) return window.subarray(offset - start, offset - start + n);
      const end = start + window.length;
      if (sequential && offset >= start && offset < end) {
        // The read runs past the window: keep its part inside, fetch only what follows.
        const kept = window.subarray(offset - start);
        const more = await source.read(end, Math.max(readAhead, n - kept.length));
        window = new Uint8Array(kept.length + more.length);
        window.set(kept);
        window.set(more, kept.length);
        start = offset;
        return window.subarray(0, Math.min(n, window.length));
      }
      if (n >= readAhead || !sequential) return source.read(offset, n);
      start = offset;
      window = await source.read(offset, readAhead);
      return window.subarray(0, Math.min(n, window.length));
    },
    close: () => source.close(),
  };
}
