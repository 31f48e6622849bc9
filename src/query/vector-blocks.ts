/**
 * Vector columns copied into WebAssembly memory, once per column chunk and kernel instance.
 * Column chunks are immutable and shared between versions of a table, so a chunk's block stays
 * valid for as long as the chunk lives; when the chunk is garbage-collected its block is freed.
 */
import { vectorStride, type Column, type NumericArray } from "../data/column.js";
import type { Kernels, VectorBlock } from "../kernels/index.js";

const caches = new WeakMap<Kernels, WeakMap<Column, VectorBlock>>();
// Older workerd compatibility dates lack FinalizationRegistry; blocks are then freed only on close.
const reclaim = typeof FinalizationRegistry === "function" ? new FinalizationRegistry<VectorBlock>((block) => block.free()) : undefined;

export function vectorBlock(kernels: Kernels, column: Column): VectorBlock {
  let cache = caches.get(kernels);
  if (cache === undefined) {
    cache = new WeakMap();
    caches.set(kernels, cache);
  }
  let block = cache.get(column);
  if (block === undefined) {
    if (column.type.kind !== "vector") throw new Error(`vectorBlock: column of type ${column.type.kind} is not a vector column`);
    block = kernels.upload(column.data as NumericArray as Float32Array | Int8Array | Uint8Array | Uint16Array, vectorStride(column.type));
    cache.set(column, block);
    reclaim?.register(column, block, column);
  }
  return block;
}

/** Frees a column's blocks now, e.g. when its table is dropped. */
export function releaseVectorBlocks(kernels: Kernels, column: Column): void {
  const block = caches.get(kernels)?.get(column);
  if (block === undefined) return;
  caches.get(kernels)!.delete(column);
  reclaim?.unregister(column);
  block.free();
}
