/**
 * The arithmetic of a pooled scan (pool.ts): how the targets' rows, laid end to end, are cut into
 * one chunk per worker, and how the chunks' top-k lists merge back into one answer.
 */
import { createError } from "../errors.js";
import type { Block } from "../kernels/block.js";
import type { QueryVector, SearchResult } from "../kernels/types.js";
import type { ScanJob, ScanOutput, ScanPiece } from "./pool-protocol.js";

/** One target, as in Kernels: its rows occupy [start, start + count) of the end-to-end layout. */
export interface Scan {
  block: Block;
  ids: Int32Array | undefined;
  start: number;
  count: number;
}

export interface Chunk {
  start: number;
  total: number;
  pieces: ScanPiece[];
  blocks: Block[];
  ids: Int32Array;
}

/** Same validation and messages as Kernels.searchBatch, so the two fail alike. */
export function splitQueries(queries: QueryVector | readonly QueryVector[], dim: number): QueryVector[] {
  if (Array.isArray(queries) && queries.length > 0 && typeof queries[0] !== "number") return queries as QueryVector[];
  const flat = queries as QueryVector;
  if (flat.length % dim !== 0) {
    throw createError("DIMENSION_MISMATCH", `${flat.length} query values are not a whole number of queries of dimension ${dim}.`, { expected: dim, actual: flat.length });
  }
  const out: QueryVector[] = [];
  for (let i = 0; i < flat.length; i += dim) {
    out.push(ArrayBuffer.isView(flat) ? (flat as Float32Array).subarray(i, i + dim) : Array.prototype.slice.call(flat, i, i + dim));
  }
  return out;
}

/** The pieces of rows [a, b) of the end-to-end layout of `scans`. */
export function chunkOf(scans: Scan[], a: number, b: number): Chunk {
  const pieces: ScanPiece[] = [];
  const blocks: Block[] = [];
  const index = new Map<Block, number>();
  const ids: Int32Array[] = [];
  let idCount = 0;
  for (const s of scans) {
    const from = Math.max(a, s.start);
    const to = Math.min(b, s.start + s.count);
    if (to <= from) continue;
    let bi = index.get(s.block);
    if (bi === undefined) {
      bi = blocks.push(s.block) - 1;
      index.set(s.block, bi);
    }
    const offset = from - s.start;
    const count = to - from;
    if (s.ids === undefined) {
      pieces.push({ block: bi, row: offset, count, ids: -1, start: from - a });
    } else {
      pieces.push({ block: bi, row: 0, count, ids: idCount, start: from - a });
      ids.push(s.ids.subarray(offset, offset + count));
      idCount += count;
    }
  }
  const all = new Int32Array(idCount);
  let at = 0;
  for (const part of ids) {
    all.set(part, at);
    at += part.length;
  }
  return { start: a, total: b - a, pieces, blocks, ids: all };
}

/**
 * Query q's top-k over all chunks. Each chunk's list is ascending by (distance, position) and
 * chunk w's positions all precede chunk w+1's, so sorting the union by (distance, global
 * position) reproduces the single-thread selection, ties included.
 */
export function merge(q: number, k: number, chunks: Chunk[], jobs: ScanJob[], outputs: ScanOutput[], scans: Scan[]): SearchResult {
  const dist: number[] = [];
  const pos: number[] = [];
  outputs.forEach((o, w) => {
    const kk = jobs[w]!.kk;
    const start = chunks[w]!.start;
    for (let j = 0; j < o.count[q]!; j++) {
      dist.push(o.distance[q * kk + j]!);
      pos.push(o.index[q * kk + j]! + start);
    }
  });
  const order = dist.map((_, i) => i).sort((x, y) => dist[x]! - dist[y]! || pos[x]! - pos[y]!);
  const count = Math.min(k, order.length);
  const result: SearchResult = { target: new Int32Array(count), row: new Int32Array(count), distance: new Float32Array(count) };
  for (let j = 0; j < count; j++) {
    const i = pos[order[j]!]!;
    let a = 0;
    let b = scans.length - 1;
    while (a < b) {
      const mid = (a + b + 1) >> 1;
      if (scans[mid]!.start <= i) a = mid;
      else b = mid - 1;
    }
    const s = scans[a]!;
    result.target[j] = a;
    result.row[j] = s.ids ? s.ids[i - s.start]! : i - s.start;
    result.distance[j] = dist[order[j]!]!;
  }
  return result;
}
