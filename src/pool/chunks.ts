/**
 * The arithmetic of a pooled scan (pool.ts): how a search is cut into chunks — groups of queries ×
 * contiguous ranges of the targets' rows laid end to end, big chunks first and shrinking as the
 * work left falls (guided self-scheduling) — and how the chunks' top-k lists merge back into one
 * answer. Which worker scanned a chunk does not enter: only the chunks' rows do.
 */
import type { Block } from "../kernels/block.js";
import type { SearchResult } from "../kernels/types.js";
import type { ScanOutput, ScanPiece } from "./protocol.js";
import { locate, type Scan } from "../kernels/scan-layout.js";

/** Queries per pass of the multi-query kernels; must equal MULTI_QUERIES in kernels.ts. */
export const MULTI_QUERIES = 8;

/**
 * Default smallest chunk, in elements (rows × dim × queries): about 0.5 ms of SIMD scanning on one
 * core, well under a scheduler's time slice, so the last chunks of a search — the ones a late
 * worker can hold up — are short.
 */
export const CHUNK_ELEMENTS = 1 << 22;
/** Fewer rows than this per chunk and the claim or the hop costs more than the scan. */
const MIN_CHUNK_ROWS = 256;
/** Most bytes of per-chunk top-k lists (two slots each) one search may carve out. */
const OUTPUT_BUDGET = 32 << 20;
/**
 * Each chunk takes 1 / (GUIDED_SHARE × workers) of the work not yet handed out, down to the
 * smallest chunk: with 2 workers the first is a quarter, then 3/16, 9/64, … — few chunks (few
 * claims, messages and lists to merge) while the work left is large, short ones at the end where
 * a late worker would hold up the answer. A larger share means more, smaller chunks.
 */
const GUIDED_SHARE = 2;

/**
 * An idle worker backs up a chunk once it has run this many times as long as the chunk would take
 * at the search's measured rate: a claimer merely slowed down (sharing its core with one other
 * thread runs at half speed) finishes first, and a copy would only burn a core; one the OS set
 * aside for a time slice, many times a short chunk, is overtaken.
 */
export const LATE_FACTOR = 2;

/** One chunk: queries of group `group`, rows [a, b) of the end-to-end layout. */
export interface PlannedChunk {
  group: number;
  a: number;
  b: number;
}

/** How one search is cut: queries in groups of `groupSize` (in order), and the chunks in the order workers take them. */
export interface ScanPlan {
  groupSize: number;
  groups: number;
  chunks: PlannedChunk[];
}

/**
 * Cuts a search into chunks, biggest first (see GUIDED_SHARE), none under `chunkElements` nor
 * under max(256, k) rows but a group's last, which takes what is left (at least half a smallest
 * chunk, or the whole group when it is that small). Queries stay in one group while a smallest
 * chunk still spans 256 rows; else they go in groups, multiples of MULTI_QUERIES, so each query is
 * computed in the same group of 8 as Kernels.searchBatch does and every distance is the same
 * float. A search under two smallest chunks' worth, or on one worker, stays one chunk: splitting
 * it would only add a wake-up.
 */
export function planScan(total: number, nq: number, dim: number, k: number, workers: number, chunkElements: number): ScanPlan {
  const elements = total * dim * nq;
  if (workers <= 1 || elements < 2 * chunkElements) return { groupSize: nq, groups: 1, chunks: [{ group: 0, a: 0, b: total }] };
  const minRows = Math.max(MIN_CHUNK_ROWS, k);
  const cap = Math.floor(chunkElements / (dim * minRows));
  const groupSize = nq <= cap ? nq : (() => {
    const groups = Math.ceil(nq / Math.max(MULTI_QUERIES, Math.floor(cap / MULTI_QUERIES) * MULTI_QUERIES));
    return Math.ceil(Math.ceil(nq / groups) / MULTI_QUERIES) * MULTI_QUERIES;
  })();
  const groups = Math.ceil(nq / groupSize);
  const chunks: PlannedChunk[] = [];
  let left = elements;
  let outputBytes = 0;
  for (let g = 0; g < groups; g++) {
    const q = Math.min(groupSize, nq - g * groupSize);
    const perRow = dim * q;
    for (let a = 0; a < total;) {
      let rows = Math.max(minRows, Math.ceil(Math.max(chunkElements, left / (GUIDED_SHARE * workers)) / perRow));
      // A remainder under half a smallest chunk joins this one.
      if ((total - a - rows) * perRow < chunkElements / 2 || total - a - rows < minRows) rows = total - a;
      chunks.push({ group: g, a, b: a + rows });
      outputBytes += q * Math.min(k, rows) * 16;
      left -= rows * perRow;
      a += rows;
    }
  }
  // Huge k × many queries: fewer, bigger chunks until their lists fit.
  if (outputBytes > OUTPUT_BUDGET && chunks.length > groups) return planScan(total, nq, dim, k, workers, chunkElements * 2);
  return { groupSize, groups, chunks };
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
 * Every query's top-k over its group's chunks. Each chunk's list is ascending by (distance, row
 * within the chunk) (the topk kernel's order), and a chunk's rows keep their order in the layout,
 * so merging the lists by (distance, global position) reproduces the single-thread selection,
 * ties included. One pass per query over at most k heads: no sorting, no garbage per entry.
 */
export function mergeChunks(nq: number, k: number, plan: ScanPlan, kk: readonly number[], outputs: readonly ScanOutput[], scans: Scan[]): SearchResult[] {
  const byGroup: number[][] = Array.from({ length: plan.groups }, () => []);
  plan.chunks.forEach((c, i) => byGroup[c.group]!.push(i));
  const results: SearchResult[] = [];
  const heads = new Int32Array(plan.chunks.length);
  for (let q = 0; q < nq; q++) {
    const g = Math.floor(q / plan.groupSize);
    const local = q - g * plan.groupSize;
    const mine = byGroup[g]!;
    heads.fill(0);
    let available = 0;
    for (const c of mine) available += outputs[c]!.count[local]!;
    const count = Math.min(k, available);
    const result: SearchResult = { target: new Int32Array(count), row: new Int32Array(count), distance: new Float32Array(count) };
    for (let j = 0; j < count; j++) {
      let best = -1;
      let bestD = 0;
      let bestP = 0;
      for (const c of mine) {
        const o = outputs[c]!;
        const h = heads[c]!;
        if (h >= o.count[local]!) continue;
        const at = local * kk[c]! + h;
        const d = o.distance[at]!;
        const p = o.index[at]! + plan.chunks[c]!.a;
        if (best < 0 || d < bestD || (d === bestD && p < bestP)) {
          best = c;
          bestD = d;
          bestP = p;
        }
      }
      heads[best]!++;
      const { target, row } = locate(scans, bestP);
      result.target[j] = target;
      result.row[j] = row;
      result.distance[j] = bestD;
    }
    results.push(result);
  }
  return results;
}
