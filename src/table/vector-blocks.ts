/**
 * Vector columns in WebAssembly memory, owned by the session's cache. Exact search scans a
 * fragment's vector column as one block; the block is loaded on first use (read from the data file
 * and uploaded, the decoded JS column dropped at once), leased by the query that uses it, and freed
 * when the cache evicts it or the table's blocks are invalidated and no query holds it. Blocks are
 * keyed by data file and column, so every version sharing the data shares one block.
 */
import type { Schema } from "../data/schema.js";
import { vectorStride, type NumericArray } from "../data/column.js";
import type { Kernels } from "../kernels/index.js";
import type { Dataset } from "../dataset/dataset.js";
import type { Fragment } from "../dataset/fragment.js";
import type { LeaseScope } from "../session.js";
import type { VectorColumnBlock } from "../query/vector-search.js";

export function leaseVectorBlock(
  ds: Dataset, schema: Schema, kernels: () => Promise<Kernels>, scope: LeaseScope, frag: Fragment, column: string,
): Promise<VectorColumnBlock> {
  return scope.acquire("vectorBlock", ds.columnCacheKey(frag, column), async () => {
    const col = frag.columns.get(column) ?? (await ds.readColumn(schema, frag, column));
    if (col.type.kind !== "vector") throw new Error(`leaseVectorBlock: column "${column}" is ${col.type.kind}, not a vector column`);
    const block = (await kernels()).upload(col.data as NumericArray as Float32Array | Int8Array | Uint8Array | Uint16Array, vectorStride(col.type));
    const value: VectorColumnBlock = { block, validity: col.validity };
    // Cosine search adds a norm per row (4 bytes) to the block's memory.
    const bytes = block.byteLength + (block.rows ?? 0) * 4 + (col.validity?.byteLength ?? 0);
    return { value, bytes, free: () => block.free() };
  });
}
