/**
 * The spectrum of real sentence embeddings, fitted for bench/scale-page/generate.ts: Universal
 * Sentence Encoder vectors (512-d, ../shared/data/use-tfjs-energetic-ai) of all 1,109 SciFact
 * claims (../shared/data/beir-scifact/queries.jsonl), cached by bench/scifact-use.ts. We take the
 * eigenvalues of their covariance (cyclic Jacobi, float64) and the mean's share ‖μ‖² / trace, and
 * resample the falling eigenvalue curve from 512 to `dim` points (linear in log λ over the relative
 * rank i / (d − 1)), so the 384-d model keeps the shape of the real spectrum — how fast variance
 * falls from the first direction to the noise floor — and its total (normalized to 1).
 */
import { readFileSync } from "node:fs";
import { dataPath } from "./datasets.js";
import { cachedUseVectors } from "./scifact-use.js";
import type { SpectrumModel } from "./scale-page/generate.js";

export interface FittedSpectrum {
  model: SpectrumModel;
  source: { texts: number; dims: number; file: string; embed_s: number };
  /** Share of the variance in the first 10 / 50 / 100 directions, of the source and of the model. */
  topShare: { source: Record<string, number>; model: Record<string, number> };
}

/** Eigenvalues of a symmetric n × n matrix (row-major, destroyed), by cyclic Jacobi rotations. */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p]! ** 2;
      for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    }
    if (off <= 1e-22 * diag) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Float64Array.from({ length: n }, (_, i) => a[i * n + i]!).sort().reverse();
}

/** `values` (falling, positive) resampled to `m` points, linear in log over the relative rank. */
export function resampleSpectrum(values: ArrayLike<number>, m: number): number[] {
  const n = values.length;
  const floor = Math.max(values[0]! * 1e-9, Number.MIN_VALUE);
  const logs = Array.from({ length: n }, (_, i) => Math.log(Math.max(values[i]!, floor)));
  return Array.from({ length: m }, (_, j) => {
    const t = m === 1 ? 0 : (j * (n - 1)) / (m - 1);
    const i = Math.min(n - 2, Math.floor(t));
    const f = t - i;
    return Math.exp(logs[i]! * (1 - f) + logs[i + 1]! * f);
  });
}

const shares = (values: ArrayLike<number>): Record<string, number> => {
  const l = Array.from(values);
  const total = l.reduce((s, x) => s + x, 0);
  const top = (k: number): number => Math.round((l.slice(0, k).reduce((s, x) => s + x, 0) / total) * 1000) / 1000;
  return { top10: top(10), top50: top(50), top100: top(100) };
};

/** Fits the spectrum model (embedding the claims first when they are not cached: about 1–2 min). */
export async function fitSpectrum(dim: number, seed: number): Promise<FittedSpectrum> {
  const texts = readFileSync(dataPath("beir-scifact", "queries.jsonl"), "utf8").split("\n")
    .filter((l) => l.trim().length > 0).map((l) => (JSON.parse(l) as { text: string }).text);
  const use = await cachedUseVectors(texts, 1);
  const d = use.vectors[0]!.length;
  const n = use.vectors.length;
  const mean = new Float64Array(d);
  for (const v of use.vectors) for (let j = 0; j < d; j++) mean[j]! += v[j]! / n;
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (const v of use.vectors) {
    for (let j = 0; j < d; j++) c[j] = v[j]! - mean[j]!;
    for (let p = 0; p < d; p++) {
      const cp = c[p]! / (n - 1);
      for (let q = p; q < d; q++) cov[p * d + q]! += cp * c[q]!;
    }
  }
  for (let p = 0; p < d; p++) for (let q = 0; q < p; q++) cov[p * d + q] = cov[q * d + p]!;
  let trace = 0;
  for (let p = 0; p < d; p++) trace += cov[p * d + p]!;
  const source = symmetricEigenvalues(cov, d);
  const resampled = resampleSpectrum(source, dim);
  const total = resampled.reduce((s, x) => s + x, 0);
  const eigenvalues = resampled.map((x) => x / total);
  const meanShare = mean.reduce((s, x) => s + x * x, 0) / trace;
  return {
    model: { kind: "spectrum", dim, eigenvalues, meanShare, seed },
    source: { texts: n, dims: d, file: use.file, embed_s: Math.round(use.embed_s) },
    topShare: { source: shares(source), model: shares(eigenvalues) },
  };
}
