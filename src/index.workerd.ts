/**
 * quiverdb for Cloudflare workerd (selected by the "workerd" export condition).
 *
 * workerd refuses to compile WebAssembly from bytes at run time, so the kernels cannot be
 * fetched like everywhere else: they are imported as wasm modules, which wrangler and workerd
 * compile at deploy/startup, and registered before any `loadKernels()` call.
 */
import simd from "../build/quiver.simd.wasm";
import scalar from "../build/quiver.scalar.wasm";
import { registerWasmModule } from "./kernels/index.js";

registerWasmModule("simd", simd);
registerWasmModule("scalar", scalar);

export * from "./index.js";
