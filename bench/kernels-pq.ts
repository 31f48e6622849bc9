/**
 * The IVF_PQ scan kernel (pq_adc) alone: 100K rows × 96 one-byte codes, a 96 × 256 f32 lookup
 * table, unfiltered and with a filter bitmap letting half the rows through; SIMD and scalar builds.
 * What a 1M-row IVF_PQ query with nprobes 100 of 1,000 partitions scans. Then the 4-bit fast scan
 * (pq4_scan) over the same rows with 2·M sub-spaces (the same bytes per row) and with M.
 * Run: npx tsx bench/kernels-pq.ts [--rows 100000] [--m 96]   (not a test; numbers vary by machine)
 */
import { packBlocked } from "../src/ann/pq4.js";
import { loadKernels } from "../src/kernels/index.js";
import { msPerRun } from "./report.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROWS = opt("rows", 100_000);
const M = opt("m", 96);

const time = (fn: () => unknown, minMs = 500): number => msPerRun(fn, minMs);

let seed = 1;
const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
const codes = Uint8Array.from({ length: ROWS * M }, () => next() >>> 24);
const lut = Float32Array.from({ length: M * 256 }, () => next() / 2 ** 32);
const positions = Int32Array.from({ length: ROWS }, (_, i) => i);
const half = Uint8Array.from({ length: Math.ceil(ROWS / 8) }, () => 0x55);

for (const flavor of ["simd", "scalar"] as const) {
  const k = await loadKernels({ flavor });
  const heap = k.heap;
  const cPtr = heap.alloc(codes.byteLength);
  const lPtr = heap.alloc(lut.byteLength);
  const pPtr = heap.alloc(positions.byteLength);
  const aPtr = heap.alloc(half.byteLength);
  const out = heap.alloc(ROWS * 4);
  heap.write(cPtr, codes);
  heap.write(lPtr, lut);
  heap.write(pPtr, positions);
  heap.write(aPtr, half);
  const all = time(() => k.exports.pq_adc(lPtr, cPtr, ROWS, M, 0.5, 0, pPtr, 0, out));
  const masked = time(() => k.exports.pq_adc(lPtr, cPtr, ROWS, M, 0.5, 0, pPtr, aPtr, out));
  let sum = 0;
  k.exports.pq_adc(lPtr, cPtr, ROWS, M, 0.5, 0, pPtr, 0, out);
  const d = heap.f32(out, ROWS);
  for (let i = 0; i < ROWS; i++) sum += d[i]!;
  console.log(`${flavor}: ${ROWS} rows × ${M}: unfiltered ${all.toFixed(2)} ms (${((ROWS * M) / all / 1e6).toFixed(2)} G lookups/s), half allowed ${masked.toFixed(2)} ms; checksum ${sum.toFixed(3)}`);
  for (const p of [cPtr, lPtr, pPtr, aPtr, out]) heap.free(p);
}

for (const flavor of ["simd", "scalar"] as const) {
  const k = await loadKernels({ flavor });
  const heap = k.heap;
  for (const m4 of [2 * M, M].filter((m) => m <= 256)) {
    const blocked = packBlocked(Uint8Array.from({ length: ROWS * m4 }, () => next() >>> 28), m4);
    const qlut = Uint8Array.from({ length: m4 * 16 }, () => next() >>> 24);
    const cPtr = heap.alloc(blocked.byteLength);
    const qPtr = heap.alloc(qlut.byteLength);
    const pPtr = heap.alloc(positions.byteLength);
    const aPtr = heap.alloc(half.byteLength);
    const out = heap.alloc(Math.ceil(ROWS / 32) * 32 * 4);
    heap.write(cPtr, blocked);
    heap.write(qPtr, qlut);
    heap.write(pPtr, positions);
    heap.write(aPtr, half);
    const all = time(() => k.exports.pq4_scan(qPtr, cPtr, ROWS, m4, 0.5, 0.01, 0, pPtr, 0, out));
    const masked = time(() => k.exports.pq4_scan(qPtr, cPtr, ROWS, m4, 0.5, 0.01, 0, pPtr, aPtr, out));
    console.log(`${flavor} 4-bit: ${ROWS} rows × ${m4} (${m4 / 2} B/row): unfiltered ${all.toFixed(2)} ms (${((ROWS * m4) / all / 1e6).toFixed(2)} G lookups/s), half allowed ${masked.toFixed(2)} ms`);
    for (const p of [cPtr, qPtr, pPtr, aPtr, out]) heap.free(p);
  }
}
