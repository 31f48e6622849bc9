// Quiver's WebAssembly kernels: flat functions over byte pointers into linear memory.
//
// One source, two builds (asconfig.json): "release" with SIMD → build/quiver.simd.wasm and
// "scalar" → build/quiver.scalar.wasm. Every routine picks its body at compile time with
// ASC_FEATURE_SIMD, so each SIMD loop has a scalar twin that the parity tests compare.
//
// Conventions: distances are "smaller is closer" (l2 = squared Euclidean, dot = 1 − q·x,
// cosine = 1 − cos, hamming = differing bits); kernels never allocate and never check their
// arguments — src/kernels validates everything before calling in.
//
// Index building and scanning (src/ann): k-means (kmeans.ts), product quantization with 8-bit
// codes (pq.ts) and its 4-bit fast scan (pq4.ts), int8 scalar quantization (sq.ts), RaBitQ's popcount scan (rabitq.ts) and the
// bottom-layer HNSW search (hnsw.ts).
// Principal components for 2-D maps of a vector space: pca.ts.

export { alloc, free } from "./memory";
export {
  l2_f32, dot_f32, cosine_f32, cosine_f32_normed, norms_f32, f32_scan,
  l2_f32_gather, dot_f32_gather, cosine_f32_normed_gather,
} from "./f32";
export {
  l2_i8, dot_i8, cosine_i8_normed, norms_i8,
  l2_i8_gather, dot_i8_gather, cosine_i8_normed_gather,
} from "./i8";
export { hamming_u8, hamming_u8_gather } from "./hamming";
export { f16_to_f32 } from "./f16";
export { topk } from "./topk";
export { l2_f32_multi, dot_f32_multi, cosine_f32_normed_multi } from "./multi";
export { kmeans_assign, kmeans_update, kmeanspp_update, kmeanspp_pick } from "./kmeans";
export { pq_encode, pq_decode, pq_lut_l2, pq_lut_dot, pq_adc, pq_adc_gather } from "./pq";
export { pq4_encode, pq4_lut, pq4_scan } from "./pq4";
export { sq_bounds, sq_encode, sq_decode, sq_norms, sq_ip, sq_ip_gather } from "./sq";
export { hnsw_search, hnsw_select } from "./hnsw";
export { pca_cov_matvec, pca_project } from "./pca";
export { rq_scan } from "./rabitq";
