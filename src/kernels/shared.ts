/**
 * The kernels over one shared WebAssembly memory, for parallel scans (src/pool/pool.ts).
 *
 * build/quiver.shared.wasm is the SIMD build compiled with the threads feature, an *imported*
 * shared memory and a 4 GiB maximum (asconfig.json "shared"). Every thread instantiates the same
 * compiled module against the same `WebAssembly.Memory({ shared: true })`:
 *
 *   coordinating thread    loadSharedKernels() → Kernels (uploads, allocates, frees)
 *   scan worker i          attachSharedKernels(module, memory) → raw exports (scans only)
 *
 * Only the coordinating thread may allocate: the TLSF allocator keeps its state in a per-instance
 * global plus a header in memory, and two instances allocating would corrupt each other. Workers
 * therefore get every buffer they write (distances, top-k output) from the coordinator.
 * Instantiating in a worker re-applies the module's data segments (static data below the heap
 * base, identical bytes), which never touches the heap.
 *
 * Same code as the "simd" flavor, so results equal `loadKernels({ flavor: "simd" })` bit for bit.
 */
import { createError } from "../errors.js";
import { REQUIRED_EXPORTS, type KernelExports } from "./abi.js";
import { Kernels } from "./kernels.js";
import { readLocalFile, supportsSimd } from "./loader.js";

const PAGE = 65536;
/** The shared build declares a 4 GiB maximum; a memory may reserve less (see maximumBytes). */
const MAX_PAGES = 65536;

export interface SharedKernelsOptions {
  /** The shared-memory build: a compiled Module, its bytes, or a URL. Default build/quiver.shared.wasm. */
  module?: WebAssembly.Module | BufferSource | URL | string;
  /**
   * Most bytes the shared memory may grow to. Default 1 GiB. A shared memory reserves its maximum
   * address space up front (it can never move), so a larger value costs virtual memory, not RAM;
   * some 32-bit or memory-capped browsers refuse large reservations. Limit: 4 GiB.
   */
  maximumBytes?: number;
}

export interface SharedKernels {
  /** The coordinating thread's kernels; upload blocks here, then scan them from any worker. */
  kernels: Kernels;
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
}

/**
 * Whether this thread can run the shared build: SharedArrayBuffer exposed (in browsers only when
 * `crossOriginIsolated`), WebAssembly SIMD, and a shared memory that can be created.
 */
export function supportsSharedMemory(): boolean {
  if (typeof SharedArrayBuffer !== "function" || !supportsSimd()) return false;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Compiles the shared build and instantiates it on a new shared memory, for the coordinating thread. */
export async function loadSharedKernels(options: SharedKernelsOptions = {}): Promise<SharedKernels> {
  const maximumBytes = options.maximumBytes ?? 2 ** 30;
  if (!Number.isSafeInteger(maximumBytes) || maximumBytes < 16 * PAGE || maximumBytes > MAX_PAGES * PAGE) {
    throw createError("INVALID_ARGUMENT", `maximumBytes must be an integer from 1 MiB to 4 GiB, got ${maximumBytes}.`, { maximumBytes });
  }
  if (!supportsSharedMemory()) {
    throw createError(
      "UNSUPPORTED",
      "Shared WebAssembly memory is not available here (it needs SharedArrayBuffer — in browsers a crossOriginIsolated page, served with COOP/COEP headers — and WebAssembly SIMD). Use the message-passing transport.",
    );
  }
  const module = await compileShared(options.module ?? new URL("../../build/quiver.shared.wasm", import.meta.url));
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: 16, maximum: Math.floor(maximumBytes / PAGE), shared: true });
  } catch (cause) {
    throw createError("OUT_OF_MEMORY", `Could not reserve a shared WebAssembly memory of up to ${maximumBytes} bytes; pass a smaller maximumBytes.`, { maximumBytes }, cause);
  }
  const exports = await attachSharedKernels(module, memory);
  return { kernels: new Kernels("simd", exports), memory, module };
}

/** Instantiates the shared build on an existing shared memory (in a scan worker). Do not allocate through it. */
export async function attachSharedKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const imports = {
    env: {
      memory,
      abort(_message: number, _file: number, line: number, column: number): never {
        throw new Error(`WebAssembly abort at ${line}:${column}`);
      },
    },
  };
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, imports);
  } catch (cause) {
    throw createError("WASM_LOAD_FAILED", `Could not instantiate the shared-memory kernels: ${cause instanceof Error ? cause.message : String(cause)}.`, {}, cause);
  }
  const missing = REQUIRED_EXPORTS.filter((name) => !(name in instance.exports));
  if (missing.length > 0) {
    throw createError("WASM_LOAD_FAILED", `The shared kernel module lacks exports ${missing.join(", ")}; rebuild it with "npm run asbuild".`, { missing });
  }
  return instance.exports as unknown as KernelExports;
}

async function compileShared(source: WebAssembly.Module | BufferSource | URL | string): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  const tried: string[] = [];
  try {
    if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return await WebAssembly.compile(source);
    const location = (globalThis as { location?: { href: string } }).location;
    const url = typeof source === "string" ? new URL(source, location?.href ?? import.meta.url) : source;
    if (url.protocol === "file:") return await WebAssembly.compile((await readLocalFile(url, tried)) as BufferSource);
    tried.push(`fetch ${url.href}`);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText} for ${url.href}`);
    return await WebAssembly.compile(await response.arrayBuffer());
  } catch (cause) {
    throw createError(
      "WASM_LOAD_FAILED",
      `Could not load the shared-memory WebAssembly kernels (tried: ${tried.join("; ") || "the given source"}): ${cause instanceof Error ? cause.message : String(cause)}. Build them with "npm run asbuild".`,
      { tried },
      cause,
    );
  }
}
