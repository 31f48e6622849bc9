/**
 * The PCA kernels (assembly/pca.ts) in the SIMD and scalar builds: covariance × vector and the
 * projection against a plain-TS reference at the awkward dims, then `Kernels.pca` recovering the
 * known axes of synthetic data whose variances are set per direction, and its typed errors.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { F32_DIMS, callRaw, randomF32, rng } from "./kernels-helpers.js";

const N = 37;

/** Σ_r ((x_r − mean)·v)(x_r − mean) in float64. */
function covMatvec(x: Float32Array, dim: number, mean: Float32Array, v: Float32Array): Float64Array {
  const out = new Float64Array(dim);
  for (let r = 0; r < x.length / dim; r++) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += (x[r * dim + i]! - mean[i]!) * v[i]!;
    for (let i = 0; i < dim; i++) out[i]! += s * (x[r * dim + i]! - mean[i]!);
  }
  return out;
}

function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance * scale)) expect.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

describe.each(["simd", "scalar"] as const)("%s PCA kernels", (flavor) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels({ flavor });
  });

  it.each(F32_DIMS)("covariance × vector and projection match the reference, dim %i", (dim) => {
    const x = randomF32(N * dim, 7 * dim);
    const mean = randomF32(dim, 9 * dim).map((m) => m * 0.1);
    const v = randomF32(dim, 5 * dim);
    const got = callRaw(k, "pca_cov_matvec", [x, N, dim, mean, v, "out"], dim);
    expectNear(got, covMatvec(x, dim, mean, v), 1e-4, `dim ${dim} Cov·v`);

    const c = randomF32(2 * dim, 3 * dim);
    const coords = callRaw(k, "pca_project", [x, N, dim, mean, c, 2, "out"], N * 2);
    const want = new Float64Array(N * 2);
    for (let r = 0; r < N; r++) for (let j = 0; j < 2; j++) for (let i = 0; i < dim; i++) want[r * 2 + j]! += (x[r * dim + i]! - mean[i]!) * c[j * dim + i]!;
    expectNear(coords, want, 1e-4, `dim ${dim} coordinates`);
  });

  it("finds the directions of largest variance, in order, and the rows' coordinates", async () => {
    const dim = 17;
    const n = 2000;
    const random = rng(42);
    // Orthonormal axes a, b (a random rotation of e0, e1); rows = 5·g·a + 2·g'·b + 0.3·noise + offset.
    const a = randomF32(dim, 1);
    const b = randomF32(dim, 2);
    const unit = (v: Float32Array) => { const s = Math.hypot(...v); return v.map((x) => x / s); };
    const ua = unit(a);
    const dotAB = ua.reduce((s, x, i) => s + x * b[i]!, 0);
    const ub = unit(b.map((x, i) => x - dotAB * ua[i]!));
    const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const rows = new Float32Array(n * dim);
    const truth = new Float64Array(n * 2);
    for (let r = 0; r < n; r++) {
      const g1 = 5 * gauss();
      const g2 = 2 * gauss();
      truth[r * 2] = g1;
      truth[r * 2 + 1] = g2;
      for (let i = 0; i < dim; i++) rows[r * dim + i] = g1 * ua[i]! + g2 * ub[i]! + 0.3 * gauss() + 10;
    }
    const before = k.heap.allocatedBytes;
    const { components, variances, mean, coordinates } = await k.pca(rows, dim, { components: 2 });
    expect(k.heap.allocatedBytes).toBe(before);
    const cos = (u: Float32Array, v: Float32Array) => Math.abs(u.reduce((s, x, i) => s + x * v[i]!, 0));
    expect(cos(components.subarray(0, dim), ua)).toBeGreaterThan(0.995);
    expect(cos(components.subarray(dim), ub)).toBeGreaterThan(0.99);
    expect(variances[0]).toBeGreaterThan(20);
    expect(variances[0]).toBeLessThan(30);
    expect(variances[1]).toBeGreaterThan(3);
    expect(variances[1]).toBeLessThan(5);
    for (const m of mean) expect(m).toBeCloseTo(10, 0);
    // Coordinates follow the hidden factors up to sign.
    let agree = 0;
    for (let r = 0; r < n; r++) agree += coordinates[r * 2]! * truth[r * 2]!;
    expect(Math.abs(agree / n)).toBeGreaterThan(20);
  });

  it("rejects bad input with typed errors", async () => {
    await expect(k.pca(new Float32Array(10), 3)).rejects.toMatchObject({ code: "DIMENSION_MISMATCH" });
    await expect(k.pca(new Float32Array(6), 3, { components: 4 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(k.pca(Float32Array.of(1, NaN, 2), 3)).rejects.toMatchObject({ code: "INVALID_VECTOR" });
    await expect(k.pca(new Float32Array(0), 3)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("a rank-1 set still gives unit, orthogonal components", async () => {
    const rows = new Float32Array(20 * 4);
    for (let r = 0; r < 20; r++) rows.set([r, 2 * r, 0, 0], r * 4);
    const { components } = await k.pca(rows, 4, { components: 2 });
    const c0 = components.subarray(0, 4);
    const c1 = components.subarray(4);
    expect(Math.hypot(...c1)).toBeCloseTo(1, 5);
    expect(Math.abs(c0.reduce((s, x, i) => s + x * c1[i]!, 0))).toBeLessThan(1e-5);
  });
});
