/**
 * Parity of the SIMD and scalar WebAssembly builds with the plain-TS reference, kernel by
 * kernel, at awkward sizes: dims that are not multiples of the 4/8/16/32-lane steps and row
 * counts that are not multiples of any unroll width.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import * as ref from "../support/reference.js";
import { BIT_BYTES, F32_DIMS, callRaw, expectClose, expectExact, randomF32, randomI8, randomIds, randomU8 } from "./kernels-helpers.js";

const N = 37;
const M = 23;

describe.each(["simd", "scalar"] as const)("%s kernels", (flavor) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels({ flavor });
    expect(k.flavor).toBe(flavor);
  });

  describe.each(F32_DIMS)("f32, dim %i", (dim) => {
    const x = randomF32(N * dim, dim);
    x.fill(0, 5 * dim, 6 * dim); // row 5 is the zero vector: cosine must be exactly 1 there
    const q = randomF32(dim, 1000 + dim);
    const ids = randomIds(M, N, dim);
    ids[0] = 5;

    it.each(["l2", "dot", "cosine"] as const)("%s dense and gather", (metric) => {
      expectClose(callRaw(k, `${metric}_f32`, [q, x, N, dim, "out"], N), ref.distances(metric, q, x, dim), `${metric} dense`);
      // Cosine gathers only with cached norms (cosine_f32_normed_gather, below): the host never computes them per call.
      if (metric !== "cosine") expectClose(callRaw(k, `${metric}_f32_gather`, [q, x, ids, M, dim, "out"], M), ref.distances(metric, q, x, dim, ids), `${metric} gather`);
    });

    it("cosine with cached norms, dense and gather", () => {
      const norms = callRaw(k, "norms_f32", [x, N, dim, "out"], N);
      expectClose(norms, ref.norms(x, dim), "norms");
      const dense = callRaw(k, "cosine_f32_normed", [q, x, norms, N, dim, "out"], N);
      expectClose(dense, ref.cosine(q, x, dim), "normed dense");
      expect(dense[5]).toBe(1);
      expectClose(callRaw(k, "cosine_f32_normed_gather", [q, x, norms, ids, M, dim, "out"], M), ref.cosine(q, x, dim, ids), "normed gather");
    });

    it("multi-query scans write each query's row at outStride", () => {
      const nq = 3;
      const stride = N + 2;
      const qs = randomF32(nq * dim, 77 + dim);
      const qNorms = ref.norms(qs, dim);
      const l2 = callRaw(k, "l2_f32_multi", [qs, nq, x, N, dim, "out", stride], nq * stride);
      const dot = callRaw(k, "dot_f32_multi", [qs, nq, x, N, dim, "out", stride], nq * stride);
      const cos = callRaw(k, "cosine_f32_normed_multi", [qs, qNorms, nq, x, ref.norms(x, dim), N, dim, "out", stride], nq * stride);
      for (let i = 0; i < nq; i++) {
        const qi = qs.subarray(i * dim, (i + 1) * dim);
        expectClose(l2.subarray(i * stride, i * stride + N), ref.l2(qi, x, dim), `l2 multi q${i}`);
        expectClose(dot.subarray(i * stride, i * stride + N), ref.dot(qi, x, dim), `dot multi q${i}`);
        expectClose(cos.subarray(i * stride, i * stride + N), ref.cosine(qi, x, dim), `cosine multi q${i}`);
      }
    });
  });

  describe.each(F32_DIMS)("i8, dim %i", (dim) => {
    const x = randomI8(N * dim, 3 * dim);
    x.fill(0, 2 * dim, 3 * dim);
    // Extremes in every lane position stress i16 widening and i32 accumulation.
    x.fill(-128, 7 * dim, 8 * dim);
    const q = randomI8(dim, 5 * dim);
    const ids = randomIds(M, N, 7 * dim);

    it.each(["l2", "dot"] as const)("%s dense and gather are exact", (metric) => {
      expectExact(callRaw(k, `${metric}_i8`, [q, x, N, dim, "out"], N), ref.distances(metric, q, x, dim), `${metric} dense`);
      expectExact(callRaw(k, `${metric}_i8_gather`, [q, x, ids, M, dim, "out"], M), ref.distances(metric, q, x, dim, ids), `${metric} gather`);
    });

    it("l2 of the most distant vectors is exact", () => {
      const lo = new Int8Array(dim).fill(-128);
      const hi = new Int8Array(dim).fill(127);
      expect(callRaw(k, "l2_i8", [lo, hi, 1, dim, "out"], 1)[0]).toBe(Math.fround(255 * 255 * dim));
    });

    it("cosine with cached norms", () => {
      const norms = callRaw(k, "norms_i8", [x, N, dim, "out"], N);
      expectClose(norms, ref.norms(x, dim), "norms");
      const dense = callRaw(k, "cosine_i8_normed", [q, x, norms, N, dim, "out"], N);
      expectClose(dense, ref.cosine(q, x, dim), "normed dense");
      expect(dense[2]).toBe(1);
      expectClose(callRaw(k, "cosine_i8_normed_gather", [q, x, norms, ids, M, dim, "out"], M), ref.cosine(q, x, dim, ids), "normed gather");
    });
  });

  describe.each(BIT_BYTES)("hamming, %i bytes", (bytes) => {
    const x = randomU8(N * bytes, 11 * bytes);
    const q = randomU8(bytes, 13 * bytes);
    x.set(q, 4 * bytes); // row 4 equals the query: distance 0
    x.set(q.map((b) => ~b & 0xff), 9 * bytes); // row 9 is its complement: every bit differs
    const ids = randomIds(M, N, 17 * bytes);

    it("dense and gather are exact", () => {
      const dense = callRaw(k, "hamming_u8", [q, x, N, bytes, "out"], N);
      expectExact(dense, ref.hamming(q, x, bytes), "dense");
      expect(dense[4]).toBe(0);
      expect(dense[9]).toBe(8 * bytes);
      expectExact(callRaw(k, "hamming_u8_gather", [q, x, ids, M, bytes, "out"], M), ref.hamming(q, x, bytes, ids), "gather");
    });
  });

  it("f16_to_f32 converts all 65,536 half values exactly", () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const got = k.f16ToF32(bits);
    const want = ref.f16ToF32(bits);
    for (let i = 0; i < bits.length; i++) {
      if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
        expect.fail(`half 0x${i.toString(16)}: got ${got[i]}, expected ${want[i]}`);
      }
    }
    // Odd lengths take the scalar tail after the 4-lane loop.
    expectExact(k.f16ToF32(bits.subarray(0x3c00, 0x3c07)), want.subarray(0x3c00, 0x3c07), "tail");
  });

  it("uploads float16 blocks as f32", () => {
    const bits = Uint16Array.from(randomU8(6 * 8, 99), (b, i) => (b << 6) | (i & 0x3f)).map((h) => h & 0xfbff);
    const block = k.upload(bits, 8);
    expect(block.element).toBe("f32");
    expect(block.byteLength).toBe(6 * 8 * 4);
    const q = randomF32(8, 5);
    expectClose(k.distances("l2", q, block, 8), ref.l2(q, ref.f16ToF32(bits), 8), "f16 block l2");
    block.free();
  });
});

describe("SIMD and scalar agree", () => {
  it("bit for bit on exact kernels and within tolerance on floats", async () => {
    const simd = await loadKernels({ flavor: "simd" });
    const scalar = await loadKernels({ flavor: "scalar" });
    expect(simd).not.toBe(scalar);
    const dim = 100;
    const xi = randomI8(N * dim, 1);
    const qi = randomI8(dim, 2);
    expectExact(callRaw(simd, "dot_i8", [qi, xi, N, dim, "out"], N), callRaw(scalar, "dot_i8", [qi, xi, N, dim, "out"], N), "dot_i8");
    const xf = randomF32(N * dim, 3);
    const qf = randomF32(dim, 4);
    expectClose(callRaw(simd, "l2_f32", [qf, xf, N, dim, "out"], N), callRaw(scalar, "l2_f32", [qf, xf, N, dim, "out"], N), "l2_f32");
  });
});
