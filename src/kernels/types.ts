/** Distance metrics; every one is "smaller is closer", as in LanceDB. */
export type Metric = "l2" | "cosine" | "dot" | "hamming";

/**
 * How a block's elements are stored in WebAssembly memory.
 * - `f32`: float32 (float16 input is widened to f32 on upload)
 * - `i8`:  int8, e.g. scalar-quantized vectors; l2/dot/cosine sums are exact
 * - `u8`:  packed bits, 8 per byte; hamming only, and `dim` counts bytes
 */
export type ElementType = "f32" | "i8" | "u8";

/** Which build of the kernels runs: WebAssembly SIMD (128-bit lanes) or its scalar twin. */
export type KernelFlavor = "simd" | "scalar";

/** Vector data accepted by `Kernels.upload`; a Uint16Array holds float16 bit patterns. */
export type BlockData = Float32Array | Int8Array | Uint8Array | Uint16Array;

/** A query vector: numbers for f32 blocks, integers in range for i8/u8 blocks. */
export type QueryVector = Float32Array | Float64Array | Int8Array | Uint8Array | ArrayLike<number>;

/**
 * A dense block of vectors copied once into WebAssembly memory: `rows × dim` elements, row-major.
 * The dimension is given to `upload` or, when left out there, fixed by the first search of the
 * block (later searches with another dimension throw DIMENSION_MISMATCH).
 * Blocks stay valid until `free()` (or until garbage collected, as a safety net); searching a
 * freed block throws INVALID_ARGUMENT.
 */
export interface VectorBlock {
  /** Number of elements (rows × dim). */
  readonly length: number;
  /** Elements per row (bytes per row for `u8` bit vectors); undefined until known. */
  readonly dim: number | undefined;
  /** Number of vectors; undefined until the dimension is known. */
  readonly rows: number | undefined;
  readonly element: ElementType;
  /** Bytes the vectors occupy in WebAssembly memory (norms for cosine are extra, rows × 4). */
  readonly byteLength: number;
  readonly freed: boolean;
  /** Copies row `row` into `out` at `at` as float32 (int8 widened). Not for bit vectors. */
  copyRowF32(row: number, out: Float32Array, at: number): void;
  free(): void;
}

/** One block to scan, optionally only the rows listed in `ids` (prefiltered search). */
export interface SearchTarget {
  block: VectorBlock;
  /** Row numbers within the block to scan, each in [0, rows); duplicates are scanned twice. */
  ids?: Int32Array;
}

/** Keep only results with lo ≤ distance < hi. Defaults: lo = −Infinity, hi = +Infinity (no bound). */
export interface DistanceRange {
  lo?: number;
  hi?: number;
}

/**
 * Up to k nearest rows, ascending by distance, ties broken by (target, row) scan order.
 * All three arrays have the same length.
 */
export interface SearchResult {
  /** Index into the `targets` array. */
  target: Int32Array;
  /** Row within that target's block (already mapped through `ids`). */
  row: Int32Array;
  distance: Float32Array;
}
