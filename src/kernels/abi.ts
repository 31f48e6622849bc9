/**
 * The raw exports of build/quiver.{simd,scalar}.wasm (sources in assembly/). All pointers are
 * byte offsets into `memory`; nothing is checked on the WebAssembly side.
 *
 * Scan kernels write one f32 distance per row:
 *   dense:   (q, x, n, dim, out)            x = n × dim row-major, out = n f32
 *   gather:  (q, x, ids, m, dim, out)       ids = m i32 row numbers, out = m f32
 *   normed:  norms = n f32 (‖x_r‖) inserted after x
 *   multi:   (qs, nq, x, n, dim, out, outStride)  qs = nq × dim, out[qi·outStride + r]
 *
 * Index kernels (shapes in assembly/kmeans.ts, pq.ts, sq.ts):
 *   k-means: x = n rows of dim f32 at row stride `stride` floats; c = k × dim; metric 0 = l2, 1 = dot
 *   PQ:      codebook = M × 256 × dsub f32; codes = n × M u8; lut = M × 256 f32
 *   SQ:      codes = n × dim i8 standing for offset + scale ∘ code; offset, scale, invScale = dim f32;
 *            qi = dim i16 (the query rounded once, see assembly/sq.ts)
 *   RaBitQ:  planes = 4 × bytes u8 (query bit planes); codes = n × (bytes + 8) u8 (bits, ‖r‖, ⟨ō, o'⟩)
 *   masks:   positions = n i32 (each row's index position), allowed = bitmap over positions (bit p & 7
 *            of byte p >> 3) or 0 for every row (assembly/mask.ts)
 *   HNSW:    links = n × stride i32 ([count, neighbours…] per node); visited = n u16; heaps of (f32, i32)
 */
type Ptr = number;
type Dense = (q: Ptr, x: Ptr, n: number, dim: number, out: Ptr) => void;
type Gather = (q: Ptr, x: Ptr, ids: Ptr, m: number, dim: number, out: Ptr) => void;
type DenseNormed = (q: Ptr, x: Ptr, norms: Ptr, n: number, dim: number, out: Ptr) => void;
type GatherNormed = (q: Ptr, x: Ptr, norms: Ptr, ids: Ptr, m: number, dim: number, out: Ptr) => void;
type Norms = (x: Ptr, n: number, dim: number, out: Ptr) => void;
type Multi = (qs: Ptr, nq: number, x: Ptr, n: number, dim: number, out: Ptr, outStride: number) => void;

export interface KernelExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): Ptr;
  free(ptr: Ptr): void;

  l2_f32: Dense; dot_f32: Dense; cosine_f32: Dense; cosine_f32_normed: DenseNormed; norms_f32: Norms;
  /** l2 (metric 0) or 1 − q·x (metric 1) of the rows `allowed` lets through, NaN for the others; returns the rows scored. */
  f32_scan(q: Ptr, x: Ptr, n: number, dim: number, metric: number, positions: Ptr, allowed: Ptr, out: Ptr): number;
  l2_f32_gather: Gather; dot_f32_gather: Gather; cosine_f32_normed_gather: GatherNormed;

  l2_i8: Dense; dot_i8: Dense; cosine_i8_normed: DenseNormed; norms_i8: Norms;
  l2_i8_gather: Gather; dot_i8_gather: Gather; cosine_i8_normed_gather: GatherNormed;

  hamming_u8: Dense; hamming_u8_gather: Gather;

  /** src = n u16 half bits, dst = n f32. */
  f16_to_f32(src: Ptr, n: number, dst: Ptr): void;
  /** dist = n f32 → outIdx/outDist = count ≤ k, ascending by (distance, index); returns count. */
  topk(dist: Ptr, n: number, k: number, lo: number, hi: number, outIdx: Ptr, outDist: Ptr): number;

  l2_f32_multi: Multi;
  dot_f32_multi: Multi;
  cosine_f32_normed_multi(qs: Ptr, qNorms: Ptr, nq: number, x: Ptr, norms: Ptr, n: number, dim: number, out: Ptr, outStride: number): void;

  /** assign = n i32 nearest centroid, dist = n f32 its distance; scratch = k·(dim + 1) f32. */
  kmeans_assign(x: Ptr, n: number, dim: number, stride: number, c: Ptr, k: number, metric: number, scratch: Ptr, assign: Ptr, dist: Ptr): void;
  /** sums (k × dim f32) += rows by assignment, counts (k i32) += 1. */
  kmeans_update(x: Ptr, n: number, dim: number, stride: number, assign: Ptr, sums: Ptr, counts: Ptr): void;
  /** mind[r] = min(mind[r], d(x_r, c)); returns Σ mind. */
  kmeanspp_update(x: Ptr, n: number, dim: number, stride: number, c: Ptr, metric: number, mind: Ptr): number;
  /** First r whose prefix sum of mind exceeds target. */
  kmeanspp_pick(mind: Ptr, n: number, target: number): number;

  /** codes = n × M u8; scratch = M × 256 × (dsub + 1) f32. */
  pq_encode(x: Ptr, n: number, dim: number, M: number, codebook: Ptr, scratch: Ptr, codes: Ptr): void;
  pq_decode(codes: Ptr, n: number, M: number, dsub: number, codebook: Ptr, out: Ptr): void;
  pq_lut_l2(q: Ptr, M: number, dsub: number, codebook: Ptr, lut: Ptr): void;
  pq_lut_dot(q: Ptr, M: number, dsub: number, codebook: Ptr, w: number, lut: Ptr): void;
  /** out[r] = bias + norms[r] + Σ_m lut[m·256 + codes[r·M + m]] (norms = 0: no norms term) for allowed rows, NaN for the others; returns the rows scored. */
  pq_adc(lut: Ptr, codes: Ptr, n: number, M: number, bias: number, norms: Ptr, positions: Ptr, allowed: Ptr, out: Ptr): number;
  pq_adc_gather(lut: Ptr, codes: Ptr, ids: Ptr, m: number, M: number, bias: number, norms: Ptr, out: Ptr): void;

  /** 4-bit PQ (assembly/pq4.ts): codes = n × M u8 (0–15); scratch = M × 16 × (dsub + 1) f32. */
  pq4_encode(x: Ptr, n: number, dim: number, M: number, codebook: Ptr, scratch: Ptr, codes: Ptr): void;
  /** lut = M × 16 f32 (w = 0: l2, else w·dot), qlut = M × 16 u8, consts = [scale, Σ min] f32. */
  pq4_lut(q: Ptr, M: number, dsub: number, codebook: Ptr, w: number, lut: Ptr, qlut: Ptr, consts: Ptr): void;
  /** blocked = ⌈n/32⌉ × M × 16 u8; out (room for ⌈n/32⌉·32 f32)[r] = offset + scale·Σ qlut + norms[r] for allowed rows, NaN for the others; returns the rows scored. */
  pq4_scan(qlut: Ptr, blocked: Ptr, n: number, M: number, offset: number, scale: number, norms: Ptr, positions: Ptr, allowed: Ptr, out: Ptr): number;

  sq_bounds(x: Ptr, n: number, dim: number, lo: Ptr, hi: Ptr): void;
  sq_encode(x: Ptr, n: number, dim: number, offset: Ptr, invScale: Ptr, codes: Ptr): void;
  sq_decode(codes: Ptr, n: number, dim: number, offset: Ptr, scale: Ptr, out: Ptr): void;
  /** out[r] = ‖scale ∘ c_r‖² */
  sq_norms(codes: Ptr, n: number, dim: number, scale: Ptr, out: Ptr): void;
  /** qi = dim i16: out[r] = bias + w·Σ qi_i·c_ri + norms[r] (norms = 0: no norms term) for allowed rows, NaN for the others; returns the rows scored. */
  sq_ip(qi: Ptr, codes: Ptr, n: number, dim: number, w: number, bias: number, norms: Ptr, positions: Ptr, allowed: Ptr, out: Ptr): number;
  sq_ip_gather(qi: Ptr, codes: Ptr, ids: Ptr, m: number, dim: number, w: number, bias: number, norms: Ptr, out: Ptr): void;

  /** Best-first search of one HNSW layer (assembly/hnsw.ts; offsets 0: the bottom layer, node-major); returns the result count. */
  hnsw_search(
    links: Ptr, stride: number, offsets: Ptr, layer: number, visited: Ptr, epoch: number, allowed: Ptr,
    kind: number, metric: number, rows: Ptr, dim: number, M: number, q: Ptr, aux: Ptr, w: number, bias: number,
    ep: number, epDist: number, ef: number, cand: Ptr, res: Ptr, batch: Ptr, outIds: Ptr, outDist: Ptr,
  ): number;

  /** hnswlib's neighbour heuristic over f32 rows (metric 0 l2, 1 dot): ids/dists ascending → out; tmp = max f32; returns the count kept. */
  hnsw_select(rows: Ptr, dim: number, metric: number, ids: Ptr, dists: Ptr, count: number, max: number, out: Ptr, tmp: Ptr): number;

  /** out = Σ_r ((x_r − mean)·v)(x_r − mean), dim f32 (assembly/pca.ts). */
  pca_cov_matvec(x: Ptr, n: number, dim: number, mean: Ptr, v: Ptr, out: Ptr): void;
  /** out = n × k f32: (x_r − mean)·c_j for components c = k × dim. */
  pca_project(x: Ptr, n: number, dim: number, mean: Ptr, c: Ptr, k: number, out: Ptr): void;

  /**
   * RaBitQ estimates (assembly/rabitq.ts): planes = 4 × bytes u8, codes = n × (bytes + 8) u8;
   * out = n f32 (NaN for rows `allowed` masks); spread = n f32 (each estimate's error bound) or 0.
   * Returns the rows scored.
   */
  rq_scan(planes: Ptr, codes: Ptr, n: number, bytes: number, cg: number, c0: number, cS: number, cP: number, c1: number, ce: number, positions: Ptr, allowed: Ptr, out: Ptr, spread: Ptr): number;
}

/** Names every build must export; the loader checks them so a stale .wasm fails loudly. */
export const REQUIRED_EXPORTS = [
  "memory", "alloc", "free",
  "l2_f32", "dot_f32", "cosine_f32", "cosine_f32_normed", "norms_f32", "f32_scan",
  "l2_f32_gather", "dot_f32_gather", "cosine_f32_normed_gather",
  "l2_i8", "dot_i8", "cosine_i8_normed", "norms_i8",
  "l2_i8_gather", "dot_i8_gather", "cosine_i8_normed_gather",
  "hamming_u8", "hamming_u8_gather", "f16_to_f32", "topk",
  "l2_f32_multi", "dot_f32_multi", "cosine_f32_normed_multi",
  "kmeans_assign", "kmeans_update", "kmeanspp_update", "kmeanspp_pick",
  "pq_encode", "pq_decode", "pq_lut_l2", "pq_lut_dot", "pq_adc", "pq_adc_gather",
  "pq4_encode", "pq4_lut", "pq4_scan",
  "sq_bounds", "sq_encode", "sq_decode", "sq_norms", "sq_ip", "sq_ip_gather",
  "hnsw_search", "hnsw_select", "pca_cov_matvec", "pca_project", "rq_scan",
] as const satisfies readonly (keyof KernelExports)[];
