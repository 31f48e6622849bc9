/** Shared fixtures for the kernel tests: seeded data, raw kernel calls, float comparison. */
import { expect } from "vitest";
import type { Kernels } from "../../src/kernels/index.js";
import { seededRandom as rng } from "../../bench/datasets.js";

/** mulberry32 (bench/datasets.ts): small, seeded, good enough for test data. */
export { rng };

export function randomF32(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

export function randomI8(n: number, seed: number): Int8Array {
  const r = rng(seed);
  // Includes −128 and 127, the values that overflow careless i8/i16 arithmetic.
  return Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
}

export function randomU8(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

export function randomIds(m: number, rows: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: m }, () => Math.floor(r() * rows));
}

/** Float results: |a − b| ≤ 1e-4 · max(1, |b|), elementwise. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (!(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)))) {
      expect.fail(`${what}: element ${i} is ${a}, expected ${b}`);
    }
  }
}

export function expectExact(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(Array.from(actual), what).toEqual(Array.from(expected));
}

/**
 * Calls raw exports with host arrays: copies each typed-array argument into fresh WebAssembly
 * memory, passes numbers through, runs `fn`, reads `outLength` f32 from the `out` pointer.
 */
export function callRaw(
  k: Kernels,
  name: keyof Kernels["exports"],
  args: (ArrayBufferView | number | "out")[],
  outLength: number,
): Float32Array {
  const ptrs: number[] = [];
  const outPtr = k.heap.alloc(outLength * 4);
  const values = args.map((a) => {
    if (a === "out") return outPtr;
    if (typeof a === "number") return a;
    const p = k.heap.alloc(a.byteLength);
    ptrs.push(p);
    k.heap.write(p, a);
    return p;
  });
  (k.exports[name] as (...v: number[]) => void)(...values);
  const out = k.heap.f32(outPtr, outLength).slice();
  for (const p of [...ptrs, outPtr]) k.heap.free(p);
  return out;
}

export const F32_DIMS = [1, 3, 4, 15, 16, 17, 100, 128, 384, 768];
export const BIT_BYTES = [1, 2, 3, 16, 17, 48, 96];
