/**
 * quiverdb for Cloudflare workerd (selected by the "workerd" export condition).
 *
 * workerd refuses to compile WebAssembly from bytes at run time, so the kernels cannot be
 * fetched like everywhere else: they are imported as wasm modules, which wrangler and workerd
 * compile at deploy/startup, and registered before any `loadKernels()` call.
 */
import simd from "../build/quiver.simd.wasm";
import scalar from "../build/quiver.scalar.wasm";
import { loadKernels as loadRegistered, registerWasmModule, type Kernels, type LoadKernelsOptions } from "./kernels/index.js";

registerWasmModule("simd", simd);
registerWasmModule("scalar", scalar);

export * from "./index.js";

/**
 * `loadKernels` from this entry. Defined here, not re-exported, so that bundlers honouring
 * package.json `"sideEffects": false` keep this module — and the registration above — whenever
 * it is imported. (Listing this file under "sideEffects" in package.json covers the other exports.)
 */
export function loadKernels(options?: LoadKernelsOptions): Promise<Kernels> {
  return loadRegistered(options);
}
