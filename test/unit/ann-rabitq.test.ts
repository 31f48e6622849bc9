/**
 * IVF_RQ (src/ann/rabitq.ts, assembly/rabitq.ts): the popcount kernel in both builds against a
 * plain-TS reference, the estimator and its error bound on real vectors (GloVe, SIFT), recall with
 * the default re-rank, persistence (whole file and partitions read on demand), filters, appends
 * and typed errors for bad options.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { buildIndex, IvfIndex, openIndex, PREAMBLE_BYTES, readHeadLength } from "../../src/ann/index.js";
import { RabitqCodec, paddedDim, quantizeQuery, randomRotation } from "../../src/ann/rabitq.js";
import type { DistanceType, SearchOptions, VectorIndex } from "../../src/ann/types.js";
import { Index } from "../../src/indexes/config.js";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { ScanSession } from "../../src/kernels/scan.js";
import { isQuiverError } from "../../src/errors.js";
import { hasData, loadGlove, loadSiftSmall, type VectorDataset } from "../../bench/datasets.js";
import { expectClose, expectExact, randomU8, rng } from "./kernels-helpers.js";

const K = 10;

/** n rows of `bytes` random bits followed by f32 nr ∈ [0, 4) and a ∈ [0.3, 1]. */
function randomCodes(n: number, bytes: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n * (bytes + 8));
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const base = i * (bytes + 8);
    out.set(randomU8(bytes, seed * 31 + i), base);
    view.setFloat32(base + bytes, r() * 4, true);
    view.setFloat32(base + bytes + 4, 0.3 + 0.7 * r(), true);
  }
  return out;
}

const popcount = (x: number): number => {
  let c = 0;
  for (let v = x; v; v &= v - 1) c++;
  return c;
};

/** The kernel's formula, in doubles. */
function referenceScan(planes: Uint8Array, codes: Uint8Array, n: number, bytes: number, c: number[]): { estimate: number[]; spread: number[] } {
  const [cg, c0, cS, cP, c1, ce] = c as [number, number, number, number, number, number];
  const view = new DataView(codes.buffer);
  const estimate: number[] = [];
  const spread: number[] = [];
  for (let r = 0; r < n; r++) {
    const base = r * (bytes + 8);
    let s = 0;
    let p = 0;
    for (let i = 0; i < bytes; i++) {
      const x = codes[base + i]!;
      p += popcount(x);
      for (let j = 0; j < 4; j++) s += popcount(x & planes[j * bytes + i]!) << j;
    }
    const nr = view.getFloat32(base + bytes, true);
    const a = view.getFloat32(base + bytes + 4, true);
    const est = cg * nr * nr + c0 + (nr / a) * (cS * s + cP * p + c1);
    const err = ce * (nr / a) * Math.sqrt(Math.max(0, 1 - a * a));
    estimate.push(est);
    spread.push(err);
  }
  return { estimate, spread };
}

function runKernel(k: Kernels, planes: Uint8Array, codes: Uint8Array, n: number, bytes: number, c: number[], withSpread: boolean): { estimate: Float32Array; spread: Float32Array } {
  const heap = k.heap;
  const pPtr = heap.alloc(planes.byteLength);
  const cPtr = heap.alloc(codes.byteLength);
  const out = heap.alloc(n * 4);
  const spread = withSpread ? heap.alloc(n * 4) : 0;
  try {
    heap.write(pPtr, planes);
    heap.write(cPtr, codes);
    const [cg, c0, cS, cP, c1, ce] = c as [number, number, number, number, number, number];
    k.exports.rq_scan(pPtr, cPtr, n, bytes, cg, c0, cS, cP, c1, ce, 0, 0, out, spread);
    return { estimate: heap.f32(out, n).slice(), spread: withSpread ? heap.f32(spread, n).slice() : new Float32Array(0) };
  } finally {
    for (const p of [pPtr, cPtr, out, spread]) heap.free(p);
  }
}

describe("rq_scan kernel", () => {
  let simd: Kernels;
  let scalar: Kernels;
  beforeAll(async () => {
    simd = await loadKernels({ flavor: "simd" });
    scalar = await loadKernels({ flavor: "scalar" });
  });

  // 8 and 24 bytes end in a u64 tail after the 16-byte SIMD steps; 136 = 8 steps + a tail.
  it.each([8, 16, 24, 48, 96, 136])("%i-byte codes: SIMD = scalar, both = the reference", (bytes) => {
    const n = 29;
    const planes = randomU8(4 * bytes, bytes);
    const codes = randomCodes(n, bytes, bytes + 1);
    for (const c of [[1, 2.5, -0.03, -0.2, 1.7, 0.4], [0, 0.8, -0.01, 0.05, -0.3, 0.1], [0.5, 0, 0, 0, 0, 0]]) {
      const a = runKernel(simd, planes, codes, n, bytes, c, true);
      const b = runKernel(scalar, planes, codes, n, bytes, c, true);
      expectExact(a.estimate, b.estimate, `estimate, ${bytes} bytes`);
      expectExact(a.spread, b.spread, `spread, ${bytes} bytes`);
      const want = referenceScan(planes, codes, n, bytes, c);
      expectClose(a.estimate, want.estimate, `estimate vs reference, ${bytes} bytes`);
      expectClose(a.spread, want.spread, `spread vs reference, ${bytes} bytes`);
      // spread = 0 (no second output) leaves the estimates as they were.
      expectExact(runKernel(simd, planes, codes, n, bytes, c, false).estimate, a.estimate, "without spread");
    }
  });

  it("all-ones planes count t = 15 everywhere: S = 15 · popcount(code)", () => {
    const bytes = 16;
    const planes = new Uint8Array(4 * bytes).fill(255);
    const codes = randomCodes(5, bytes, 3);
    for (const k of [simd, scalar]) {
      const { estimate } = runKernel(k, planes, codes, 5, bytes, [0, 0, 1, -15, 0, 0], false);
      for (const v of estimate) expect(v).toBeCloseTo(0, 3); // (nr / a)·(S − 15·P) = 0
    }
  });
});

describe("RaBitQ codes", () => {
  let kernels: Kernels;
  beforeAll(async () => {
    kernels = await loadKernels();
  });

  it("the rotation has orthonormal columns, is seeded, and pads to whole 64-bit words", async () => {
    expect([1, 64, 65, 100, 128, 384, 768].map(paddedDim)).toEqual([64, 64, 128, 128, 128, 384, 768]);
    const dim = 100;
    const R = await randomRotation(dim, 7);
    expect(R.length).toBe(128 * dim);
    expect(await randomRotation(dim, 7)).toEqual(R);
    expect(await randomRotation(dim, 8)).not.toEqual(R);
    for (const [i, j] of [[0, 0], [0, 1], [17, 99], [50, 50]] as const) {
      let s = 0;
      for (let r = 0; r < 128; r++) s += R[r * dim + i]! * R[r * dim + j]!;
      expect(s).toBeCloseTo(i === j ? 1 : 0, 5);
    }
  });

  it("query planes hold 4-bit values that dequantize to within half a step", () => {
    const dp = 128;
    const r = rng(5);
    const v = Float32Array.from({ length: dp }, () => r() * 2 - 1);
    const { planes, sums } = quantizeQuery(v, dp);
    let total = 0;
    for (let i = 0; i < dp; i++) {
      let t = 0;
      for (let j = 0; j < 4; j++) t |= ((planes[j * 16 + (i >> 3)]! >> (i & 7)) & 1) << j;
      total += t;
      expect(Math.abs(sums.lo + sums.delta * t - v[i]!)).toBeLessThanOrEqual(sums.delta / 2 + 1e-6);
    }
    expect(sums.total).toBe(total);
  });

  /**
   * Encodes `rows` of a real data set around their mean (one partition) and scans them. The
   * estimator's error is close to Gaussian with σ = √(1 − a²) / (a·√(D' − 1)) (the paper's
   * analysis), so the bound at ε0 = 1.9 should hold for about 94 % of pairs (P(|Z| ≤ 1.9)) and at
   * ε0 = 3 for about 99.7 %; the estimate should be unbiased.
   */
  async function boundCoverage(data: VectorDataset, metric: DistanceType, rows: number, queries: number): Promise<{ inside: number; inside3: number; meanError: number; meanWidth: number; scale: number }> {
    const dim = data.base.dim;
    let x: Float32Array = data.base.data.slice(0, rows * dim);
    const unit = (v: Float32Array): Float32Array => {
      for (let o = 0; o < v.length; o += dim) {
        let s = 0;
        for (let i = 0; i < dim; i++) s += v[o + i]! ** 2;
        for (let i = 0; i < dim; i++) v[o + i]! /= Math.sqrt(s);
      }
      return v;
    };
    if (metric === "cosine") x = unit(x);
    const centroid = new Float32Array(dim);
    for (let r = 0; r < rows; r++) for (let i = 0; i < dim; i++) centroid[i]! += x[r * dim + i]! / rows;
    const codec = new RabitqCodec(kernels, dim, metric, centroid, await randomRotation(dim, 42));
    const { codes } = codec.encode(kernels, x, new Int32Array(rows));
    const block = codec.upload(kernels, codes);
    const session = new ScanSession(kernels);
    let inside = 0;
    let inside3 = 0;
    let total = 0;
    let error = 0;
    let width = 0;
    let scale = 0;
    try {
      for (let qi = 0; qi < queries; qi++) {
        let q: Float32Array = data.queries.data.slice(qi * dim, (qi + 1) * dim);
        if (metric === "cosine") q = unit(q);
        let qc = 0;
        for (let i = 0; i < dim; i++) qc += q[i]! * centroid[i]!;
        session.reset(rows);
        const constants = codec.begin(session, q);
        codec.scan(session, { rows, codes: block, norms: null }, 0, 1 - qc, constants);
        const all = session.top(rows);
        for (let j = 0; j < all.index.length; j++) {
          const r = all.index[j]!;
          const estimate = all.distance[j]!;
          const bound = session.spreadAt(r);
          let exact = 0;
          for (let i = 0; i < dim; i++) {
            const a = x[r * dim + i]!;
            const b = q[i]!;
            exact += metric === "l2" ? (a - b) ** 2 : metric === "cosine" ? (a - b) ** 2 / 2 : -a * b;
          }
          if (metric === "dot") exact += 1;
          const slack = 1e-4 * Math.abs(exact);
          if (Math.abs(exact - estimate) <= bound + slack) inside++;
          if (Math.abs(exact - estimate) <= bound * (3 / 1.9) + slack) inside3++;
          error += estimate - exact;
          width += 2 * bound;
          scale += Math.abs(exact);
          total++;
        }
      }
    } finally {
      session.release();
      block.free();
      codec.free();
    }
    return { inside: inside / total, inside3: inside3 / total, meanError: error / total, meanWidth: width / total, scale: scale / total };
  }

  it.skipIf(!hasData("glove-100d-100k"))("GloVe cosine: the bound holds as the theory says and the estimate is unbiased", async () => {
    const { inside, inside3, meanError, meanWidth, scale } = await boundCoverage(loadGlove("cosine"), "cosine", 2000, 20);
    expect(inside).toBeGreaterThanOrEqual(0.92); // measured 0.941 (theory 0.943)
    expect(inside3).toBeGreaterThanOrEqual(0.99); // measured 0.997 (theory 0.997)
    expect(Math.abs(meanError)).toBeLessThan(0.005 * scale); // measured ≤ 0.0005
    expect(meanWidth).toBeLessThan(scale); // the bound says something
  });

  it.skipIf(!hasData("glove-100d-100k"))("GloVe dot: the bound holds as the theory says", async () => {
    const { inside, inside3, meanError, scale } = await boundCoverage(loadGlove("cosine"), "dot", 2000, 20);
    expect(inside).toBeGreaterThanOrEqual(0.92); // measured 0.941
    expect(inside3).toBeGreaterThanOrEqual(0.99); // measured 0.998
    expect(Math.abs(meanError)).toBeLessThan(0.005 * scale); // measured ≤ 0.0005
  });

  it.skipIf(!hasData("siftsmall"))("SIFT l2: the bound holds as the theory says", async () => {
    const { inside, inside3, meanError, scale } = await boundCoverage(loadSiftSmall(), "l2", 2000, 20);
    expect(inside).toBeGreaterThanOrEqual(0.92); // measured 0.960
    expect(inside3).toBeGreaterThanOrEqual(0.99); // measured 0.999
    expect(Math.abs(meanError)).toBeLessThan(0.005 * scale); // measured ≤ 0.0005
  });
});

describe.skipIf(!hasData("glove-100d-100k"))("IVF_RQ on glove-100d (first 20K rows, cosine)", () => {
  const SUBSET = 20_000;
  const QUERIES = 100;
  const data = hasData("glove-100d-100k") ? loadGlove("cosine") : undefined!;
  const dim = data?.base.dim;
  const base = data?.base.data.subarray(0, SUBSET * dim);
  let fetched = 0;
  const fetchVectors = async (rows: Float64Array): Promise<Float32Array> => {
    fetched += rows.length;
    const out = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => out.set(base.subarray(r * dim, (r + 1) * dim), i * dim));
    return out;
  };
  const query = (q: number): Float32Array => data.queries.data.subarray(q * dim, (q + 1) * dim);
  let kernels: Kernels;
  let exact: VectorIndex;
  let index: IvfIndex;
  let truth: Float64Array[];
  beforeAll(async () => {
    kernels = await loadKernels();
    exact = await buildIndex(kernels, "FLAT", base, dim, undefined, { distanceType: "cosine" });
    index = (await buildIndex(kernels, "IVF_RQ", base, dim, undefined, { distanceType: "cosine" })) as IvfIndex;
    truth = [];
    for (let q = 0; q < QUERIES; q++) truth.push((await exact.search(query(q), K)).rows);
  }, 120_000);

  async function recall(ix: VectorIndex, options: SearchOptions): Promise<number> {
    let hit = 0;
    for (let q = 0; q < QUERIES; q++) {
      const want = new Set(truth[q]);
      for (const r of (await ix.search(query(q), K, options)).rows) if (want.has(r)) hit++;
    }
    return hit / (QUERIES * K);
  }

  it("recall@10 ≥ 0.95 with the default re-rank; the codes alone rank far worse", async () => {
    expect(index.stats().params).toMatchObject({ numBits: 1, numPartitions: 141 });
    fetched = 0;
    expect(await recall(index, { nprobes: 40, fetchVectors })).toBeGreaterThanOrEqual(0.95); // measured 0.986 over the first 200 queries
    // The bound prunes some of the k × 10 candidates before any vector is read.
    expect(fetched).toBeLessThanOrEqual(QUERIES * K * 10);
    expect(await recall(index, { nprobes: 40 })).toBeLessThan(0.8); //                        measured 0.63
    expect(await recall(index, { nprobes: 40, refineFactor: 20, fetchVectors })).toBeGreaterThan(0.98); // 0.99
  });

  it("codes take D'/8 + 8 bytes per row: 24 for 100 dimensions, a 16th of the f32 vectors", () => {
    const perRow = 128 / 8 + 8;
    const centroidsAndRotation = 141 * 100 * 4 * 2 + 128 * 100 * 4 * 2 + 141 * 128 * 4;
    // + row ids (f64) and positions (i32) per row
    expect(index.bytes()).toBe(centroidsAndRotation + SUBSET * (perRow + 4 + 8));
  });

  it("filters: only allowed rows come back, and k of them while k are allowed", async () => {
    const allowed = new Uint8Array(Math.ceil(SUBSET / 8));
    for (let p = 0; p < SUBSET; p += 7) allowed[p >> 3]! |= 1 << (p & 7);
    for (let q = 0; q < 10; q++) {
      const hits = await index.search(query(q), K, { nprobes: 20, allowed, fetchVectors });
      expect(hits.rows.length).toBe(K);
      for (const p of hits.positions) expect(p % 7).toBe(0);
    }
  });

  it("round trip: the whole file and a head with partitions read on demand answer the same", async () => {
    const bytes = await index.serialize();
    const whole = openIndex(kernels, bytes);
    const head = bytes.subarray(0, readHeadLength(bytes.subarray(0, PREAMBLE_BYTES)));
    let reads = 0;
    const lazy = openIndex(kernels, head, {
      loadPartition: async (_p, r) => {
        reads++;
        return bytes.slice(r.offset, r.offset + r.length);
      },
    });
    try {
      expect(whole.kind).toBe("IVF_RQ");
      for (let q = 0; q < 10; q++) {
        const want = await index.search(query(q), K, { fetchVectors });
        expect(Array.from((await whole.search(query(q), K, { fetchVectors })).rows)).toEqual(Array.from(want.rows));
        expect(Array.from((await lazy.search(query(q), K, { fetchVectors })).rows)).toEqual(Array.from(want.rows));
      }
      expect(reads).toBeGreaterThan(0);
      // A damaged rotation is CORRUPT_FILE, not a wrong answer.
      const damaged = bytes.slice();
      const rotationAt = JSON.parse(new TextDecoder().decode(damaged.subarray(32, 32 + new DataView(damaged.buffer).getUint32(8, true)))).sections.rqRotation[0] as number;
      const dataStart = Math.ceil((32 + new DataView(damaged.buffer).getUint32(8, true)) / 16) * 16;
      damaged[dataStart + rotationAt + 5]! ^= 0xff;
      expect(() => openIndex(kernels, damaged)).toThrow(expect.objectContaining({ code: "CORRUPT_FILE" }));
    } finally {
      whole.free();
      lazy.free();
    }
  });

  it("rows added after the build are found", async () => {
    const copy = openIndex(kernels, await index.serialize());
    try {
      const extra = data.base.data.slice(SUBSET * dim, (SUBSET + 500) * dim);
      await copy.add(extra, Float64Array.from({ length: 500 }, (_, i) => 1_000_000 + i));
      const local = async (rows: Float64Array): Promise<Float32Array> => {
        const out = new Float32Array(rows.length * dim);
        rows.forEach((r, i) => out.set(r >= 1_000_000 ? extra.subarray((r - 1_000_000) * dim, (r - 999_999) * dim) : base.subarray(r * dim, (r + 1) * dim), i * dim));
        return out;
      };
      let found = 0;
      for (let i = 0; i < 20; i++) {
        const hits = await copy.search(extra.subarray(i * 25 * dim, (i * 25 + 1) * dim), 1, { fetchVectors: local });
        if (hits.rows[0] === 1_000_000 + i * 25) found++;
      }
      expect(found).toBe(20);
    } finally {
      copy.free();
    }
  });
});

describe("IVF_RQ options", () => {
  it("takes LanceDB's ivfRq options and rejects the rest with INVALID_ARGUMENT", async () => {
    expect(Index.ivfRq({ numPartitions: 8, numBits: 1, distanceType: "cosine" })).toEqual({ kind: "vector", type: "IVF_RQ", params: { numPartitions: 8, numBits: 1, distanceType: "cosine" } });
    for (const bad of [{ numBits: 4 }, { numBits: 8 }, { numPartitions: 0 }, { numSubVectors: 4 }, { distanceType: "hamming" }]) {
      expect(() => Index.ivfRq(bad as never), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
    const kernels = await loadKernels();
    const x = Float32Array.from({ length: 64 * 8 }, (_, i) => Math.sin(i));
    const err = await buildIndex(kernels, "IVF_RQ", x, 8, undefined, { numBits: 2 }).catch((e: unknown) => e);
    expect(isQuiverError(err, "INVALID_ARGUMENT")).toBe(true);
    // Refining needs vectors: an explicit refineFactor without fetchVectors is still an error.
    const index = await buildIndex(kernels, "IVF_RQ", x, 8, undefined, { numPartitions: 2, distanceType: "dot" });
    try {
      await expect(index.search(x.subarray(0, 8), 3, { refineFactor: 4 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(index.search(x.subarray(0, 7), 3)).rejects.toMatchObject({ code: "DIMENSION_MISMATCH" });
      expect((await index.search(x.subarray(0, 8), 3)).rows.length).toBe(3);
    } finally {
      index.free();
    }
  });
});
