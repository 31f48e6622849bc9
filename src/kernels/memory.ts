/**
 * The host's handle on WebAssembly linear memory: allocation with errors mapped to QuiverError,
 * typed views that are rebuilt after memory grows, and reusable scratch buffers.
 *
 * Why views are never cached by callers: `alloc` may run `memory.grow`, which detaches the old
 * ArrayBuffer and leaves every view over it at length 0. Take views from `WasmHeap` right before
 * use, after the last `alloc` of the operation.
 */
import { createError } from "../errors.js";
import type { KernelExports } from "./abi.js";

export class WasmHeap {
  readonly #wasm: KernelExports;
  /** Bytes of each live allocation (the allocator does not say), for `allocatedBytes`. */
  readonly #sizes = new Map<number, number>();
  #allocated = 0;
  /** Most bytes `alloc` may hand out in all (an owner's budget); Infinity: up to what memory can grow to. */
  limitBytes = Infinity;
  #buffer: ArrayBuffer | null = null;
  #u8 = new Uint8Array(0);

  constructor(wasm: KernelExports) {
    this.#wasm = wasm;
  }

  /** Bytes of linear memory currently reserved (grows, never shrinks). */
  get size(): number {
    return this.#wasm.memory.buffer.byteLength;
  }

  /** Bytes currently allocated through this heap (freed blocks excluded). */
  get allocatedBytes(): number {
    return this.#allocated;
  }

  /** 16-byte-aligned block of `bytes` bytes; OUT_OF_MEMORY when memory cannot grow. */
  alloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw createError("INVALID_ARGUMENT", `Cannot allocate ${bytes} bytes of WebAssembly memory.`, { bytes });
    }
    if (this.#allocated + Math.max(bytes, 1) > this.limitBytes) {
      throw createError(
        "OUT_OF_MEMORY",
        `Allocating ${bytes} bytes of WebAssembly memory would pass the limit of ${this.limitBytes} bytes (${this.#allocated} in use). Raise connect({ wasmMemoryLimit }), lower cacheBytes, or close tables you no longer use.`,
        { bytes, memoryBytes: this.#allocated, limitBytes: this.limitBytes },
      );
    }
    let ptr = 0;
    try {
      // Above 2^32 the u32 parameter would wrap; treat it as the failure it would become.
      if (bytes >= 2 ** 32) throw new RangeError("larger than the 4 GiB wasm32 address space");
      ptr = this.#wasm.alloc(Math.max(bytes, 1)) >>> 0;
    } catch (cause) {
      const used = this.size;
      throw createError(
        "OUT_OF_MEMORY",
        `WebAssembly memory could not grow to hold ${bytes} more bytes (${used} bytes in use; one allocation is limited to 1 GiB and all of them to 4 GiB). Free unused blocks or split the data into smaller blocks.`,
        { bytes, memoryBytes: used },
        cause,
      );
    }
    const size = Math.max(bytes, 1);
    this.#sizes.set(ptr, size);
    this.#allocated += size;
    return ptr;
  }

  free(ptr: number): void {
    if (ptr === 0) return;
    this.#allocated -= this.#sizes.get(ptr) ?? 0;
    this.#sizes.delete(ptr);
    this.#wasm.free(ptr);
  }

  /** The whole memory as bytes, rebuilt if memory grew since the last call. */
  bytes(): Uint8Array {
    const buffer = this.#wasm.memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#u8 = new Uint8Array(buffer);
    }
    return this.#u8;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.bytes().buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.bytes().buffer, ptr, length);
  }

  /** Copies a typed array's bytes to `ptr`. */
  write(ptr: number, src: ArrayBufferView): void {
    this.bytes().set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), ptr);
  }
}

/** A buffer reused across calls, grown (never shrunk) when a call needs more. */
export class Scratch {
  readonly #heap: WasmHeap;
  #ptr = 0;
  #capacity = 0;

  constructor(heap: WasmHeap) {
    this.#heap = heap;
  }

  /** Pointer to at least `bytes` bytes. Contents are not preserved when it grows. */
  reserve(bytes: number): number {
    if (bytes > this.#capacity) {
      const capacity = Math.max(bytes, Math.ceil(this.#capacity * 1.5), 256);
      this.#heap.free(this.#ptr);
      this.#ptr = 0;
      this.#capacity = 0;
      this.#ptr = this.#heap.alloc(capacity);
      this.#capacity = capacity;
    }
    return this.#ptr;
  }

  release(): void {
    this.#heap.free(this.#ptr);
    this.#ptr = 0;
    this.#capacity = 0;
  }
}
