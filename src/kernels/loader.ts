/**
 * Finds, compiles and instantiates the kernel WebAssembly in every runtime Quiver supports:
 *
 * - Browsers and Web Workers: `fetch` + `instantiateStreaming` of
 *   `new URL("../../build/quiver.<flavor>.wasm", import.meta.url)`. That literal pattern is what
 *   Vite and other bundlers recognise to emit the asset, and the same relative path holds from
 *   src/kernels/ and from dist/kernels/.
 * - Node ≥ 20: `fetch` cannot read file: URLs, so the file is read with node:fs/promises.
 * - Deno: reads file: URLs the same way (Deno implements node:fs), `fetch` as the fallback.
 * - Cloudflare workerd: compiling from bytes is forbidden, so the entry `index.workerd.ts`
 *   imports both .wasm files as modules and hands them to `registerWasmModule`.
 */
import { createError } from "../errors.js";
import { REQUIRED_EXPORTS, type KernelExports } from "./abi.js";
import { Kernels } from "./kernels.js";
import type { KernelFlavor } from "./types.js";

export interface LoadKernelsOptions {
  /**
   * Which build to run. Default "auto": SIMD when the engine validates a SIMD probe module,
   * else scalar. Forcing "simd" on an engine without SIMD fails with WASM_LOAD_FAILED.
   */
  flavor?: "auto" | KernelFlavor;
  /**
   * Where the WebAssembly comes from, overriding registered modules and the default URL.
   * A compiled Module, the .wasm bytes, or a URL / URL string to fetch or read. Instances loaded
   * from an explicit module are not cached: each call makes a new instance with its own memory.
   */
  module?: WebAssembly.Module | BufferSource | URL | string;
}

/**
 * (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt drop)) — validates only on
 * engines with fixed-width SIMD, the same probe wasm-feature-detect uses.
 */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

let simdSupported: boolean | undefined;

/** Whether this engine runs WebAssembly fixed-width SIMD (memoized). */
export function supportsSimd(): boolean {
  if (simdSupported === undefined) {
    try {
      simdSupported = WebAssembly.validate(SIMD_PROBE);
    } catch {
      simdSupported = false;
    }
  }
  return simdSupported;
}

const registered = new Map<KernelFlavor, WebAssembly.Module>();
const cache = new Map<KernelFlavor, Promise<Kernels>>();

/**
 * Supplies a precompiled module for a flavor; later `loadKernels` calls use it instead of
 * fetching. Required on Cloudflare workerd (see index.workerd.ts), useful wherever the host
 * application already compiled the module. Clears the cached instance of that flavor.
 */
export function registerWasmModule(flavor: KernelFlavor, module: WebAssembly.Module): void {
  if (flavor !== "simd" && flavor !== "scalar") {
    throw createError("INVALID_ARGUMENT", `Unknown kernel flavor "${String(flavor)}"; use "simd" or "scalar".`, { flavor });
  }
  if (!(module instanceof WebAssembly.Module)) {
    throw createError("INVALID_ARGUMENT", "registerWasmModule expects a compiled WebAssembly.Module.", { flavor });
  }
  registered.set(flavor, module);
  cache.delete(flavor);
}

/** Compiled modules per flavor (code, no memory), kept for the sessions that come later. */
const compiled = new Map<KernelFlavor, Promise<WebAssembly.Module>>();

/**
 * A new kernels instance with a WebAssembly memory of its own (a Session's), the caller's to drop.
 * The first call per flavor compiles the module and hands that very instance to its caller; later
 * calls instantiate the kept module. No instance (and no memory) is made only to compile.
 */
export async function newKernels(options: Pick<LoadKernelsOptions, "flavor"> = {}): Promise<Kernels> {
  const requested = options.flavor ?? "auto";
  if (requested !== "auto" && requested !== "simd" && requested !== "scalar") {
    throw createError("INVALID_ARGUMENT", `Unknown kernel flavor "${String(requested)}"; use "auto", "simd" or "scalar".`, { flavor: requested });
  }
  const flavor: KernelFlavor = requested === "auto" ? (supportsSimd() ? "simd" : "scalar") : requested;
  // The shared instance's module (loadKernels) serves too, when it was loaded first.
  const module = registered.get(flavor) ?? compiled.get(flavor) ?? cache.get(flavor)?.then((k) => k.module!);
  if (module !== undefined) return instantiateKernels(flavor, await module);
  const first = instantiateKernels(flavor, defaultUrl(flavor));
  const pending = first.then((k) => k.module!);
  compiled.set(flavor, pending);
  pending.catch(() => compiled.delete(flavor));
  return first;
}

/**
 * Loads the kernels, once per flavor: concurrent and later calls share one instance (and so one
 * WebAssembly memory). Rejects with QuiverError WASM_LOAD_FAILED saying what was tried.
 */
export function loadKernels(options: LoadKernelsOptions = {}): Promise<Kernels> {
  const requested = options.flavor ?? "auto";
  if (requested !== "auto" && requested !== "simd" && requested !== "scalar") {
    return Promise.reject(
      createError("INVALID_ARGUMENT", `Unknown kernel flavor "${String(requested)}"; use "auto", "simd" or "scalar".`, { flavor: requested }),
    );
  }
  const flavor: KernelFlavor = requested === "auto" ? (supportsSimd() ? "simd" : "scalar") : requested;
  if (options.module !== undefined) return instantiateKernels(flavor, options.module);
  let pending = cache.get(flavor);
  if (!pending) {
    pending = instantiateKernels(flavor, registered.get(flavor) ?? defaultUrl(flavor));
    cache.set(flavor, pending);
    // A failed load is not cached, so a later call (say, after registerWasmModule) can retry.
    pending.catch(() => {
      if (cache.get(flavor) === pending) cache.delete(flavor);
    });
  }
  return pending;
}

function defaultUrl(flavor: KernelFlavor): URL {
  // Two literal `new URL(…, import.meta.url)` expressions so bundlers can see both assets.
  return flavor === "simd"
    ? new URL("../../build/quiver.simd.wasm", import.meta.url)
    : new URL("../../build/quiver.scalar.wasm", import.meta.url);
}

async function instantiateKernels(flavor: KernelFlavor, source: WebAssembly.Module | BufferSource | URL | string): Promise<Kernels> {
  const tried: string[] = [];
  if (flavor === "simd" && !supportsSimd()) {
    throw createError("WASM_LOAD_FAILED", "This engine does not support WebAssembly SIMD; load the \"scalar\" flavor or \"auto\".", { flavor });
  }
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      // AssemblyScript's abort(message, file, line, column); messages are UTF-16 strings whose
      // byte length sits in the 4 bytes before the pointer.
      abort(messagePtr: number, _file: number, line: number, column: number): never {
        throw new Error(`WebAssembly abort: ${readAsString(memory, messagePtr)} at ${line}:${column}`);
      },
    },
  };
  let instance: WebAssembly.Instance;
  let module: WebAssembly.Module;
  try {
    ({ instance, module } = await instantiate(source, imports, tried));
  } catch (cause) {
    throw createError(
      "WASM_LOAD_FAILED",
      `Could not load the ${flavor} WebAssembly kernels. Tried: ${tried.join("; ") || describe(source)}. ` +
        `${cause instanceof Error ? cause.message : String(cause)}. Build them with "npm run asbuild", or pass loadKernels({ module }) / registerWasmModule().`,
      { flavor, tried },
      cause,
    );
  }
  const exports = instance.exports as unknown as KernelExports;
  const missing = REQUIRED_EXPORTS.filter((name) => !(name in instance.exports));
  if (missing.length > 0) {
    throw createError("WASM_LOAD_FAILED", `The ${flavor} kernel module lacks exports ${missing.join(", ")}; rebuild it with "npm run asbuild".`, { flavor, missing });
  }
  memory = exports.memory;
  return new Kernels(flavor, exports, module);
}

async function instantiate(source: WebAssembly.Module | BufferSource | URL | string, imports: WebAssembly.Imports, tried: string[]): Promise<WebAssembly.WebAssemblyInstantiatedSource> {
  if (source instanceof WebAssembly.Module) {
    tried.push("a precompiled WebAssembly.Module");
    return { module: source, instance: await WebAssembly.instantiate(source, imports) };
  }
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) {
    tried.push(`${source.byteLength} bytes given by the caller`);
    return WebAssembly.instantiate(source, imports);
  }
  const url = typeof source === "string" ? new URL(source, baseUrl()) : source;
  if (url.protocol === "file:") {
    const bytes = await readLocalFile(url, tried);
    return WebAssembly.instantiate(bytes as BufferSource, imports);
  }
  tried.push(`fetch ${url.href}`);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText} for ${url.href}`);
  if (typeof WebAssembly.instantiateStreaming === "function" && response.headers.get("content-type")?.startsWith("application/wasm")) {
    return WebAssembly.instantiateStreaming(response, imports);
  }
  // Servers that send another content type make instantiateStreaming reject; compile the bytes.
  return WebAssembly.instantiate(await response.arrayBuffer(), imports);
}

/** Reads a file: URL in Node and Deno (shared with shared.ts). */
export async function readLocalFile(url: URL, tried: string[]): Promise<ArrayBuffer | Uint8Array> {
  // The specifier sits in a variable so bundlers targeting browsers do not try to resolve it.
  const fsModule = "node:fs/promises";
  try {
    tried.push(`read ${url.href} with node:fs`);
    const fs = (await import(/* @vite-ignore */ fsModule)) as { readFile(path: URL): Promise<Uint8Array> };
    return await fs.readFile(url);
  } catch (fsError) {
    const deno = (globalThis as { Deno?: { readFile(path: URL): Promise<Uint8Array> } }).Deno;
    if (deno) {
      tried.push(`Deno.readFile ${url.href}`);
      return deno.readFile(url);
    }
    tried.push(`fetch ${url.href}`);
    try {
      const response = await fetch(url);
      if (response.ok) return response.arrayBuffer();
    } catch {
      // fall through to the fs error, which names the missing file
    }
    throw fsError;
  }
}

function baseUrl(): string {
  const location = (globalThis as { location?: { href: string } }).location;
  return location?.href ?? import.meta.url;
}

function describe(source: unknown): string {
  return source instanceof URL ? source.href : String(source);
}

function readAsString(memory: WebAssembly.Memory | undefined, ptr: number): string {
  if (!memory || ptr === 0) return "(no message)";
  try {
    const bytes = new Uint8Array(memory.buffer);
    const byteLength = new Uint32Array(memory.buffer, ptr - 4, 1)[0]!;
    return new TextDecoder("utf-16le").decode(bytes.subarray(ptr, ptr + byteLength));
  } catch {
    return "(unreadable message)";
  }
}
