/**
 * 4-bit PQ fast scan (assembly/pq4.ts): pq4_scan's quantized sums are exact integers, the same in
 * the SIMD and scalar builds bit for bit, at sub-space counts 1…256 (odd ones included) and row
 * counts that are not whole blocks of 32; with a filter bitmap the masked rows are NaN and not
 * scored. pq4_lut's dequantized distances stay within the quantization bound M·scale/2 of the
 * exact ADC over the same 4-bit codebook; pq4_encode picks each sub-vector's nearest of 16.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { blockedBytes, packBlocked, unpackBlocked } from "../../src/ann/pq4.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { pqEncode } from "../../src/kernels/quantize.js";
import { ScanSession } from "../../src/kernels/scan.js";
import { randomF32, rng } from "./kernels-helpers.js";

const MS = [1, 2, 3, 5, 7, 16, 17, 33, 96, 255, 256];
const NS = [1, 31, 32, 33, 100, 1061];

function randomCodes(n: number, M: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n * M }, () => Math.floor(r() * 16));
}

/** Tables with the extremes 0 and 255 in every sub-space (the u16 bound's worst case is all 255). */
function randomQlut(M: number, seed: number, allMax = false): Uint8Array {
  const r = rng(seed);
  const t = Uint8Array.from({ length: M * 16 }, () => (allMax ? 255 : Math.floor(r() * 256)));
  for (let m = 0; m < M && !allMax; m++) {
    t[m * 16 + 3] = 255;
    t[m * 16 + 7] = 0;
  }
  return t;
}

/** pq4_scan on host arrays; `out` starts as garbage so every written slot is checked. */
function scan4(k: Kernels, qlut: Uint8Array, codes: Uint8Array, n: number, M: number, offset: number, scale: number, norms?: Float32Array, mask?: { positions: Int32Array; bits: Uint8Array }): { out: Float32Array; scored: number } {
  const heap = k.heap;
  const ptrs: number[] = [];
  const put = (a: ArrayBufferView): number => {
    const p = heap.alloc(Math.max(16, a.byteLength));
    ptrs.push(p);
    heap.write(p, a);
    return p;
  };
  try {
    const blocked = put(packBlocked(codes, M));
    const out = put(new Float32Array(Math.ceil(n / 32) * 32).fill(12345));
    const scored = k.exports.pq4_scan(put(qlut), blocked, n, M, offset, scale, norms ? put(norms) : 0, mask ? put(mask.positions) : 0, mask ? put(mask.bits) : 0, out);
    return { out: heap.f32(out, n).slice(), scored };
  } finally {
    for (const p of ptrs) heap.free(p);
  }
}

/** Σ_m qlut[m·16 + code(r, m)] for every row: the exact integer sums. */
function refSums(qlut: Uint8Array, codes: Uint8Array, n: number, M: number): number[] {
  return Array.from({ length: n }, (_, r) => {
    let s = 0;
    for (let m = 0; m < M; m++) s += qlut[m * 16 + codes[r * M + m]!]!;
    return s;
  });
}

describe("blocked layout of 4-bit codes", () => {
  it("packs and unpacks every row count and sub-space count losslessly", () => {
    for (const M of [1, 3, 16, 17]) {
      for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 70]) {
        const codes = randomCodes(n, M, n * 31 + M);
        const blocked = packBlocked(codes, M);
        expect(blocked.length).toBe(blockedBytes(n, M));
        expect(blocked.length).toBe(Math.ceil(n / 32) * 16 * M);
        expect(Array.from(unpackBlocked(blocked, n, M))).toEqual(Array.from(codes));
      }
    }
  });

  it("puts row 32b + j in the low nibble and row 32b + 16 + j in the high nibble of byte j", () => {
    const M = 2;
    const codes = new Uint8Array(40 * M);
    codes[5 * M + 1] = 9; // row 5, sub-space 1
    codes[21 * M + 1] = 6; // row 21 = 16 + 5, sub-space 1
    codes[33 * M + 0] = 15; // row 33: block 1, byte 1, low nibble
    const b = packBlocked(codes, M);
    expect(b[16 + 5]).toBe((6 << 4) | 9);
    expect(b[2 * 16 + 1]).toBe(15);
    expect(b.reduce((s, v) => s + v, 0)).toBe(((6 << 4) | 9) + 15);
  });

  it("rejects codes that are not whole rows", () => {
    expect(() => packBlocked(new Uint8Array(7), 2)).toThrow(expect.objectContaining({ code: "DIMENSION_MISMATCH" }));
    expect(() => unpackBlocked(new Uint8Array(15), 1, 1)).toThrow(expect.objectContaining({ code: "CORRUPT_FILE" }));
  });
});

describe("pq4_scan: SIMD and scalar builds", () => {
  let simd: Kernels;
  let scalar: Kernels;
  beforeAll(async () => {
    simd = await loadKernels({ flavor: "simd" });
    scalar = await loadKernels({ flavor: "scalar" });
    expect(simd.flavor).toBe("simd");
    expect(scalar.flavor).toBe("scalar");
  });

  it.each(MS)("M %i: exact integer sums, identical in both builds, at every row count", (M) => {
    for (const n of NS) {
      const codes = randomCodes(n, M, 7 * M + n);
      const qlut = randomQlut(M, 11 * M + n);
      const want = refSums(qlut, codes, n, M);
      const a = scan4(simd, qlut, codes, n, M, 0, 1);
      const b = scan4(scalar, qlut, codes, n, M, 0, 1);
      expect(Array.from(a.out), `simd M ${M} n ${n}`).toEqual(want);
      expect(Array.from(b.out), `scalar M ${M} n ${n}`).toEqual(want);
      expect(a.scored).toBe(n);
      expect(b.scored).toBe(n);
    }
  });

  it("M 256 with every entry 255 sums to 65280 (the u16 lanes' bound) without wrapping", () => {
    const M = 256;
    const n = 45;
    const codes = randomCodes(n, M, 3);
    const qlut = randomQlut(M, 5, true);
    for (const k of [simd, scalar]) expect(Array.from(scan4(k, qlut, codes, n, M, 0, 1).out)).toEqual(new Array(n).fill(255 * 256));
  });

  it.each([3, 17, 96])("M %i: dequantized with offset, scale and norms, bit for bit the f32 reference in both builds", (M) => {
    const n = 1061;
    const codes = randomCodes(n, M, M);
    const qlut = randomQlut(M, M + 1);
    const norms = randomF32(n, M + 2);
    const offset = 0.37;
    const scale = 0.0123;
    const sums = refSums(qlut, codes, n, M);
    const f = Math.fround;
    const want = sums.map((s, r) => f(f(f(offset) + f(f(scale) * s)) + norms[r]!));
    const a = scan4(simd, qlut, codes, n, M, offset, scale, norms);
    const b = scan4(scalar, qlut, codes, n, M, offset, scale, norms);
    expect(Array.from(a.out)).toEqual(want);
    expect(Array.from(b.out)).toEqual(want);
  });

  describe("with a filter bitmap", () => {
    const n = 1061;
    const size = 4099;
    const r = rng(99);
    const perm = Int32Array.from({ length: size }, (_, i) => i);
    for (let i = size - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    const positions = perm.slice(0, n);
    const patterns: Record<string, (i: number) => boolean> = {
      none: () => false,
      all: () => true,
      one: (i) => i === 530,
      half: (i) => i % 2 === 1,
      random: () => r() < 0.3,
      "every other block, half of its rows": (i) => (i >> 5) % 2 === 1 && i % 3 !== 0,
      "tail only": (i) => i >= 1056,
    };
    it.each(Object.keys(patterns))("%s: allowed rows as unmasked, masked rows NaN and not scored", (name) => {
      const allow = Array.from({ length: n }, (_, i) => patterns[name]!(i));
      const bits = new Uint8Array(Math.ceil(size / 8));
      allow.forEach((a, i) => {
        if (a) bits[positions[i]! >> 3]! |= 1 << (positions[i]! & 7);
      });
      for (const M of [5, 16, 33]) {
        const codes = randomCodes(n, M, M * 5);
        const qlut = randomQlut(M, M * 7);
        const norms = randomF32(n, M * 9);
        const full = scan4(simd, qlut, codes, n, M, 0.5, 0.01, norms).out;
        const a = scan4(simd, qlut, codes, n, M, 0.5, 0.01, norms, { positions, bits });
        const b = scan4(scalar, qlut, codes, n, M, 0.5, 0.01, norms, { positions, bits });
        const want = Array.from(full, (d, i) => (allow[i] ? d : NaN));
        expect(Array.from(a.out)).toEqual(want);
        expect(Array.from(b.out)).toEqual(want);
        const count = allow.filter(Boolean).length;
        expect(a.scored).toBe(count);
        expect(b.scored).toBe(count);
      }
    });
  });
});

describe.each(["simd", "scalar"] as const)("%s pq4_lut and pq4_encode", (flavor) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels({ flavor });
  });

  /** Exact f64 ADC terms: ‖q_m − c_mj‖² (w = 0) or w·q_m·c_mj. */
  function refLut(q: Float32Array, book: Float32Array, M: number, dsub: number, w: number): Float64Array {
    const t = new Float64Array(M * 16);
    for (let m = 0; m < M; m++) {
      for (let j = 0; j < 16; j++) {
        let s = 0;
        for (let i = 0; i < dsub; i++) {
          const a = q[m * dsub + i]!;
          const c = book[(m * 16 + j) * dsub + i]!;
          s += w === 0 ? (a - c) * (a - c) : a * c;
        }
        t[m * 16 + j] = w === 0 ? s : w * s;
      }
    }
    return t;
  }

  it.each([[1, 1], [3, 2], [7, 1], [16, 4], [50, 2], [96, 4], [255, 1]])("M %i, dsub %i: fast-scan distances within M·scale/2 of the exact ADC (l2, dot)", (M, dsub) => {
    const dim = M * dsub;
    const n = 333;
    const book = randomF32(M * 16 * dim / M, dim);
    const q = randomF32(dim, dim + 5);
    const codes = randomCodes(n, M, dim + 9);
    const blocked = k.upload(packBlocked(codes, M));
    const codebook = k.upload(book, dsub);
    const session = new ScanSession(k);
    try {
      for (const w of [0, -1, -2]) {
        const lut = refLut(q, book, M, dsub, w);
        const [scale, base] = session.setLut4(q, codebook, M, w);
        let range = 0;
        for (let m = 0; m < M; m++) {
          const t = lut.subarray(m * 16, m * 16 + 16);
          range = Math.max(range, Math.max(...t) - Math.min(...t));
        }
        expect(scale).toBeCloseTo(range / 255, 5);
        session.reset(n);
        const bias = 0.75;
        const start = session.scanPq4(blocked, n, M, bias + base, scale);
        expect(start).toBe(0);
        const top = session.top(n);
        const got = new Float64Array(n);
        top.index.forEach((i, j) => (got[i] = top.distance[j]!));
        const bound = (M * scale) / 2;
        for (let r = 0; r < n; r++) {
          let exact = bias;
          for (let m = 0; m < M; m++) exact += lut[m * 16 + codes[r * M + m]!]!;
          const err = Math.abs(got[r]! - exact);
          if (!(err <= bound + 1e-4 * (1 + Math.abs(exact)))) expect.fail(`w ${w} row ${r}: ${got[r]} vs exact ${exact}, error ${err} over the bound ${bound}`);
        }
      }
    } finally {
      session.release();
      blocked.free();
      codebook.free();
    }
  });

  it("setLut4 rejects a codebook that does not fit, and more than 256 sub-vectors", () => {
    const session = new ScanSession(k);
    const book = k.upload(new Float32Array(16 * 8), 1);
    const big = k.upload(new Float32Array(16 * 514), 2);
    try {
      expect(() => session.setLut4(new Float32Array(4), book, 2, 0)).toThrow(expect.objectContaining({ code: "DIMENSION_MISMATCH" }));
      expect(() => session.setLut4(new Float32Array(514), big, 257, 0)).toThrow(expect.objectContaining({ code: "DIMENSION_MISMATCH" }));
    } finally {
      session.release();
      book.free();
      big.free();
    }
  });

  it.each([[4, 1], [12, 3], [64, 2]])("pq4_encode, dim %i M %i: each code is a nearest of the 16 centroids", (dim, M) => {
    const dsub = dim / M;
    const n = 257;
    const x = randomF32(n * dim, dim * 3);
    const book = randomF32(16 * dim, dim * 5);
    const codes = pqEncode(k, x, dim, M, book, 16);
    expect(codes.length).toBe(n * M);
    for (let r = 0; r < n; r++) {
      for (let m = 0; m < M; m++) {
        const d = (j: number): number => {
          let s = 0;
          for (let i = 0; i < dsub; i++) s += (x[r * dim + m * dsub + i]! - book[(m * 16 + j) * dsub + i]!) ** 2;
          return s;
        };
        const c = codes[r * M + m]!;
        expect(c).toBeLessThan(16);
        let best = Infinity;
        for (let j = 0; j < 16; j++) best = Math.min(best, d(j));
        if (!(d(c) <= best + 1e-5)) expect.fail(`row ${r} sub-space ${m}: code ${c} at ${d(c)}, nearest at ${best}`);
      }
    }
  });
});
