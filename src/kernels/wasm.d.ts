// Bundlers for edge runtimes (wrangler, workerd configs, esbuild with a wasm loader) hand a
// `.wasm` import to the program as an already-compiled module: workerd forbids compiling
// WebAssembly from bytes at run time.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
