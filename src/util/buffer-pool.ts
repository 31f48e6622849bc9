/**
 * Host buffers reused from one read to the next. A fresh buffer costs a page fault for every
 * 4 KiB it is written (the allocator hands freed pages back to the system, and on a virtual
 * machine each fault can take 10 µs or more), so a refine that reads 400 candidates' chunks into
 * new buffers spent more time faulting pages in than reading: in a Chromium worker, 400 OPFS
 * reads of 5.5 KiB took ~15 ms into new buffers and ~2 ms into reused ones. Owned by a Session,
 * which clears it on close; it keeps at most `limitBytes` of buffers nobody has taken.
 */
export class BufferPool {
  /** Buffers given back, largest first. */
  readonly #free: ArrayBuffer[] = [];
  #bytes = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes of buffers held for reuse. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * `bytes` bytes (contents undefined) to `give` back once nothing reads them. A buffer is made
   * in a power-of-two size from 64 KiB, so the sizes of later reads find it.
   */
  take(bytes: number): Uint8Array {
    let i = this.#free.length - 1;
    while (i >= 0 && this.#free[i]!.byteLength < bytes) i--;
    if (i < 0) return new Uint8Array(new ArrayBuffer(2 ** Math.ceil(Math.log2(Math.max(bytes, 65_536)))), 0, bytes);
    const [buffer] = this.#free.splice(i, 1);
    this.#bytes -= buffer!.byteLength;
    return new Uint8Array(buffer!, 0, bytes);
  }

  /** Gives back what `take` returned; the caller keeps no view of it. Past the limit the smallest buffers go. */
  give(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer;
    if (buffer.byteLength > this.limitBytes || this.#free.includes(buffer)) return;
    this.#free.push(buffer);
    this.#free.sort((a, b) => b.byteLength - a.byteLength);
    this.#bytes += buffer.byteLength;
    while (this.#bytes > this.limitBytes) this.#bytes -= this.#free.pop()!.byteLength;
  }

  /** Lets go of every buffer held. */
  clear(): void {
    this.#free.length = 0;
    this.#bytes = 0;
  }
}
