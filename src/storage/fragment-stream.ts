/**
 * A fragment file encoded as a stream's batches arrive, so a streamed write holds about one batch
 * instead of one fragment (a 50,000-row fragment of 384-d float32 vectors is 73 MiB). The widest
 * fixed-width column (by bytes per row: the vectors) goes to the file batch by batch, its whole-buffer
 * and per-chunk CRCs carried along; the other columns, its validity bytes and the chunk table stay
 * until the fragment ends, and follow it, with the footer:
 *
 *   | header | wide values (batch, batch, …) | pad | wide chunk CRCs | wide validity? | other columns … | footer |
 *
 * The footer names every buffer by [offset, length, crc32], so readers take any buffer order
 * (FragmentFile looks columns up by name): the same format as `encodeFragmentParts`, which writes
 * columns in schema order. Chunk CRCs and each column's buffers are the ones it computes.
 */
import type { Column, NumericArray } from "../data/column.js";
import type { Field } from "../data/schema.js";
import { crc32 } from "./crc32.js";
import {
  bytesOf, ChunkCrcs, chunkBytesFor, encodeColumnPieces, FileBuilder, FRAGMENT_FORMAT_VERSION, isFixedWidth, ROW_CHUNK_BYTES, rowBytes,
  type ColumnLayout,
} from "./fragment-file.js";

/** The fixed-width field with the most bytes per row (the first of equals), or undefined when none is fixed-width. */
export function widestField(fields: readonly Field[]): Field | undefined {
  let widest: Field | undefined;
  for (const f of fields) if (isFixedWidth(f.type) && (widest === undefined || rowBytes(f.type) > rowBytes(widest.type))) widest = f;
  return widest;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One fragment file, fed batch by batch (`add`, whose bytes the caller writes before the next batch)
 * and closed by `finish`: the bytes that follow the streamed column.
 */
export class FragmentStream {
  readonly #file = new FileBuilder();
  readonly #crcs: ChunkCrcs;
  readonly #valuesAt: number;
  #crc = 0;
  #rows = 0;
  /** The wide column's validity bytes per batch, from row `at` (null: every row present). */
  readonly #validity: { at: number; bytes: Uint8Array | null }[] = [];
  /** The other columns' batches, by field. */
  readonly #kept: Map<string, Column[]>;

  constructor(readonly fields: readonly Field[], readonly wide: Field) {
    this.#crcs = new ChunkCrcs(chunkBytesFor(wide.type));
    this.#valuesAt = this.#file.size;
    this.#kept = new Map(fields.filter((f) => f !== wide).map((f) => [f.name, []]));
  }

  get numRows(): number {
    return this.#rows;
  }

  /** Bytes of the file handed out so far (by `add` and `finish`): its size once finished. */
  get size(): number {
    return this.#file.size;
  }

  /**
   * Takes a batch (every field's column, `numRows` rows each) and returns the bytes to write now,
   * in order: the file's header with the first batch, then the wide column's rows (not copied: they
   * must not change until written). The other columns are kept.
   */
  add(columns: ReadonlyMap<string, Column>, numRows: number): Uint8Array[] {
    for (const f of this.fields) {
      const col = columns.get(f.name);
      if (col === undefined || col.length !== numRows) throw new Error(`FragmentStream: column ${f.name} missing or of wrong length`);
      if (f !== this.wide) this.#kept.get(f.name)!.push(col);
    }
    const col = columns.get(this.wide.name)!;
    const bytes = bytesOf(col.data as NumericArray);
    this.#file.push(bytes);
    this.#crc = crc32(bytes, this.#crc);
    this.#crcs.add(bytes);
    this.#validity.push({ at: this.#rows, bytes: col.validity });
    this.#rows += numRows;
    return this.#file.parts.splice(0);
  }

  /** The rest of the file, in order: the wide column's padding, chunk table and validity, the other columns, the footer. */
  finish(): Uint8Array[] {
    const f = this.#file;
    const values = [this.#valuesAt, f.size - this.#valuesAt, this.#crc] as const;
    f.pad();
    const size = this.#crcs.size;
    const layout: Mutable<ColumnLayout> = { length: this.#rows, values, valueChunks: f.buffer(bytesOf(Uint32Array.from(this.#crcs.crcs))), ...(size === ROW_CHUNK_BYTES ? {} : { chunkBytes: size }) };
    const layouts = new Map<string, ColumnLayout>([[this.wide.name, layout]]);
    if (this.#validity.some((v) => v.bytes !== null && v.bytes.includes(0))) {
      // A batch without validity bytes has every row present (as concatColumns joins them).
      const validity = new Uint8Array(this.#rows).fill(1);
      for (const v of this.#validity) if (v.bytes !== null) validity.set(v.bytes, v.at);
      layout.validity = f.buffer(validity);
      layout.validityChunks = f.chunks(validity, ROW_CHUNK_BYTES);
    }
    for (const field of this.fields) if (field !== this.wide) layouts.set(field.name, encodeColumnPieces(field.type, this.#kept.get(field.name)!, f));
    return f.finish({
      format: FRAGMENT_FORMAT_VERSION, numRows: this.#rows, chunkBytes: ROW_CHUNK_BYTES,
      columns: this.fields.map((field) => ({ name: field.name, type: field.type, ...layouts.get(field.name)! })),
    });
  }
}
