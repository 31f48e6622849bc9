/**
 * A BlobStore wrapper for crash-safety tests: it counts write steps (put, putIfAbsent, delete) and
 * makes step N fail, either as an I/O error the writer sees and survives, or as a crash after which
 * every call fails, as if the process had died. A test runs an operation once unharmed to count its
 * steps, then once per step with that step failing, and reopens the inner store each time to check
 * that the table is at the old or the new version with exactly the right rows.
 *
 * What a crash can leave behind depends on the store, and `when` / `torn` choose among them:
 *
 * | store  | put, putIfAbsent                                   | what a crash can leave       |
 * |--------|----------------------------------------------------|------------------------------|
 * | memory | one synchronous step                               | the old object or the new    |
 * | idb    | one transaction                                    | the old object or the new    |
 * | opfs   | temp file + move (direct write without `move()`)   | old or new; stray temp files |
 * | fs     | temp file + fsync + rename / link + fsync dir      | old or new; stray temp files |
 * | http   | read-only                                          | —                            |
 *
 * No shipped store tears an object, so `torn` (the first half of the bytes left under the key)
 * models stores that could (a file system without hard links, a remote store without atomic
 * writes): readers must still fail with CORRUPT_FILE rather than return wrong rows.
 */
import type { BlobInfo, BlobStore } from "../../src/storage/blob-store.js";

export type WriteOperation = "put" | "putIfAbsent" | "delete";

export interface FaultPlan {
  /** The 1-based write step that fails. Default: none (the store only counts). */
  failAt?: number;
  /**
   * `error` (default): that step throws a simulated I/O error and the store keeps working.
   * `crash`: that step throws a `SimulatedFault` of kind `crash`, and so does every call after it.
   */
  mode?: "error" | "crash";
  /**
   * `before` (default): the failing step writes nothing. `after`: it is carried out and then fails,
   * like a process that dies after the write reached storage but before it could return.
   */
  when?: "before" | "after";
  /** With `crash` and `before`, a failing `put` leaves the first half of its bytes under the key. */
  torn?: boolean;
  /** What an `error` step throws instead of a SimulatedFault, e.g. `createError("QUOTA_EXCEEDED", …)`. */
  error?: (step: WriteStep) => unknown;
}

export interface WriteStep {
  /** 1-based position among the store's write steps. */
  readonly index: number;
  readonly operation: WriteOperation;
  readonly key: string;
}

export class SimulatedFault extends Error {
  override readonly name = "SimulatedFault";

  constructor(
    readonly kind: "io" | "crash",
    readonly step: WriteStep,
  ) {
    super(`Simulated ${kind === "crash" ? "crash" : "I/O error"} at write step ${step.index} (${step.operation} "${step.key}").`);
  }
}

export function isSimulatedCrash(error: unknown): error is SimulatedFault {
  return error instanceof SimulatedFault && error.kind === "crash";
}

export class FaultInjectingStore implements BlobStore {
  readonly #inner: BlobStore;
  readonly #plan: FaultPlan;
  readonly #steps: WriteStep[] = [];
  #crash: SimulatedFault | undefined;

  constructor(inner: BlobStore, plan: FaultPlan = {}) {
    this.#inner = inner;
    this.#plan = plan;
  }

  get uri(): string {
    return this.#inner.uri;
  }

  get readOnly(): boolean {
    return this.#inner.readOnly;
  }

  get inMemory(): boolean | undefined {
    return this.#inner.inMemory;
  }

  get remote(): boolean | undefined {
    return this.#inner.remote;
  }

  /** Every write step attempted so far, including the failing one. */
  get steps(): readonly WriteStep[] {
    return this.#steps;
  }

  /** True once the planned crash happened. */
  get crashed(): boolean {
    return this.#crash !== undefined;
  }

  get(key: string): Promise<Uint8Array> {
    return this.#read(() => this.#inner.get(key));
  }

  getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return this.#read(() => this.#inner.getRange(key, offset, length));
  }

  head(key: string): Promise<BlobInfo | undefined> {
    return this.#read(() => this.#inner.head(key));
  }

  list(prefix: string): Promise<BlobInfo[]> {
    return this.#read(() => this.#inner.list(prefix));
  }

  put(key: string, data: Uint8Array): Promise<void> {
    return this.#write("put", key, () => this.#inner.put(key, data), () => this.#inner.put(key, data.slice(0, data.length >> 1)));
  }

  putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    return this.#write("putIfAbsent", key, () => this.#inner.putIfAbsent(key, data));
  }

  delete(key: string): Promise<void> {
    return this.#write("delete", key, () => this.#inner.delete(key));
  }

  /** Closes the inner store, even after a crash (the test reopens it). */
  close(): Promise<void> {
    return this.#inner.close();
  }

  async #read<T>(work: () => Promise<T>): Promise<T> {
    if (this.#crash) throw this.#crash;
    return work();
  }

  async #write<T>(operation: WriteOperation, key: string, work: () => Promise<T>, tear?: () => Promise<void>): Promise<T> {
    if (this.#crash) throw this.#crash;
    const step: WriteStep = { index: this.#steps.length + 1, operation, key };
    this.#steps.push(step);
    const plan = this.#plan;
    if (step.index !== plan.failAt) return work();
    const crash = plan.mode === "crash";
    if (plan.when === "after") await work();
    else if (crash && plan.torn && tear) await tear();
    if (crash) {
      this.#crash = new SimulatedFault("crash", step);
      throw this.#crash;
    }
    throw plan.error?.(step) ?? new SimulatedFault("io", step);
  }
}
