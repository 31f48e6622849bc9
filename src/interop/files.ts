/**
 * Whole tables in and out of files: `importTable` reads an Arrow IPC file or stream, or a Parquet
 * file, batch by batch into a new table (committed once, at the end); `exportTable` writes a table
 * as an Arrow IPC file or stream, one fragment at a time. See docs/INTEROP.md.
 */
import { createError } from "../errors.js";
import type { ColumnBatch } from "../arrow/detect.js";
import { provideApacheArrow } from "../arrow/apache-arrow.js";
import { loadArrow } from "../arrow/to-arrow.js";
import type { CreateTableOptions } from "../connection.js";
import type { Schema } from "../data/schema.js";
import type { HttpStoreOptions } from "../storage/http-store.js";
import type { Table } from "../table.js";
import { embeddingMetadata } from "../arrow/embedding-metadata.js";
import { yieldToEventLoop } from "../util/yield.js";
import { exportBatch, exportSchema, readArrowIpc, writeArrowIpc } from "./arrow-ipc.js";
import { openByteSource, readingAhead, type ByteSource, type FileSource } from "./byte-source.js";
import { openParquet, type ParquetReadOptions } from "./parquet.js";

export type { FileSource } from "./byte-source.js";

export interface ImportProgress {
  /** Rows read and converted so far (written into fragments as they accumulate). */
  readonly rowsDone: number;
  /** Rows in the file when its footer says (Parquet); undefined for Arrow IPC. */
  readonly rowsTotal: number | undefined;
  /** Bytes read from the file, or received over HTTP, so far. */
  readonly bytesRead: number;
  /** The file's size in bytes. */
  readonly bytesTotal: number;
}

export interface FileReadOptions extends ParquetReadOptions {
  /**
   * `arrow` (IPC file or stream) or `parquet`. Default: recognised from the file's first bytes
   * (`PAR1`, `ARROW1`, or an IPC stream's first message).
   */
  format?: "arrow" | "parquet";
  /** Called after each batch (a Parquet row group, an Arrow record batch) is read and converted. */
  onProgress?: (progress: ImportProgress) => void;
  /** Stops the import between batches with ABORTED; nothing is created. */
  signal?: AbortSignal;
  /** For http(s) URLs: headers, timeouts, retries (as for `connect(url, { http })`). */
  http?: HttpStoreOptions;
  /** Rows gathered per fragment: see CreateTableOptions.fragmentBytes (default 64 MiB). */
  fragmentBytes?: number;
  fragmentRows?: number;
}

export interface ImportOptions extends FileReadOptions {
  /** `create` (default) fails with TABLE_EXISTS when the table exists; `overwrite` replaces its rows in a new version. */
  mode?: CreateTableOptions["mode"];
  /** The table's schema, when it should differ from the file's (values are converted with the usual checks). */
  schema?: CreateTableOptions["schema"];
}

export interface AddFromFileOptions extends FileReadOptions {
  /** `append` (default) or `overwrite`. */
  mode?: "append" | "overwrite";
}

/** Bytes an IPC reader asks for at once: one request per window when it reads a stream in small pieces. */
const IPC_READ_AHEAD = 4 * 2 ** 20;

type Format = "arrow" | "parquet";

async function detectFormat(source: ByteSource): Promise<Format> {
  const head = await source.read(0, 8);
  const text = String.fromCharCode(...head.subarray(0, 6));
  if (text.startsWith("PAR1")) return "parquet";
  if (text === "ARROW1") return "arrow";
  // An IPC stream starts with a message: the continuation marker 0xFFFFFFFF (or, before Arrow 0.15, its length).
  if (head.length >= 4 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff) return "arrow";
  throw createError("CORRUPT_FILE", `${source.name} is neither a Parquet file nor an Arrow IPC file or stream (it starts with bytes ${[...head].map((b) => b.toString(16).padStart(2, "0")).join(" ")}).`, { file: source.name });
}

export interface OpenedFile {
  readonly format: Format;
  /** Rows, when the file says (Parquet). */
  readonly numRows: number | undefined;
  readonly source: ByteSource;
  readonly batches: AsyncGenerator<ColumnBatch>;
}

/** Opens a file for reading batch by batch (what importTable and addFromFile read). */
export async function openDataFile(input: FileSource, options: FileReadOptions = {}): Promise<OpenedFile> {
  const source = await openByteSource(input, { http: options.http });
  try {
    if (source.size === 0) throw createError("CORRUPT_FILE", `${source.name} is empty.`, { file: source.name });
    const format = options.format ?? await detectFormat(source);
    if (format !== "arrow" && format !== "parquet") throw createError("INVALID_ARGUMENT", `format must be "arrow" or "parquet", got ${JSON.stringify(format)}.`);
    if (format === "parquet") {
      const file = await openParquet(source, options);
      return { format, numRows: file.numRows, source, batches: file.batches };
    }
    if (options.columns !== undefined) throw createError("INVALID_ARGUMENT", "columns selects Parquet columns; an Arrow IPC file is read whole.");
    const ahead = readingAhead(source, IPC_READ_AHEAD);
    return { format, numRows: undefined, source, batches: readArrowIpc(ahead) };
  } catch (e) {
    await source.close();
    throw e;
  }
}

/** The file's batches, reporting progress, checking the signal and yielding to the event loop between them. */
async function* tracked(file: OpenedFile, options: FileReadOptions): AsyncGenerator<ColumnBatch> {
  let rows = 0;
  for await (const batch of file.batches) {
    if (options.signal?.aborted) throw createError("ABORTED", `Import of ${file.source.name} cancelled.`, {}, options.signal.reason);
    rows += batch.numRows;
    options.onProgress?.({ rowsDone: rows, rowsTotal: file.numRows, bytesRead: file.source.bytesFetched, bytesTotal: file.source.size });
    yield batch;
    await yieldToEventLoop();
  }
  if (options.signal?.aborted) throw createError("ABORTED", `Import of ${file.source.name} cancelled.`, {}, options.signal.reason);
}

/**
 * Creates table `name` from an Arrow IPC file or stream, or a Parquet file: a path (Node, Deno),
 * an http(s) URL (read with range requests), a File/Blob, or bytes. Batches are read, checked and
 * written as fragments as they come, and the table is committed once at the end: a file that turns
 * out to be malformed midway (CORRUPT_FILE), a value that does not fit (SCHEMA_MISMATCH, …) or an
 * abort leaves no table behind. Embedding configs in the Arrow schema metadata are kept.
 */
/**
 * What importTable needs of a connection: a `Connection`, or quiverdb/worker's `RemoteConnection`
 * (whose client gathers the batches on the calling thread and posts them: memory is then not bounded).
 */
export interface TableCreator<T> {
  createTable(name: string, data: AsyncIterable<never>, options: CreateTableOptions): Promise<T>;
}

/** What exportTable reads of a table: a `Table`, or quiverdb/worker's `RemoteTable`. */
export type ExportableTable = Pick<Table, "name" | "quiverSchema" | "tableConfig" | "countRows" | "liveBatches">;

export async function importTable<T = Table>(db: TableCreator<T>, name: string, input: FileSource, options: ImportOptions = {}): Promise<T> {
  const file = await openDataFile(input, options);
  try {
    // A stream of column batches: createTable writes it fragment by fragment and commits once.
    return await db.createTable(name, tracked(file, options) as AsyncIterable<never>, {
      mode: options.mode, ...(options.schema ? { schema: options.schema } : {}),
      fragmentBytes: options.fragmentBytes, fragmentRows: options.fragmentRows,
    });
  } finally {
    await file.source.close();
  }
}

/** Appends the rows of a file (as importTable reads them) to `table`, in one new version. */
export async function addFromFile(table: Pick<Table, "add">, input: FileSource, options: AddFromFileOptions = {}): Promise<{ version: number }> {
  const file = await openDataFile(input, options);
  try {
    return await table.add(tracked(file, options) as AsyncIterable<never>, { mode: options.mode, fragmentBytes: options.fragmentBytes, fragmentRows: options.fragmentRows });
  } finally {
    await file.source.close();
  }
}

export interface ExportProgress {
  readonly rowsDone: number;
  readonly rowsTotal: number;
  readonly bytesWritten: number;
}

export interface ExportOptions {
  /** `file` (default: the IPC file format, `.arrow`, with a footer for random access) or `stream` (`.arrows`). */
  format?: "file" | "stream";
  /** Called after each fragment is written. */
  onProgress?: (progress: ExportProgress) => void;
  signal?: AbortSignal;
}

/** What a table is exported with: its Arrow schema, its embedding configs as schema metadata. */
async function exportPlan(table: ExportableTable): Promise<{ schema: Schema; metadata: Record<string, string>; rows: number }> {
  return { schema: await table.quiverSchema(), metadata: embeddingMetadata(await table.tableConfig()), rows: await table.countRows() };
}

/**
 * The table's live rows as the bytes of an Arrow IPC file or stream, yielded fragment by fragment
 * (one fragment's columns in memory at a time). Concatenated, the chunks are the file.
 */
export async function* exportArrowChunks(table: ExportableTable, options: ExportOptions = {}): AsyncGenerator<Uint8Array> {
  const format = options.format ?? "file";
  if (format !== "file" && format !== "stream") throw createError("INVALID_ARGUMENT", `format must be "file" or "stream", got ${JSON.stringify(format)}.`);
  provideApacheArrow();
  const a = await loadArrow();
  const plan = await exportPlan(table);
  const schema = exportSchema(a, plan.schema, plan.metadata);
  let rows = 0;
  let bytes = 0;
  const aborted = (): void => {
    if (options.signal?.aborted) throw createError("ABORTED", `Export of "${table.name}" cancelled.`, {}, options.signal.reason);
  };
  const batches = (async function* () {
    for await (const b of table.liveBatches()) {
      aborted();
      rows += b.numRows;
      yield exportBatch(a, schema, plan.schema, b.columns, b.numRows);
    }
  })();
  let reported = 0;
  for await (const chunk of writeArrowIpc(a, schema, batches, format)) {
    aborted();
    bytes += chunk.length;
    yield chunk;
    if (rows !== reported) {
      reported = rows;
      options.onProgress?.({ rowsDone: rows, rowsTotal: plan.rows, bytesWritten: bytes });
      await yieldToEventLoop();
    }
  }
}

/** Where exportTable writes: a path (Node, Deno), a WritableStream (a File System Access / OPFS file, a response body), or any object with write(chunk). */
export type ExportTarget = string | WritableStream<Uint8Array> | { write(chunk: Uint8Array): unknown; close?(): unknown };

type FsPromises = typeof import("node:fs/promises");
const FS_MODULE = "node:fs/promises";

/**
 * Writes the table as an Arrow IPC file (or stream) to `target`. A path is written to a temporary
 * file beside it and renamed into place when complete, so a failed export leaves no partial file.
 */
export async function exportTable(table: ExportableTable, target: ExportTarget, options: ExportOptions = {}): Promise<{ rows: number; bytes: number }> {
  let bytes = 0;
  const chunks = exportArrowChunks(table, options);
  if (typeof target === "string") {
    const fs = await (import(/* @vite-ignore */ FS_MODULE) as Promise<FsPromises>).catch((e: unknown) => {
      throw createError("UNSUPPORTED", "Exporting to a path works in Node and Deno; in a browser pass a WritableStream.", {}, e);
    });
    const temporary = `${target}.${Math.random().toString(36).slice(2)}.partial`;
    const handle = await fs.open(temporary, "w");
    try {
      for await (const chunk of chunks) {
        await handle.write(chunk);
        bytes += chunk.length;
      }
      await handle.sync();
    } catch (e) {
      await handle.close();
      await fs.rm(temporary, { force: true });
      throw e;
    }
    await handle.close();
    await fs.rename(temporary, target);
  } else if (typeof WritableStream !== "undefined" && target instanceof WritableStream) {
    const writer = target.getWriter();
    try {
      for await (const chunk of chunks) {
        await writer.write(chunk);
        bytes += chunk.length;
      }
      await writer.close();
    } catch (e) {
      await writer.abort(e).catch(() => undefined);
      throw e;
    }
  } else if (typeof target === "object" && target !== null && typeof (target as { write?: unknown }).write === "function") {
    const sink = target as { write(chunk: Uint8Array): unknown; close?(): unknown };
    for await (const chunk of chunks) {
      await sink.write(chunk);
      bytes += chunk.length;
    }
    await sink.close?.();
  } else {
    throw createError("INVALID_ARGUMENT", "exportTable writes to a path, a WritableStream, or an object with write(chunk).");
  }
  return { rows: await table.countRows(), bytes };
}
