/**
 * A dense vector block living in WebAssembly memory.
 *
 *   ptr       rows × dim elements, row-major (f32: 4 bytes, i8/u8: 1 byte each), 16-byte aligned
 *   normsPtr  rows f32, ‖x_r‖, allocated on the first cosine scan and kept until free()
 */
import type { ElementType, VectorBlock } from "./types.js";
import type { WasmHeap } from "./memory.js";

/** What must be released; shared with the FinalizationRegistry so it sees later norms. */
interface Allocation {
  heap: WasmHeap;
  ptr: number;
  normsPtr: number;
}

function release(a: Allocation): void {
  a.heap.free(a.normsPtr);
  a.heap.free(a.ptr);
  a.ptr = 0;
  a.normsPtr = 0;
}

// Safety net for blocks dropped without free(): the heap gets the memory back eventually.
const finalizer = typeof FinalizationRegistry === "function" ? new FinalizationRegistry<Allocation>(release) : undefined;

export class Block implements VectorBlock {
  readonly rows: number;
  readonly dim: number;
  readonly element: ElementType;
  readonly byteLength: number;
  readonly #allocation: Allocation;

  constructor(heap: WasmHeap, ptr: number, rows: number, dim: number, element: ElementType, byteLength: number) {
    this.rows = rows;
    this.dim = dim;
    this.element = element;
    this.byteLength = byteLength;
    this.#allocation = { heap, ptr, normsPtr: 0 };
    finalizer?.register(this, this.#allocation, this);
  }

  get heap(): WasmHeap {
    return this.#allocation.heap;
  }

  get ptr(): number {
    return this.#allocation.ptr;
  }

  get normsPtr(): number {
    return this.#allocation.normsPtr;
  }

  set normsPtr(ptr: number) {
    this.#allocation.normsPtr = ptr;
  }

  get freed(): boolean {
    return this.#allocation.ptr === 0;
  }

  free(): void {
    if (this.freed) return;
    finalizer?.unregister(this);
    release(this.#allocation);
  }
}
