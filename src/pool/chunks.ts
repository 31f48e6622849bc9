/**
 * The arithmetic of a pooled scan (pool.ts): how a search is cut into chunks of about equal cost —
 * groups of queries × contiguous ranges of the targets' rows laid end to end — and how the chunks'
 * top-k lists merge back into one answer. Which worker scanned a chunk does not enter: only the
 * chunks' order in the layout does.
 */
import type { Block } from "../kernels/block.js";
import type { SearchResult } from "../kernels/types.js";
import type { ScanJob, ScanOutput, ScanPiece } from "./protocol.js";
import { locate, type Scan } from "../kernels/scan-layout.js";

/** Queries per pass of the multi-query kernels; must equal MULTI_QUERIES in kernels.ts. */
export const MULTI_QUERIES = 8;

/**
 * Default work per chunk, in elements (rows × dim × queries): about 0.5 ms of SIMD scanning on one
 * core, well under a scheduler's time slice, so a worker the OS sets aside holds up little.
 */
export const CHUNK_ELEMENTS = 1 << 22;
/** Fewer rows than this per chunk and the claim or the hop costs more than the scan. */
const MIN_CHUNK_ROWS = 256;
/** Most bytes of per-chunk top-k lists (two slots each) one search may carve out. */
const OUTPUT_BUDGET = 32 << 20;

/** How one search is cut: queries in groups of `groupSize` (in order) × `rowChunks` row ranges. */
export interface ScanSplit {
  groupSize: number;
  groups: number;
  rowChunks: number;
}

/**
 * Cuts a search into chunks of about `chunkElements` each, preferring whole query groups (their
 * lists need no merging) over row ranges. Groups are multiples of MULTI_QUERIES, so each query is
 * computed in the same group of 8 as Kernels.searchBatch does and every distance is the same
 * float. A search under two chunks' worth, or on one worker, stays one chunk: splitting it would
 * only add a wake-up.
 */
export function splitScan(total: number, nq: number, dim: number, k: number, workers: number, chunkElements: number): ScanSplit {
  const want = Math.floor((total * dim * nq) / chunkElements);
  if (workers <= 1 || want <= 1) return { groupSize: nq, groups: 1, rowChunks: 1 };
  const groups0 = Math.min(Math.ceil(nq / MULTI_QUERIES), want);
  const groupSize = Math.min(nq, Math.ceil(Math.ceil(nq / groups0) / MULTI_QUERIES) * MULTI_QUERIES);
  const groups = Math.ceil(nq / groupSize);
  const byRows = Math.max(1, Math.floor(total / Math.max(MIN_CHUNK_ROWS, k)));
  const byOutput = Math.max(1, Math.floor(OUTPUT_BUDGET / (nq * Math.min(k, total) * 16)));
  return { groupSize, groups, rowChunks: Math.max(1, Math.min(Math.ceil(want / groups), byRows, byOutput)) };
}

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
 * Query q's top-k over its group's row chunks (job g × rowChunks + r: group g, rows chunk r). Each
 * list is ascending by (distance, position) and chunk r's positions all precede chunk r+1's, so
 * sorting the union by (distance, global position) reproduces the single-thread selection, ties
 * included.
 */
export function merge(q: number, k: number, split: ScanSplit, rows: Chunk[], jobs: ScanJob[], outputs: ScanOutput[], scans: Scan[]): SearchResult {
  const dist: number[] = [];
  const pos: number[] = [];
  const g = Math.floor(q / split.groupSize);
  const local = q - g * split.groupSize;
  rows.forEach((chunk, r) => {
    const o = outputs[g * split.rowChunks + r]!;
    const kk = jobs[g * split.rowChunks + r]!.kk;
    for (let j = 0; j < o.count[local]!; j++) {
      dist.push(o.distance[local * kk + j]!);
      pos.push(o.index[local * kk + j]! + chunk.start);
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
