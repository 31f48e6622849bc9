/**
 * The partitions of an IVF index: which are resident in WebAssembly memory, loading the others on
 * demand from their byte ranges, and evicting least-recently-used ones past a byte budget.
 *
 * Body of partition p in the file (n_p rows), one contiguous range:
 *
 *   positions  n_p i32               position (build/add order) of each row
 *   codes      n_p × codeSize bytes  f32 vectors, SQ codes or PQ codes (see ivf-codecs.ts); 4-bit
 *                                    PQ: ⌈n_p/32⌉·16·M bytes in pq4.ts's blocked layout
 *   (pad to a multiple of 4)
 *   norms      n_p f32               only for PQ over residuals with l2: ‖x̂‖²
 *
 * Resident form: positions, codes and norms as WebAssembly blocks (the scan kernels test each row's
 * position against a query's filter bitmap; the host reads the few positions a search returns),
 * sized for `capacity` rows: rows are appended in place while they fit. A build reserves every
 * partition's final size before its first append (`reserve`), so each partition is allocated once
 * and growing partitions leave no holes in WebAssembly memory. The cache entry owns the three and
 * frees them when the partition is evicted, grown or the index freed.
 * A partition is pinned while a search scans it (so a concurrent search cannot evict it between
 * an await and the scan) and dirty once `add` changed it (it then no longer matches the file and
 * stays resident).
 */
import { createError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { ownBlock } from "../kernels/quantize.js";
import type { VectorBlock } from "../kernels/types.js";
import { storedCodeBytes, type IvfCodec, type ResidentCodes } from "./ivf-codecs.js";

/** Reads `length` bytes at absolute `offset` of the index file: partition p's body. */
export type LoadPartition = (p: number, range: { offset: number; length: number }) => Promise<Uint8Array>;

interface Partition extends ResidentCodes {
  /** Codes, norms and positions are in memory (always, for an empty partition). */
  resident: boolean;
  /** Rows the resident blocks have room for (≥ rows). */
  capacity: number;
  /** Absolute offset of the body in the file (-1: only in memory). */
  offset: number;
  pins: number;
  dirty: boolean;
  lastUsed: number;
  loading: Promise<void> | null;
}

/** Bytes of the body of a partition of `rows` rows. */
export function bodyLength(rows: number, codec: IvfCodec): number {
  const codesEnd = rows * 4 + storedCodeBytes(codec, rows);
  return codec.hasNorms ? Math.ceil(codesEnd / 4) * 4 + rows * 4 : codesEnd;
}

export class Partitions {
  readonly #kernels: Kernels;
  readonly #codec: IvfCodec;
  readonly #parts: Partition[];
  readonly #load: LoadPartition | undefined;
  readonly #verify: ((p: number, body: Uint8Array) => void) | undefined;
  readonly #cacheBytes: number;
  #residentBytes = 0;
  #clock = 0;
  /** Zero bytes the blocks of a grown partition are made from (`#grow`); `endAppends` lets them go. */
  #zeros: Uint8Array | undefined;

  /** `rows[p]` rows per partition; `offsets[p]` absolute body offsets when bodies live in a file. */
  constructor(
    kernels: Kernels, codec: IvfCodec, rows: Int32Array,
    options: { offsets?: Float64Array; load?: LoadPartition; cacheBytes?: number; verify?: (p: number, body: Uint8Array) => void } = {},
  ) {
    this.#kernels = kernels;
    this.#codec = codec;
    this.#load = options.load;
    this.#verify = options.verify;
    this.#cacheBytes = options.cacheBytes ?? Infinity;
    this.#parts = Array.from(rows, (n, p) => ({
      rows: n,
      capacity: n,
      codes: null,
      norms: null,
      positionBlock: null,
      resident: n === 0,
      offset: options.offsets ? options.offsets[p]! : -1,
      pins: 0,
      dirty: false,
      lastUsed: 0,
      loading: null,
    }));
  }

  get count(): number {
    return this.#parts.length;
  }

  /** Bytes of resident codes, norms and positions. */
  get residentBytes(): number {
    return this.#residentBytes;
  }

  rows(p: number): number {
    return this.#parts[p]!.rows;
  }

  /** Partition p's resident data; only valid while pinned (or between `add`'s pin and unpin). */
  get(p: number): ResidentCodes {
    const part = this.#parts[p]!;
    if (!part.resident) throw createError("INVALID_ARGUMENT", `Partition ${p} is not resident.`);
    part.lastUsed = ++this.#clock;
    return part;
  }

  /** The index position of row j of partition p (resident). */
  position(p: number, j: number): number {
    return this.#kernels.heap.i32(ownBlock(this.#kernels, this.get(p).positionBlock!).ptr + j * 4, 1)[0]!;
  }

  /** The index positions of partition p's rows (resident), copied out of WebAssembly memory. */
  positions(p: number): Int32Array {
    const block = this.get(p).positionBlock;
    return block ? new Int32Array(this.#view(block, this.#parts[p]!.rows * 4).slice().buffer) : new Int32Array(0);
  }

  /** Makes partitions resident and pins them. Undefined when nothing had to be loaded. */
  pin(ps: ArrayLike<number>): Promise<void> | undefined {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < ps.length; i++) {
      const part = this.#parts[ps[i]!]!;
      part.pins++;
      if (!part.resident) pending.push(this.#loadPart(ps[i]!));
    }
    return pending.length === 0 ? undefined : Promise.all(pending).then(() => this.#evict());
  }

  /**
   * Unpins partitions; those over the budget go now (a search that pinned more than the budget
   * holds could not let them go while it scanned).
   */
  unpin(ps: ArrayLike<number>): void {
    for (let i = 0; i < ps.length; i++) this.#parts[ps[i]!]!.pins--;
    this.#evict();
  }

  /** Loads with bytes the caller already has (a fully read file): no loader needed. */
  adopt(p: number, body: Uint8Array): void {
    this.#verify?.(p, body);
    this.#install(this.#parts[p]!, body);
  }

  /**
   * Makes room for `more[p]` rows still to come in each resident partition p, so that appending
   * them allocates nothing: a build that knows every row's partition sizes each one once.
   */
  reserve(more: Int32Array): void {
    for (let p = 0; p < this.#parts.length; p++) {
      const part = this.#parts[p]!;
      // A partition not in memory grows when it is appended to.
      if (part.resident && part.rows + more[p]! > part.capacity) this.#grow(part, part.rows + more[p]!);
    }
    this.endAppends();
  }

  /**
   * Appends rows to a pinned, resident partition; it becomes dirty. Rows that fit its capacity are
   * written in place (a 4-bit blocked layout takes them into its padding without being unpacked);
   * otherwise the partition first grows to exactly the rows it will hold.
   */
  append(p: number, positions: Int32Array, codes: Uint8Array, norms: Float32Array | undefined): void {
    const part = this.#parts[p]!;
    if (!part.resident) throw createError("INVALID_ARGUMENT", `Partition ${p} must be resident to grow.`);
    const old = part.rows;
    const rows = old + positions.length;
    if (rows > part.capacity) this.#grow(part, rows);
    const codec = this.#codec;
    const asBytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    this.#view(part.positionBlock!, rows * 4).set(asBytes(positions), old * 4);
    const stored = this.#view(part.codes!, storedCodeBytes(codec, part.capacity));
    if (codec.layout) codec.layout.packAt(codes, stored, old);
    else stored.set(codes, old * codec.codeSize);
    if (norms) this.#view(part.norms!, rows * 4).set(asBytes(norms), old * 4);
    part.rows = rows;
    part.dirty = true;
    part.lastUsed = ++this.#clock;
  }

  /** Lets go of the zero bytes growing partitions are made from (at most the largest partition's). */
  endAppends(): void {
    this.#zeros = undefined;
  }

  /** Partition p's body bytes (from memory, or read through the loader without caching). */
  async body(p: number): Promise<Uint8Array> {
    const part = this.#parts[p]!;
    if (part.resident) return this.#encode(part);
    return this.#fetch(p, part);
  }

  /**
   * A resident partition's body as the pieces it is made of, in order (positions, codes, the zero
   * bytes before norms, norms), as views of WebAssembly memory: no copy, but valid only until the
   * next allocation there, so read them at once. Undefined when p is not resident (see `body`).
   */
  residentPieces(p: number): Uint8Array[] | undefined {
    const part = this.#parts[p]!;
    return part.resident ? this.#pieces(part) : undefined;
  }

  free(): void {
    for (const part of this.#parts) this.#drop(part);
  }

  #pieces(part: Partition): Uint8Array[] {
    if (part.rows === 0) return [];
    const rows = part.rows;
    const pieces = [this.#view(part.positionBlock!, rows * 4), this.#view(part.codes!, storedCodeBytes(this.#codec, rows))];
    if (this.#codec.hasNorms && part.norms) {
      const codesEnd = pieces[0]!.length + pieces[1]!.length;
      pieces.push(new Uint8Array(bodyLength(rows, this.#codec) - rows * 4 - codesEnd), this.#view(part.norms, rows * 4));
    }
    return pieces;
  }

  #encode(part: Partition): Uint8Array {
    const out = new Uint8Array(bodyLength(part.rows, this.#codec));
    let at = 0;
    for (const piece of this.#pieces(part)) {
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** The first `bytes` bytes of a block, as a view of WebAssembly memory (valid until it next grows). */
  #view(block: VectorBlock, bytes: number): Uint8Array {
    const { ptr } = ownBlock(this.#kernels, block);
    return this.#kernels.heap.bytes().subarray(ptr, ptr + bytes);
  }

  /**
   * New blocks for `capacity` rows, the partition's rows copied into them and zeros after (the
   * 4-bit layout ORs appended codes in); the old blocks are freed.
   */
  #grow(part: Partition, capacity: number): void {
    const kernels = this.#kernels;
    const codec = this.#codec;
    const codeBytes = storedCodeBytes(codec, capacity);
    if ((this.#zeros?.byteLength ?? 0) < Math.max(codeBytes, capacity * 4)) this.#zeros = new Uint8Array(Math.max(codeBytes, capacity * 4));
    const zeros = this.#zeros!;
    const made: VectorBlock[] = [];
    try {
      made.push(kernels.upload(zeros.subarray(0, capacity * 4)));
      made.push(codec.upload(kernels, zeros.subarray(0, codeBytes)));
      if (codec.hasNorms) made.push(kernels.upload(new Float32Array(zeros.buffer, 0, capacity), 1));
    } catch (error) {
      for (const block of made) block.free();
      throw error;
    }
    const [positionBlock, codes, norms] = made;
    const rows = part.rows;
    const copy = (from: VectorBlock | null | undefined, to: VectorBlock, bytes: number): void => {
      if (from) this.#view(to, bytes).set(this.#view(from, bytes));
    };
    copy(part.positionBlock, positionBlock!, rows * 4);
    copy(part.codes, codes!, storedCodeBytes(codec, rows));
    if (norms) copy(part.norms, norms, rows * 4);
    this.#drop(part);
    part.resident = true;
    part.capacity = capacity;
    part.positionBlock = positionBlock!;
    part.codes = codes!;
    part.norms = norms ?? null;
    this.#residentBytes += this.#sizeOf(part);
  }

  async #fetch(p: number, part: Partition): Promise<Uint8Array> {
    if (!this.#load || part.offset < 0) {
      throw createError("INVALID_ARGUMENT", `Partition ${p} is not in memory and the index was opened without loadPartition.`, { partition: p });
    }
    const length = bodyLength(part.rows, this.#codec);
    const bytes = await this.#load(p, { offset: part.offset, length });
    if (!(bytes instanceof Uint8Array) || bytes.byteLength < length) {
      throw createError("CORRUPT_FILE", `loadPartition(${p}) returned ${bytes?.byteLength} bytes; the partition needs ${length}.`, { partition: p });
    }
    // Every range read is checked against the body's checksum in the (checked) head.
    this.#verify?.(p, bytes.subarray(0, length));
    return bytes;
  }

  #loadPart(p: number): Promise<void> {
    const part = this.#parts[p]!;
    part.loading ??= this.#fetch(p, part)
      .then((bytes) => {
        if (!part.resident) this.#install(part, bytes);
      })
      .finally(() => {
        part.loading = null;
      });
    return part.loading;
  }

  #install(part: Partition, body: Uint8Array): void {
    const rows = part.rows;
    const length = bodyLength(rows, this.#codec);
    if (body.byteLength < length) throw createError("CORRUPT_FILE", `A partition of ${rows} rows needs ${length} bytes, got ${body.byteLength}.`);
    const positions = body.subarray(0, rows * 4);
    const codes = body.subarray(rows * 4, rows * 4 + storedCodeBytes(this.#codec, rows));
    const norms = this.#codec.hasNorms ? new Float32Array(body.slice(length - rows * 4, length).buffer) : undefined;
    this.#residentFrom(part, positions, codes, norms);
  }

  #residentFrom(part: Partition, positions: Uint8Array, codes: Uint8Array, norms: Float32Array | undefined): void {
    part.resident = true;
    part.capacity = part.rows;
    part.codes = part.rows > 0 ? this.#codec.upload(this.#kernels, codes) : null;
    part.norms = norms && part.rows > 0 ? this.#kernels.upload(norms, 1) : null;
    part.positionBlock = part.rows > 0 ? this.#kernels.upload(positions) : null;
    part.lastUsed = ++this.#clock;
    this.#residentBytes += this.#sizeOf(part);
  }

  #sizeOf(part: Partition): number {
    return part.capacity * (4 + (this.#codec.hasNorms ? 4 : 0)) + storedCodeBytes(this.#codec, part.capacity);
  }

  #drop(part: Partition): void {
    if (!part.resident) return;
    part.codes?.free();
    part.norms?.free();
    part.positionBlock?.free();
    this.#residentBytes -= this.#sizeOf(part);
    part.codes = null;
    part.norms = null;
    part.positionBlock = null;
    part.resident = part.rows === 0;
    part.capacity = 0;
  }

  /** Evicts least-recently-used partitions that can be read again until under the budget. */
  #evict(): void {
    if (this.#residentBytes <= this.#cacheBytes) return;
    const candidates = this.#parts.filter((q) => q.resident && q.rows > 0 && q.pins === 0 && !q.dirty && q.offset >= 0);
    candidates.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const part of candidates) {
      if (this.#residentBytes <= this.#cacheBytes) break;
      this.#drop(part);
    }
  }
}

