/**
 * Arrow IPC files and streams, in and out, a record batch at a time. apache-arrow's readers and
 * writers do the framing (the IPC file format is the stream format plus a footer of batch offsets):
 * reading goes through a file-handle view of a ByteSource, so the file format is read by offset
 * and the stream format in order, and neither is loaded whole. Writing yields the bytes each batch
 * becomes as soon as it is written.
 */
import type * as Arrow from "apache-arrow";
import { QuiverError, createError } from "../errors.js";
import type { ColumnBatch } from "../arrow/detect.js";
import { tabularToColumns } from "../arrow/from-arrow.js";
import { provideApacheArrow } from "../arrow/apache-arrow.js";
import { arrowData, arrowSchema, loadArrow, type ArrowModule } from "../arrow/to-arrow.js";
import type { Column } from "../data/column.js";
import type { Schema } from "../data/schema.js";
import type { ByteSource } from "./byte-source.js";

/** apache-arrow reads a "file handle" (Node's FileHandle shape) by position; this one reads a ByteSource. */
function fileHandle(source: ByteSource): object {
  return {
    fd: -1,
    stat: async () => ({ size: source.size }),
    async read(buffer: Uint8Array, offset: number, length: number, position: number) {
      const bytes = await source.read(position, length);
      buffer.set(bytes, offset);
      return { bytesRead: bytes.length, buffer };
    },
    close: async () => {},
  };
}

/** A failure inside apache-arrow while decoding: the bytes are not a well-formed Arrow IPC file. */
export function corrupt(source: ByteSource, e: unknown): QuiverError {
  if (e instanceof QuiverError) return e;
  return createError("CORRUPT_FILE", `${source.name} is not a readable Arrow IPC file or stream: ${(e as Error)?.message ?? String(e)}`, { file: source.name }, e);
}

/**
 * The record batches of an Arrow IPC file or stream as Quiver column batches, each converted when
 * the consumer asks for it. The first batch carries the schema's metadata (embedding configs).
 */
export async function* readArrowIpc(source: ByteSource): AsyncGenerator<ColumnBatch> {
  provideApacheArrow();
  const a = await loadArrow();
  let reader: Arrow.AsyncRecordBatchFileReader | Arrow.AsyncRecordBatchStreamReader;
  try {
    reader = await (a.RecordBatchReader.from(fileHandle(source) as never) as unknown as Promise<typeof reader>);
    await reader.open();
  } catch (e) {
    throw corrupt(source, e);
  }
  if (reader.schema === undefined || reader.schema === null) {
    throw createError("CORRUPT_FILE", `${source.name} is not an Arrow IPC file or stream (no schema message).`, { file: source.name });
  }
  const iterator = reader[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Arrow.RecordBatch>;
      try {
        next = await iterator.next();
      } catch (e) {
        throw corrupt(source, e);
      }
      if (next.done) return;
      const batch = next.value;
      // Schema metadata rides on the reader's schema; batches read from a file may lack it.
      yield tabularToColumns(batch.schema.metadata.size > 0 ? batch : new a.RecordBatch(reader.schema, batch.data));
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The Arrow schema a table is exported with: its fields plus the schema-level metadata given. */
export function exportSchema(a: ArrowModule, schema: Schema, metadata: Readonly<Record<string, string>>): Arrow.Schema {
  const fields = arrowSchema(a, schema).fields;
  return new a.Schema(fields, new Map(Object.entries(metadata)));
}

/** Columns as a record batch of `schema` (built by exportSchema, so every batch has the writer's schema). */
export function exportBatch(a: ArrowModule, schema: Arrow.Schema, quiver: Schema, columns: ReadonlyMap<string, Column>, numRows: number): Arrow.RecordBatch {
  const children = quiver.fields.map((f) => arrowData(a, columns.get(f.name)!, f.name));
  return new a.RecordBatch(schema, a.makeData({ type: new a.Struct(schema.fields), length: numRows, nullCount: 0, children }));
}

/**
 * The bytes of an IPC file (`"file"`) or stream (`"stream"`) of `batches`, yielded as each batch is
 * written: the schema first, then each batch, then the end (stream) or footer (file).
 */
export async function* writeArrowIpc(
  a: ArrowModule, schema: Arrow.Schema, batches: AsyncIterable<Arrow.RecordBatch>, format: "file" | "stream",
): AsyncGenerator<Uint8Array> {
  const writer = format === "file" ? new a.RecordBatchFileWriter() : new a.RecordBatchStreamWriter();
  // The writer queues its output; exactly one pending read is kept on the queue, and after each
  // write the chunks already queued are taken without waiting for more.
  const queue = writer[Symbol.asyncIterator]();
  let pending = queue.next();
  const EMPTY = Symbol("empty");
  async function* drain(final: boolean): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = final ? await pending : await Promise.race([pending, Promise.resolve(EMPTY)]);
      if (r === EMPTY || (r as IteratorResult<Uint8Array>).done) return;
      pending = queue.next();
      yield (r as IteratorResult<Uint8Array>).value;
    }
  }
  writer.reset(undefined, schema);
  yield* drain(false);
  for await (const batch of batches) {
    writer.write(batch);
    yield* drain(false);
  }
  writer.finish();
  yield* drain(true);
}
