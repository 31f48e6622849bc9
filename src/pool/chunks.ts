/**
 * The arithmetic of a pooled scan (pool.ts): how the targets' rows, laid end to end, are cut into
 * contiguous chunks, and how the chunks' top-k lists merge back into one answer. Which worker
 * scanned a chunk does not enter: only the chunks' order in the layout does.
 */
import type { Block } from "../kernels/block.js";
import type { SearchResult } from "../kernels/types.js";
import type { ScanJob, ScanOutput, ScanPiece } from "./protocol.js";
import { locate, type Scan } from "../kernels/scan-layout.js";

/** One target, as in Kernels: its rows occupy [start, start + count) of the end-to-end layout. */
export interface Chunk {
  start: number;
  total: number;
  pieces: ScanPiece[];
  blocks: Block[];
  ids: Int32Array;
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
    const { target, row } = locate(scans, pos[order[j]!]!);
    result.target[j] = target;
    result.row[j] = row;
    result.distance[j] = dist[order[j]!]!;
  }
  return result;
}
