export { loadKernels, newKernels, registerWasmModule, supportsSimd, type LoadKernelsOptions } from "./loader.js";
export { Kernels } from "./kernels.js";
export type { PcaOptions, PcaResult } from "./pca.js";
export type {
  BlockData,
  DistanceRange,
  ElementType,
  KernelFlavor,
  Metric,
  QueryVector,
  SearchResult,
  SearchTarget,
  VectorBlock,
} from "./types.js";
export { attachSharedKernels, loadSharedKernels, supportsSharedMemory, type SharedKernels, type SharedKernelsOptions } from "./shared.js";
