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
  readonly length: number;
  readonly element: ElementType;
  readonly byteLength: number;
  #dim: number | undefined;
  readonly #allocation: Allocation;

  constructor(heap: WasmHeap, ptr: number, length: number, dim: number | undefined, element: ElementType, byteLength: number) {
    this.length = length;
    this.#dim = dim;
    this.element = element;
    this.byteLength = byteLength;
    this.#allocation = { heap, ptr, normsPtr: 0 };
    finalizer?.register(this, this.#allocation, this);
  }

  get dim(): number | undefined {
    return this.#dim;
  }

  get rows(): number | undefined {
    return this.#dim === undefined ? undefined : this.length / this.#dim;
  }

  /**
   * Rows for a scan with dimension `dim`, fixing the block's dimension on first use.
   * Returns undefined when `dim` does not fit the block.
   */
  bindDim(dim: number): number | undefined {
    if (this.#dim === undefined) {
      if (this.length % dim !== 0) return undefined;
      this.#dim = dim;
    }
    return this.#dim === dim ? this.length / dim : undefined;
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

  copyRowF32(row: number, out: Float32Array, at: number): void {
    const dim = this.#dim;
    if (dim === undefined || this.freed || !(row >= 0 && row < this.length / dim)) throw new Error(`copyRowF32: row ${row} is not in this block`);
    if (this.element === "f32") {
      out.set(this.heap.f32(this.ptr + row * dim * 4, dim), at);
    } else if (this.element === "i8") {
      const bytes = this.heap.bytes();
      for (let j = 0; j < dim; j++) out[at + j] = (bytes[this.ptr + row * dim + j]! << 24) >> 24;
    } else {
      throw new Error("copyRowF32: a bit-vector block has no float rows");
    }
  }

  free(): void {
    if (this.freed) return;
    finalizer?.unregister(this);
    release(this.#allocation);
  }
}
