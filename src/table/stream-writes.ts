/**
 * Writes from a stream of record batches (an async iterable): each batch is converted and checked as
 * it is read, batches are gathered into fragments of about `fragmentBytes` and written, and the
 * caller commits them in one version — so a large import never sits whole in memory, and a stream
 * that fails midway commits nothing (the files it wrote are deleted).
 */
import { arrowConversions, type ColumnBatch } from "../arrow/detect.js";
import { columnBytes, type Column } from "../data/column.js";
import { schema as makeSchema, type Schema } from "../data/schema.js";
import { createError } from "../errors.js";
import { Dataset, type TableState, type Transaction } from "../dataset/dataset.js";
import type { Session } from "../session.js";
import type { BlobStore } from "../storage/blob-store.js";
import type { Fragment } from "../dataset/fragment.js";
import type { WriteProgress } from "./writes.js";

/** Columns checked against the table schema, as a stream of batches hands them over. */
export interface ColumnChunk {
  readonly numRows: number;
  readonly columns: Map<string, Column>;
}

export interface StreamWriteOptions {
  /**
   * A fragment ends once the batches written to it since the last one hold this many bytes
   * (default 64 MiB). Fewer, larger fragments scan faster; `optimize()` merges small ones later.
   * What the write holds at once: on stores that write streams (OPFS, the file system) a batch and
   * the fragment's columns other than its widest fixed-width one (the vectors go to the file batch
   * by batch); elsewhere, and for tables without a fixed-width column, a fragment's worth.
   */
  readonly fragmentBytes?: number;
  /** Most rows per fragment (default 1,048,576, the compaction target). */
  readonly fragmentRows?: number;
  /** Called after each fragment is written: rows written so far, and rows read from the stream so far. */
  readonly progress?: (p: WriteProgress) => void;
}

const FRAGMENT_BYTES = 64 * 2 ** 20;
const FRAGMENT_ROWS = 1_048_576;

/**
 * Writes a stream of column chunks as fragments. Nothing is committed here: the caller commits the
 * returned fragments in one version (a failed stream leaves no version behind). When the stream
 * fails, the data files already written are deleted (best effort; cleanup sweeps what remains).
 *
 * Where the store writes streams (putStream: OPFS, the file system), a fragment's widest
 * fixed-width column (the vectors) goes to its file batch by batch (storage/fragment-stream.ts), so
 * the write holds about one batch and the fragment's small columns, not a fragment's worth of rows.
 * Elsewhere (and for tables without a fixed-width column) the batches of a fragment are gathered
 * and written at once: an in-memory table keeps its columns anyway, and a store without putStream
 * would gather the streamed parts into one buffer itself.
 */
export async function writeColumnStream(
  ds: Dataset, schema: Schema, chunks: AsyncIterable<ColumnChunk>, options: StreamWriteOptions = {},
): Promise<{ added: Fragment[]; numRows: number }> {
  const maxBytes = options.fragmentBytes ?? FRAGMENT_BYTES;
  const maxRows = options.fragmentRows ?? FRAGMENT_ROWS;
  // A store that cannot write a stream (IndexedDB, key-value stores) would gather the parts into
  // one buffer anyway: writing the fragment at once costs it one copy less.
  const streamed = ds.store.inMemory === true || ds.store.putStream === undefined ? undefined : await import("./stream-fragment.js");
  const wide = streamed?.widestField(schema.fields);
  const added: Fragment[] = [];
  const it = chunks[Symbol.asyncIterator]();
  let numRows = 0;
  let written = 0;
  /** The stream's next batch that has rows; undefined at its end. */
  const next = async (): Promise<ColumnChunk | undefined> => {
    for (let r = await it.next(); r.done !== true; r = await it.next()) {
      if (r.value.numRows === 0) continue;
      numRows += r.value.numRows;
      return r.value;
    }
    return undefined;
  };
  try {
    for (let first = await next(); first !== undefined; first = await next()) {
      let rows = 0;
      let bytes = 0;
      /** A fragment's batches: `first`, then more until it is full or the stream ends. */
      const batches = async function* (): AsyncGenerator<ColumnChunk> {
        for (let c: ColumnChunk | undefined = first!; c !== undefined; c = await next()) {
          yield c;
          rows += c.numRows;
          for (const col of c.columns.values()) bytes += columnBytes(col);
          if (bytes >= maxBytes || rows >= maxRows) return;
        }
      };
      if (wide === undefined) {
        const pending: ColumnChunk[] = [];
        for await (const c of batches()) pending.push(c);
        // The batches' columns go to the file as pieces: a fragment's vectors are not joined into one copy first.
        const columns = new Map(schema.fields.map((f) => [f.name, pending.map((c) => c.columns.get(f.name)!)] as const));
        added.push(await ds.writeFragment(schema, columns, rows));
      } else {
        added.push(await streamed!.writeStreamedFragment(ds, schema.fields, wide, batches()));
      }
      written += rows;
      options.progress?.({ phase: "write", rowsDone: written, rowsTotal: numRows });
    }
  } catch (e) {
    await it.return?.();
    await Promise.all(added.flatMap((f) => f.files.map((d) => ds.store.delete(d.key).catch(() => undefined))));
    throw e;
  }
  return { added, numRows };
}

/** The stream's batches fitted to `schema`. */
async function* fitted(batches: AsyncIterable<ColumnBatch>, schema: Schema): AsyncGenerator<ColumnChunk> {
  const { fitColumns } = await arrowConversions();
  for await (const batch of batches) yield { numRows: batch.numRows, columns: fitColumns(batch, schema) };
}

/**
 * The fragments of a new table (or of a table being overwritten) from a stream: the first batch
 * decides the schema unless one is `given`, and its Arrow schema metadata the saved embedding
 * configs. `target` writes the files (Dataset.writer for a table that does not exist yet).
 */
export async function streamForTable(
  target: Dataset, data: AsyncIterable<unknown>, given: Schema | undefined, options: StreamWriteOptions,
): Promise<{ schema: Schema; config: Record<string, unknown>; added: Fragment[] }> {
  const { arrowColumnStream, embeddingConfigFromMetadata } = await arrowConversions();
  const batches = arrowColumnStream(data)[Symbol.asyncIterator]();
  const first = await batches.next();
  if (first.done && given === undefined) throw createError("INVALID_ARGUMENT", "The stream of record batches is empty, so it has no schema; pass { schema } or use createEmptyTable(name, schema).");
  const schema = given ?? makeSchema(first.value!.schema.fields);
  const config = first.done ? {} : embeddingConfigFromMetadata(first.value.metadata);
  const all = (async function* () {
    if (first.done) return;
    yield first.value;
    for (let next = await batches.next(); !next.done; next = await batches.next()) yield next.value;
  })();
  const { added } = await writeColumnStream(target, schema, fitted(all, schema), options);
  return { schema, config, added };
}

/**
 * A new table (or new contents of an existing one: an overwrite) from a stream, in one commit. The
 * table appears whole or not at all: a stream that fails midway creates nothing.
 */
export async function createFromStream(
  store: BlobStore, session: Session, name: string, data: AsyncIterable<unknown>, given: Schema | undefined, options: StreamWriteOptions,
): Promise<Dataset> {
  const exists = (await Dataset.latestVersion(store, name)) !== undefined;
  const target = exists ? await Dataset.open(store, name, session) : Dataset.writer(store, name, session);
  const { schema, config, added } = await streamForTable(target, data, given, options);
  if (exists) {
    const head = target.head();
    await target.commit({ type: "overwrite", readVersion: head.version, fragments: [], added, schema, indices: [], config });
    return target;
  }
  try {
    return await Dataset.create(store, name, session, schema, { fragments: added }, config);
  } catch (e) {
    // Another writer created the table meanwhile: the files written for this one are not needed.
    await Promise.all(added.flatMap((f) => f.files.map((d) => store.delete(d.key).catch(() => undefined))));
    throw e;
  }
}

/** An append (or overwrite) of `head`'s table from a stream, as a transaction; null when the stream was empty. */
export async function streamTransaction(
  ds: Dataset, head: TableState, data: AsyncIterable<unknown>, mode: "append" | "overwrite", options: StreamWriteOptions,
): Promise<Transaction | null> {
  const { arrowColumnStream } = await arrowConversions();
  const { added, numRows } = await writeColumnStream(ds, head.schema, fitted(arrowColumnStream(data), head.schema), options);
  if (numRows === 0 && mode === "append") return null;
  return mode === "overwrite" ? { type: "overwrite", readVersion: head.version, fragments: [], added } : { type: "append", readVersion: head.version, added };
}
