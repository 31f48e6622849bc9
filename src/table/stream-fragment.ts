/**
 * One fragment of a streamed write, its widest fixed-width column written to the store as the
 * batches arrive (storage/fragment-stream.ts). Loaded with the first streamed write to a store
 * outside this realm's memory.
 */
import type { Field } from "../data/schema.js";
import type { Dataset } from "../dataset/dataset.js";
import type { Fragment } from "../dataset/fragment.js";
import { writeStream } from "../storage/blob-store.js";
import { FragmentStream } from "../storage/fragment-stream.js";
import type { ColumnChunk } from "./stream-writes.js";

export { widestField } from "../storage/fragment-stream.js";

/**
 * Writes `batches` (every field's column each, at least one row in all) as one data file, `wide`
 * going to the store batch by batch and the other columns after it. When the batches or the write
 * fail, no file is left: the store writes through a temporary file, and the delete covers stores
 * that write in place.
 */
export async function writeStreamedFragment(ds: Dataset, fields: readonly Field[], wide: Field, batches: AsyncIterable<ColumnChunk>): Promise<Fragment> {
  const fragment = new FragmentStream(fields, wide);
  const key = ds.newDataFileKey();
  const parts = async function* (): AsyncGenerator<Uint8Array> {
    for await (const c of batches) yield* fragment.add(c.columns, c.numRows);
    yield* fragment.finish();
  };
  try {
    await writeStream(ds.store, key, undefined, parts());
  } catch (e) {
    await ds.store.delete(key).catch(() => undefined);
    throw e;
  }
  const rows = fragment.numRows;
  const file = { key, size: fragment.size, columns: Object.fromEntries(fields.map((f) => [f.name, f.name])) };
  return { id: -1, numRows: rows, files: [file], columns: new Map(), deletions: null, deletionFile: null, liveRows: rows };
}
