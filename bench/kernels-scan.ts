/**
 * Scan + top-10 over 100K × 100 f32: WebAssembly SIMD / scalar vs the plain-TS reference loop.
 * Run: npx tsx bench/kernels-scan.ts   (not a test; numbers vary by machine)
 */
import { loadKernels } from "../src/kernels/index.js";
import { msPerRun } from "./report.js";
import * as ref from "../test/support/reference.js";

const ROWS = 100_000;
const DIM = 100;
const K = 10;

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

const time = (fn: () => unknown, minMs = 400): number => msPerRun(fn, minMs);

const data = random(ROWS * DIM, 1);
const queries = random(16 * DIM, 2);
const q = queries.subarray(0, DIM);
const bytes = data.byteLength;
const rows: string[][] = [["variant", "metric", "ms/query", "GB/s", "× plain JS"]];

for (const metric of ["l2", "cosine", "dot"] as const) {
  const base = time(() => ref.search(metric, q, [{ data }], DIM, K));
  rows.push(["plain JS (reference.ts)", metric, base.toFixed(2), (bytes / base / 1e6).toFixed(1), "1.0"]);
  for (const flavor of ["simd", "scalar"] as const) {
    const k = await loadKernels({ flavor });
    const block = k.upload(data, DIM);
    const one = time(() => k.search(metric, q, [{ block }], DIM, K));
    rows.push([`wasm ${flavor} search`, metric, one.toFixed(2), (bytes / one / 1e6).toFixed(1), (base / one).toFixed(1)]);
    if (flavor === "simd") {
      const batch = time(() => k.searchBatch(metric, queries, [{ block }], DIM, K)) / 16;
      rows.push([`wasm ${flavor} batch of 16`, metric, batch.toFixed(2), (bytes / batch / 1e6).toFixed(1), (base / batch).toFixed(1)]);
      const ids = Int32Array.from({ length: ROWS / 10 }, (_, i) => i * 10);
      const gather = time(() => k.search(metric, q, [{ block, ids }], DIM, K));
      rows.push([`wasm ${flavor} gather 10%`, metric, gather.toFixed(2), (bytes / 10 / gather / 1e6).toFixed(1), "-"]);
    }
    block.free();
  }
}
// A hand-tightened JS loop (f32 array, no helpers, insertion top-k) as a second, harder baseline.
function tightJsL2(q: Float32Array, x: Float32Array, n: number, dim: number, k: number): Int32Array {
  const best = new Float64Array(k).fill(Infinity);
  const idx = new Int32Array(k).fill(-1);
  for (let r = 0, base = 0; r < n; r++, base += dim) {
    let s = 0;
    for (let i = 0; i < dim; i++) {
      const d = q[i]! - x[base + i]!;
      s += d * d;
    }
    if (s < best[k - 1]!) {
      let j = k - 1;
      while (j > 0 && best[j - 1]! > s) {
        best[j] = best[j - 1]!;
        idx[j] = idx[j - 1]!;
        j--;
      }
      best[j] = s;
      idx[j] = r;
    }
  }
  return idx;
}
const tight = time(() => tightJsL2(q, data, ROWS, DIM, K));
const simdL2 = await loadKernels({ flavor: "simd" });
const l2Block = simdL2.upload(data, DIM);
const simdOne = time(() => simdL2.search("l2", q, [{ block: l2Block }], DIM, K));
l2Block.free();
rows.push(["tight JS loop", "l2", tight.toFixed(2), (bytes / tight / 1e6).toFixed(1), `simd ${(tight / simdOne).toFixed(1)}× faster`]);

// 1M × 100 (400 MB) does not fit any cache: this is the memory-bound rate.
const bigRows = 1_000_000;
const big = random(bigRows * DIM, 5);
const bigBlock = simdL2.upload(big, DIM);
for (const metric of ["l2", "cosine"] as const) {
  const t = time(() => simdL2.search(metric, q, [{ block: bigBlock }], DIM, K), 1500);
  rows.push([`wasm simd 1M×100 (400 MB)`, metric, t.toFixed(2), (big.byteLength / t / 1e6).toFixed(1), "-"]);
}
const tb = time(() => simdL2.searchBatch("l2", queries, [{ block: bigBlock }], DIM, K), 1500) / 16;
rows.push([`wasm simd 1M×100 batch of 16`, "l2", tb.toFixed(2), (big.byteLength / tb / 1e6).toFixed(1), "-"]);
bigBlock.free();
const copy = new Float32Array(big.length);
const tc = time(() => copy.set(big), 1000);
rows.push(["memcpy 400 MB (read+write)", "-", tc.toFixed(2), (big.byteLength / tc / 1e6).toFixed(1) + " read", "-"]);

// 2,000 × 128 (1 MB, an IVF partition's size) stays in L2: this is the compute-bound rate.
const small = random(2000 * 128, 6);
const smallBlock = simdL2.upload(small, 128);
const qs = random(128, 7);
for (const metric of ["l2", "cosine"] as const) {
  const t = time(() => simdL2.search(metric, qs, [{ block: smallBlock }], 128, K));
  rows.push([`wasm simd 2K×128 (1 MB, cached)`, metric, t.toFixed(4), (small.byteLength / t / 1e6).toFixed(1), "-"]);
}
smallBlock.free();

const topkData = random(ROWS, 3);
const k = await loadKernels();
rows.push(["wasm topk only (100K)", "-", time(() => k.topk(topkData, K)).toFixed(3), "-", "-"]);
rows.push(["JS topk only (100K)", "-", time(() => ref.topk(topkData, K)).toFixed(3), "-", "-"]);

const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
