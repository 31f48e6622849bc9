/**
 * The raw exports of build/quiver.{simd,scalar}.wasm (sources in assembly/). All pointers are
 * byte offsets into `memory`; nothing is checked on the WebAssembly side.
 *
 * Scan kernels write one f32 distance per row:
 *   dense:   (q, x, n, dim, out)            x = n × dim row-major, out = n f32
 *   gather:  (q, x, ids, m, dim, out)       ids = m i32 row numbers, out = m f32
 *   normed:  norms = n f32 (‖x_r‖) inserted after x
 *   multi:   (qs, nq, x, n, dim, out, outStride)  qs = nq × dim, out[qi·outStride + r]
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
  l2_f32_gather: Gather; dot_f32_gather: Gather; cosine_f32_gather: Gather; cosine_f32_normed_gather: GatherNormed;

  l2_i8: Dense; dot_i8: Dense; cosine_i8: Dense; cosine_i8_normed: DenseNormed; norms_i8: Norms;
  l2_i8_gather: Gather; dot_i8_gather: Gather; cosine_i8_gather: Gather; cosine_i8_normed_gather: GatherNormed;

  hamming_u8: Dense; hamming_u8_gather: Gather;

  /** src = n u16 half bits, dst = n f32. */
  f16_to_f32(src: Ptr, n: number, dst: Ptr): void;
  /** dist = n f32 → outIdx/outDist = count ≤ k, ascending by (distance, index); returns count. */
  topk(dist: Ptr, n: number, k: number, lo: number, hi: number, outIdx: Ptr, outDist: Ptr): number;

  l2_f32_multi: Multi;
  dot_f32_multi: Multi;
  cosine_f32_normed_multi(qs: Ptr, qNorms: Ptr, nq: number, x: Ptr, norms: Ptr, n: number, dim: number, out: Ptr, outStride: number): void;
}

/** Names every build must export; the loader checks them so a stale .wasm fails loudly. */
export const REQUIRED_EXPORTS = [
  "memory", "alloc", "free",
  "l2_f32", "dot_f32", "cosine_f32", "cosine_f32_normed", "norms_f32",
  "l2_f32_gather", "dot_f32_gather", "cosine_f32_gather", "cosine_f32_normed_gather",
  "l2_i8", "dot_i8", "cosine_i8", "cosine_i8_normed", "norms_i8",
  "l2_i8_gather", "dot_i8_gather", "cosine_i8_gather", "cosine_i8_normed_gather",
  "hamming_u8", "hamming_u8_gather", "f16_to_f32", "topk",
  "l2_f32_multi", "dot_f32_multi", "cosine_f32_normed_multi",
] as const satisfies readonly (keyof KernelExports)[];
