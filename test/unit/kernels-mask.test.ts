/**
 * The query filter inside the IVF partition scans (assembly/mask.ts): f32_scan, sq_ip, pq_adc and
 * rq_scan given a partition's positions and an allowed bitmap must equal, bit for bit and in both
 * builds, the unmasked scan with the masked rows set to NaN, and report how many rows they scored
 * (the masked ones are not). Through a ScanSession over several partitions, and through each IVF
 * index kind, a bitmap filter ranks exactly as the unmasked scan filtered on the host (the
 * predicate path): same rows, same distances, same order, ties included.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { buildIndex } from "../../src/ann/index.js";
import type { IvfKind } from "../../src/ann/ivf.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { ScanSession } from "../../src/kernels/scan.js";
import * as ref from "../support/reference.js";
import { randomF32, randomI8, randomU8, rng } from "./kernels-helpers.js";

/** Rows per partition: 33 whole groups of 32 and a tail of 5. */
const N = 1061;
/** Index positions; the partition holds a shuffled subset of them. */
const SIZE = 4099;

type Pattern = "none" | "0.1%" | "50%" | "all" | "random" | "blocks";
const PATTERNS: Pattern[] = ["none", "0.1%", "50%", "all", "random", "blocks"];

/** SIZE positions shuffled; the first N are the partition's rows. */
function shuffledPositions(seed: number): Int32Array {
  const r = rng(seed);
  const p = Int32Array.from({ length: SIZE }, (_, i) => i);
  for (let i = SIZE - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p.slice(0, N);
}

/** Which partition rows a pattern allows. "blocks": even groups of 32 rows wholly masked, odd ones half. */
function allowedRows(pattern: Pattern, n: number, seed: number): boolean[] {
  const r = rng(seed);
  switch (pattern) {
    case "none": return Array.from({ length: n }, () => false);
    case "all": return Array.from({ length: n }, () => true);
    case "0.1%": return Array.from({ length: n }, (_, i) => i === Math.floor(n / 2));
    case "50%": return Array.from({ length: n }, (_, i) => i % 2 === 1);
    case "random": return Array.from({ length: n }, () => r() < 0.3);
    case "blocks": return Array.from({ length: n }, (_, i) => (i >> 5) % 2 === 1 && r() < 0.5);
  }
}

/** A bitmap over SIZE positions with the positions of the allowed rows set. */
function bitmapOf(positions: Int32Array, allow: boolean[]): Uint8Array {
  const bits = new Uint8Array(Math.ceil(SIZE / 8));
  allow.forEach((a, r) => {
    if (a) bits[positions[r]! >> 3]! |= 1 << (positions[r]! & 7);
  });
  return bits;
}

type Arg = ArrayBufferView | number | "positions" | "allowed" | "out" | "spread";

/** Runs a scan kernel on host arrays; `positions` / `allowed` are 0 when `mask` is undefined. */
function scan(k: Kernels, name: "f32_scan" | "sq_ip" | "pq_adc" | "rq_scan", args: Arg[], n: number, mask?: { positions: Int32Array; bits: Uint8Array }): { out: Float32Array; scored: number } {
  const heap = k.heap;
  const ptrs: number[] = [];
  const put = (a: ArrayBufferView): number => {
    const p = heap.alloc(a.byteLength);
    ptrs.push(p);
    heap.write(p, a);
    return p;
  };
  const out = heap.alloc(n * 4);
  const spread = heap.alloc(n * 4);
  ptrs.push(out, spread);
  try {
    // Garbage in `out` first: a masked slot must come out NaN, not keep what was there.
    heap.write(out, new Float32Array(n).fill(12345));
    const values = args.map((a) => {
      if (a === "out") return out;
      if (a === "spread") return spread;
      if (a === "positions") return mask ? put(mask.positions) : 0;
      if (a === "allowed") return mask ? put(mask.bits) : 0;
      return typeof a === "number" ? a : put(a);
    });
    const scored = (k.exports[name] as (...v: number[]) => number)(...values);
    return { out: heap.f32(out, n).slice(), scored };
  } finally {
    for (const p of ptrs) heap.free(p);
  }
}

/** The scans under test, each with its arguments over N rows (seeded data, duplicated rows for ties). */
function cases(): { name: string; kernel: "f32_scan" | "sq_ip" | "pq_adc" | "rq_scan"; args: Arg[] }[] {
  const dup = <T extends { set(a: ArrayLike<number>, o: number): void; subarray(a: number, b: number): ArrayLike<number> }>(x: T, width: number): T => {
    // Every 7th row repeats the row before it: equal distances, which must keep scan order.
    for (let r = 7; r < N; r += 7) x.set(x.subarray((r - 1) * width, r * width), r * width);
    return x;
  };
  const out: { name: string; kernel: "f32_scan" | "sq_ip" | "pq_adc" | "rq_scan"; args: Arg[] }[] = [];
  for (const dim of [17, 100]) {
    const x = dup(randomF32(N * dim, dim), dim);
    const q = randomF32(dim, dim + 1);
    for (const metric of [0, 1]) out.push({ name: `f32 dim ${dim} ${metric === 0 ? "l2" : "dot"}`, kernel: "f32_scan", args: [q, x, N, dim, metric, "positions", "allowed", "out"] });
  }
  for (const dim of [15, 128]) {
    const codes = dup(randomI8(N * dim, 3 * dim), dim);
    const qi = Int16Array.from(randomF32(dim, 5 * dim), (v) => Math.round(v * 16383));
    const norms = randomF32(N, 7 * dim);
    out.push({ name: `sq dim ${dim} dot`, kernel: "sq_ip", args: [qi, codes, N, dim, -0.001, 1, 0, "positions", "allowed", "out"] });
    out.push({ name: `sq dim ${dim} l2`, kernel: "sq_ip", args: [qi, codes, N, dim, -0.002, 0.5, norms, "positions", "allowed", "out"] });
  }
  for (const M of [5, 16, 96]) {
    const codes = dup(randomU8(N * M, 11 * M), M);
    const lut = randomF32(M * 256, 13 * M);
    const norms = randomF32(N, 17 * M);
    out.push({ name: `pq M ${M}`, kernel: "pq_adc", args: [lut, codes, N, M, 0.25, 0, "positions", "allowed", "out"] });
    out.push({ name: `pq M ${M} + norms`, kernel: "pq_adc", args: [lut, codes, N, M, 0.25, norms, "positions", "allowed", "out"] });
  }
  for (const bytes of [8, 40]) {
    const r = rng(bytes);
    const codes = new Uint8Array(N * (bytes + 8));
    const view = new DataView(codes.buffer);
    for (let i = 0; i < N; i++) {
      const base = i * (bytes + 8);
      codes.set(randomU8(bytes, bytes * 1000 + i), base);
      view.setFloat32(base + bytes, r() * 4, true);
      view.setFloat32(base + bytes + 4, 0.3 + 0.7 * r(), true);
    }
    dup(codes, bytes + 8);
    const planes = randomU8(4 * bytes, bytes + 5);
    out.push({ name: `rq ${bytes} bytes`, kernel: "rq_scan", args: [planes, codes, N, bytes, 1, 2.5, -0.03, -0.2, 1.7, 0.4, "positions", "allowed", "out", "spread"] });
  }
  return out;
}

describe.each(["simd", "scalar"] as const)("%s masked scan kernels", (flavor) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels({ flavor });
  });

  describe.each(cases())("$name", ({ kernel, args }) => {
    const positions = shuffledPositions(N + args.length);

    it("unmasked (allowed = 0) scores every row", () => {
      const { out, scored } = scan(k, kernel, args, N);
      expect(scored).toBe(N);
      expect(out.every((d) => Number.isFinite(d))).toBe(true);
    });

    it.each(PATTERNS)("mask %s: the unmasked scan with masked rows NaN, bit for bit; only allowed rows scored", (pattern) => {
      const allow = allowedRows(pattern, N, positions[0]!);
      const mask = { positions, bits: bitmapOf(positions, allow) };
      const full = scan(k, kernel, args, N).out;
      const { out, scored } = scan(k, kernel, args, N, mask);
      const expected = Float32Array.from(full, (d, r) => (allow[r] ? d : NaN));
      expect(Array.from(out).map(String)).toEqual(Array.from(expected).map(String));
      expect(scored).toBe(allow.filter(Boolean).length);
      // The ranking the search takes: the same rows, distances and order (ties by scan order).
      const top = k.exports.topk;
      const ptr = k.heap.alloc(N * 12);
      try {
        k.heap.write(ptr, out);
        const count = top(ptr, N, 25, -Infinity, Infinity, ptr + N * 4, ptr + N * 8);
        const want = ref.topk(expected, 25);
        expect(Array.from(k.heap.i32(ptr + N * 4, count))).toEqual(Array.from(want.index));
        expect(Array.from(k.heap.f32(ptr + N * 8, count))).toEqual(Array.from(want.distance));
      } finally {
        k.heap.free(ptr);
      }
    });
  });
});

describe.each(["simd", "scalar"] as const)("%s unfiltered pq_adc (two rows at a time)", (flavor) => {
  // The unfiltered scan sums two rows at once; pq_adc_gather sums one row at a time (adcRow). Each
  // row's lookups must be added in the same order: the same floats, bit for bit.
  it.each([1, 5, 8, 16, 96])("M %i: every row as pq_adc_gather scores it alone, odd row counts included", async (M) => {
    const k = await loadKernels({ flavor });
    for (const n of [1, 2, 3, N]) {
      const codes = randomU8(n * M, 19 * M + n);
      const lut = randomF32(M * 256, 23 * M);
      const norms = randomF32(n, 29 * M);
      const ids = Int32Array.from({ length: n }, (_, i) => i);
      for (const withNorms of [false, true]) {
        const heap = k.heap;
        const put = (a: ArrayBufferView): number => {
          const p = heap.alloc(a.byteLength);
          heap.write(p, a);
          return p;
        };
        const [c, l, nr, id] = [put(codes), put(lut), put(norms), put(ids)];
        const a = heap.alloc(n * 4);
        const b = heap.alloc(n * 4);
        try {
          expect(k.exports.pq_adc(l, c, n, M, 0.75, withNorms ? nr : 0, 0, 0, a)).toBe(n);
          k.exports.pq_adc_gather(l, c, id, n, M, 0.75, withNorms ? nr : 0, b);
          expect(Array.from(heap.f32(a, n)).map(String)).toEqual(Array.from(heap.f32(b, n)).map(String));
          expect(Array.from(heap.f32(a, n))).toEqual(Array.from(ref.pqAdc(lut, codes, M, 0.75, withNorms ? norms : undefined)).map((x) => expect.closeTo(x, 4)));
        } finally {
          for (const p of [c, l, nr, id, a, b]) heap.free(p);
        }
      }
    }
  });
});

describe("ScanSession with a filter bitmap", () => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels();
  });

  it("ranks several partitions exactly as unmasked scans filtered on the host, and scores only allowed rows", () => {
    const M = 8;
    const parts = [0, 1, 2].map((i) => {
      const codes = randomU8(N * M, 100 + i);
      for (let r = 5; r < N; r += 5) codes.copyWithin(r * M, (r - 5) * M, (r - 4) * M); // ties
      const positions = Int32Array.from(shuffledPositions(200 + i), (p) => p); // may repeat across partitions: fine for a scan
      return { codes: k.upload(codes, M), positions, positionBlock: k.upload(new Uint8Array(positions.buffer)) };
    });
    const bits = new Uint8Array(Math.ceil(SIZE / 8));
    const r = rng(9);
    for (let i = 0; i < bits.length; i++) bits[i] = r() < 0.5 ? 0 : Math.floor(r() * 256);
    const test = (p: number): boolean => ((bits[p >> 3]! >> (p & 7)) & 1) === 1;
    const masked = new ScanSession(k);
    const host = new ScanSession(k);
    try {
      const book = k.upload(randomF32(M * 256 * 2, 4), 2); // a codebook for dim 16, M 8: dsub 2
      const q = randomF32(16, 5);
      for (const s of [masked, host]) {
        s.setLut("dot", q, book, M);
        s.reset(3 * N);
      }
      masked.setAllowed(bits, SIZE);
      host.setAllowed(undefined, SIZE);
      let allowed = 0;
      for (const part of parts) {
        masked.scanPq(part.codes, N, M, 0.5, undefined, part.positionBlock);
        const start = host.scanPq(part.codes, N, M, 0.5, undefined, part.positionBlock);
        allowed += host.mask(start, N, (j) => test(part.positions[j]!));
      }
      expect(masked.scored).toBe(allowed);
      expect(host.scored).toBe(3 * N);
      expect(allowed).toBeGreaterThan(0);
      expect(allowed).toBeLessThan(3 * N);
      for (const kk of [1, 10, 100, allowed, 3 * N]) expect(masked.top(kk)).toEqual(host.top(kk));
      book.free();
    } finally {
      masked.release();
      host.release();
      for (const p of parts) {
        p.codes.free();
        p.positionBlock.free();
      }
    }
  });

  it("reads a bitmap shorter than the positions as zeros past its end", () => {
    const dim = 4;
    const x = randomF32(N * dim, 1);
    const positions = shuffledPositions(3);
    const block = k.upload(x, dim);
    const posBlock = k.upload(new Uint8Array(positions.buffer));
    const session = new ScanSession(k);
    try {
      session.setQuery(randomF32(dim, 2));
      session.reset(N);
      const short = new Uint8Array(64).fill(255); // positions 0 … 511
      session.setAllowed(short, SIZE);
      session.scanF32("l2", block, N, dim, posBlock);
      const expected = Array.from(positions).filter((p) => p < 512).length;
      expect(session.scored).toBe(expected);
      expect(session.top(N).index.length).toBe(expected);
    } finally {
      session.release();
      block.free();
      posBlock.free();
    }
  });
});

describe.each(["IVF_FLAT", "IVF_SQ", "IVF_PQ", "IVF_RQ"] as const)("%s search with a bitmap filter", (kind: IvfKind) => {
  it.each(["l2", "dot", "cosine"] as const)("%s: the same hits as the same filter given as a predicate (host filtering)", async (metric) => {
    const k = await loadKernels();
    const n = 3000;
    const dim = 16;
    const data = randomF32(n * dim, 21);
    for (let r = 9; r < n; r += 9) data.copyWithin(r * dim, (r - 1) * dim, r * dim); // exact ties
    const index = await buildIndex(k, kind, data, dim, undefined, { distanceType: metric, numPartitions: 12, numSubVectors: 4, maxIterations: 5 });
    try {
      const queries = [randomF32(dim, 31), randomF32(dim, 32)];
      for (const pattern of PATTERNS) {
        const allow = allowedRows(pattern, n, 77);
        const bits = new Uint8Array(Math.ceil(n / 8));
        allow.forEach((a, p) => {
          if (a) bits[p >> 3]! |= 1 << (p & 7);
        });
        for (const q of queries) {
          // Every partition probed, so both filters see the same rows.
          const viaBits = await index.search(q, 20, { nprobes: 12, allowed: bits });
          const viaHost = await index.search(q, 20, { nprobes: 12, allowed: (_row, p) => allow[p]! });
          expect(viaBits, `${pattern}`).toEqual(viaHost);
          expect(viaBits.rows.length, pattern).toBe(Math.min(20, allow.filter(Boolean).length));
          for (const p of viaBits.positions) expect(allow[p]).toBe(true);
        }
      }
    } finally {
      index.free();
    }
  });
});
