/**
 * k-means++ seeding over rows in WebAssembly memory, on one thread or on the scan pool's threads
 * with the same centres either way. Centre j is the row drawn with probability ∝ its distance to
 * the nearest of centres 0 … j − 1, by `draws[j]` ∈ [0, 1); centre 0 is row ⌊draws[0] · n⌋.
 *
 * Rows fall in blocks of `block` rows (seedBlockRows: set by n alone, never by the thread count).
 * Round j (1 ≤ j < k) folds centre j − 1 into each block's running minima (`mind`) and stores the
 * block's f64 sum in `sums`; the pick then sums the blocks in order and walks into the one block
 * holding the target. A block's sum is the kernel's sequential sum over its rows, so every thread
 * count gives the same sums, the same picks, the same centres.
 *
 * Over shared memory every round is ranges of the pool's counter: range c is block c mod blocks
 * of round 1 + ⌊c / blocks⌋. A thread waits (Atomics.wait) for the next range's round to open
 * before it claims it (src/pool/scan.ts), and again after, should another thread have claimed
 * ahead of it; the thread that finishes a round's last block picks the next centre and opens
 * the next round. The coordinator makes one request per worker for the whole seeding, not
 * one round trip per centre.
 *
 *   x          rows of `width` f32 at row stride `stride` floats (n rows)
 *   mind       n f32, +∞ before round 1
 *   sums       blocks f64
 *   centroids  k × width f32; row 0 written before round 1, row j by round j's pick
 *   draws      k f64
 *   rounds     (1 + k) i32: [open round, then blocks finished per round]; open round 1 at the start
 */
import type { KernelExports } from "./abi.js";

/**
 * Rows per block for n rows: a round's blocks are its unit of work and of summation. From 256 rows
 * (a few microseconds of distances: finer would be claims more than work) to 4096, about 32 blocks
 * a round between, so two or more threads stay busy to a round's end.
 */
export function seedBlockRows(n: number): number {
  return Math.max(256, Math.min(4096, 256 * Math.ceil(n / 8192)));
}

export interface SeedTask {
  kernel: "kmeanspp_seed";
  x: number;
  n: number;
  /** rows per block (seedBlockRows(n)) */
  block: number;
  stride: number;
  width: number;
  metric: number;
  k: number;
  mind: number;
  sums: number;
  centroids: number;
  draws: number;
  rounds: number;
}

export function seedBlocks(t: SeedTask): number {
  return Math.ceil(t.n / t.block);
}

/** Folds centre j − 1 into block b's minima and stores the block's sum. */
export function seedFold(w: KernelExports, t: SeedTask, j: number, b: number): void {
  const first = b * t.block;
  const count = Math.min(t.block, t.n - first);
  const sum = w.kmeanspp_update(t.x + first * t.stride * 4, count, t.width, t.stride, t.centroids + (j - 1) * t.width * 4, t.metric, t.mind + first * 4);
  new Float64Array(w.memory.buffer, t.sums, seedBlocks(t))[b] = sum;
}

/** Centre j from the blocks' sums after round j (or row ⌊draw · n⌋ when every minimum is 0). */
export function seedPick(w: KernelExports, t: SeedTask, j: number): void {
  const buffer = w.memory.buffer;
  const sums = new Float64Array(buffer, t.sums, seedBlocks(t));
  const draw = new Float64Array(buffer, t.draws, t.k)[j]!;
  let total = 0;
  for (let b = 0; b < sums.length; b++) total += sums[b]!;
  // Every row coincides with a chosen centre (duplicates): any row will do.
  let row = Math.floor(draw * t.n);
  if (total > 0) {
    const target = draw * total;
    let before = 0;
    row = t.n - 1;
    for (let b = 0; b < sums.length; b++) {
      if (before + sums[b]! > target) {
        const first = b * t.block;
        row = first + w.kmeanspp_pick(t.mind + first * 4, Math.min(t.block, t.n - first), target - before);
        break;
      }
      before += sums[b]!;
    }
  }
  seedCentre(w, t, j, row);
}

/** Copies row `row`'s columns to centre j. */
export function seedCentre(w: KernelExports, t: SeedTask, j: number, row: number): void {
  const buffer = w.memory.buffer;
  const from = new Float32Array(buffer, t.x + row * t.stride * 4, t.width);
  new Float32Array(buffer, t.centroids + j * t.width * 4, t.width).set(from);
}

/** The whole seeding on this thread (rounds' control words unused). */
export function seedSerial(w: KernelExports, t: SeedTask): void {
  const blocks = seedBlocks(t);
  for (let j = 1; j < t.k; j++) {
    for (let b = 0; b < blocks; b++) seedFold(w, t, j, b);
    seedPick(w, t, j);
  }
}

/** Ranges of a shared-memory seeding: blocks × (k − 1). */
export function seedRanges(t: SeedTask): number {
  return seedBlocks(t) * (t.k - 1);
}

/**
 * Runs range c of a shared-memory seeding (see the top of this file): waits for its round to open,
 * folds its block, and when it is the round's last block, picks the centre and opens the next.
 */
export function seedRange(w: KernelExports, t: SeedTask, c: number): void {
  const blocks = seedBlocks(t);
  const j = 1 + Math.floor(c / blocks);
  const rounds = new Int32Array(w.memory.buffer, t.rounds, 1 + t.k);
  for (let open = Atomics.load(rounds, 0); open < j; open = Atomics.load(rounds, 0)) Atomics.wait(rounds, 0, open);
  seedFold(w, t, j, c % blocks);
  if (Atomics.add(rounds, j, 1) + 1 < blocks) return;
  seedPick(w, t, j);
  Atomics.store(rounds, 0, j + 1);
  Atomics.notify(rounds, 0);
}
