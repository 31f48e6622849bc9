/**
 * Index-build work over message passing (no shared memory: a page that is not cross-origin
 * isolated). Rows go to the workers once and stay there:
 *
 *   hold(rows)      rows split into one contiguous part per worker; each part copied once and
 *                   transferred (the worker uploads it into its own WebAssembly memory)
 *   assign(c)       every worker: kmeans_assign of its part against the centroids c (the only
 *                   bytes sent per k-means iteration) → its part's assignments and distances
 *   pqEncode / sqEncode   the same over the codebook (16 or 256 centroids per sub-space) / the SQ
 *                   ranges → its part's codes
 *   pqEncodeResidual  pqEncode of x_r − c_{assign_r}, formed in the worker: sent its part's
 *                   assignments and the centroids, never residual rows
 *   release()       the workers drop their parts
 *
 * Each row's output depends on that row alone and the workers run the coordinator's kernel build
 * (flavor), so the outputs laid back in row order are the single-thread ones bit for bit.
 *
 * `kmeansRuns` (both transports) hands whole k-means runs — a PQ sub-space each — to whichever
 * worker is free; a run is src/ann/kmeans.ts on one thread, so its centroids are too.
 */
import { createError } from "../errors.js";
import type { HeldRows, KMeansRun } from "../kernels/parallel.js";
import type { BlockUpload, BuildJob, BuildOutput, PoolReply, UnnumberedRequest } from "./protocol.js";

/** A pool worker as the build code needs it. */
export interface BuildWorker {
  readonly index: number;
  request(message: UnnumberedRequest, transfer?: Transferable[]): Promise<PoolReply>;
  post(message: { type: "drop"; handles: number[] }): void;
}

/** What crossed to and from the workers for builds: evidence that (and how) the message path ran. */
export interface BuildTraffic {
  /** build requests sent */
  requests: number;
  /** bytes of rows sent to be held (each row once per hold) */
  rowBytes: number;
  /** bytes of per-step inputs sent (centroids, codebooks, SQ ranges, k-means runs' rows) */
  inputBytes: number;
  /** bytes of outputs received (assignments, distances, codes, centroids) */
  outputBytes: number;
}

export function emptyTraffic(): BuildTraffic {
  return { requests: 0, rowBytes: 0, inputBytes: 0, outputBytes: 0 };
}

export class MessageBuild {
  readonly #workers: readonly BuildWorker[];
  readonly #handle: () => number;
  readonly #counted: (worker: number, kernel?: string, rows?: number) => void;
  readonly traffic: BuildTraffic;

  /**
   * `handle` numbers held parts (the pool's block handles); `counted` tallies a worker's finished
   * part (and, for kernels over held rows, the kernel and its rows).
   */
  constructor(workers: readonly BuildWorker[], handle: () => number, counted: (worker: number, kernel?: string, rows?: number) => void, traffic: BuildTraffic) {
    this.#workers = workers;
    this.#handle = handle;
    this.#counted = counted;
    this.traffic = traffic;
  }

  async hold(data: Float32Array, dim: number): Promise<HeldRows> {
    if (!(data instanceof Float32Array) || !Number.isSafeInteger(dim) || dim < 1 || data.length % dim !== 0) {
      throw createError("DIMENSION_MISMATCH", `hold(): ${data?.length} values are not whole rows of dimension ${dim}.`, { dim });
    }
    const n = data.length / dim;
    // No more parts than rows; an empty hold sends nothing.
    const used = this.#workers.slice(0, Math.min(this.#workers.length, n));
    const parts = used.map((w, i) => ({ worker: w, first: Math.round((n * i) / used.length), rows: 0, handle: this.#handle() }));
    parts.forEach((p, i) => (p.rows = (i + 1 < parts.length ? parts[i + 1]!.first : n) - p.first));
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      for (const p of parts) p.worker.post({ type: "drop", handles: [p.handle] });
    };
    try {
      await Promise.all(parts.map((p) => {
        const copy = data.slice(p.first * dim, (p.first + p.rows) * dim);
        this.traffic.rowBytes += copy.byteLength;
        const upload: BlockUpload = { handle: p.handle, element: "f32", dim, data: copy.buffer };
        return this.#send(p.worker, undefined, [upload], [copy.buffer]);
      }));
    } catch (error) {
      release();
      throw error;
    }
    const run = async (job: (block: number, first: number, rows: number) => BuildJob, inputs: (first: number, rows: number) => ArrayBufferView[]): Promise<BuildOutput[]> => {
      if (released) throw createError("CLOSED", "These held rows were released.");
      return Promise.all(parts.map(async (p) => {
        const j = job(p.handle, p.first, p.rows);
        const out = await this.#send(p.worker, j, [], [], inputs(p.first, p.rows));
        this.#counted(p.worker.index, j.kernel, p.rows);
        return out;
      }));
    };
    const shared = (...inputs: ArrayBufferView[]) => () => inputs;
    const join = <T extends Int32Array | Float32Array | Uint8Array>(outs: T[], make: (length: number) => T): T => {
      const all = make(outs.reduce((s, o) => s + o.length, 0));
      let at = 0;
      for (const o of outs) {
        all.set(o as never, at);
        at += o.length;
      }
      return all;
    };
    return {
      rows: n,
      assign: async (centroids, k, metric, offset, width) => {
        const outs = await run((block) => ({ kernel: "kmeans_assign", block, offset, width, k, metric, centroids }), shared(centroids));
        return { assign: join(outs.map((o) => o.assign!), (l) => new Int32Array(l)), dist: join(outs.map((o) => o.dist!), (l) => new Float32Array(l)) };
      },
      pqEncode: async (codebook, M, ksub) => join((await run((block) => ({ kernel: "pq_encode", block, M, ksub, codebook }), shared(codebook))).map((o) => o.codes!), (l) => new Uint8Array(l)),
      pqEncodeResidual: async (codebook, M, ksub, assign, centroids) => {
        if (assign.length !== n) throw createError("DIMENSION_MISMATCH", `pqEncodeResidual(): ${assign.length} assignments for ${n} held rows.`);
        // A copy of each part's assignments: a clone of a view would carry its whole buffer.
        const parts = new Map<number, Int32Array>();
        const part = (first: number, rows: number): Int32Array => {
          if (!parts.has(first)) parts.set(first, assign.slice(first, first + rows));
          return parts.get(first)!;
        };
        const outs = await run(
          (block, first, rows) => ({ kernel: "pq_encode_residual", block, M, ksub, codebook, assign: part(first, rows), centroids }),
          (first, rows) => [codebook, part(first, rows), centroids],
        );
        return join(outs.map((o) => o.codes!), (l) => new Uint8Array(l));
      },
      sqEncode: async (offset, invScale) => {
        const outs = await run((block) => ({ kernel: "sq_encode", block, offset, invScale }), shared(offset, invScale));
        const codes = join(outs.map((o) => o.codes!), (l) => new Uint8Array(l));
        return new Int8Array(codes.buffer);
      },
      release,
    };
  }

  /**
   * Whole k-means runs on whichever worker is free, one in flight each; centroids in run order.
   * When none are left to hand out, an idle worker also takes a copy of a run another worker still
   * has (a stalled one); the first answer wins — either copy computes the same centroids.
   */
  kmeansRuns(runs: KMeansRun[], done?: (finished: number) => void): Promise<Float32Array[]> {
    const out: (Float32Array | undefined)[] = new Array(runs.length);
    const copies = new Int32Array(runs.length);
    const started = new Float64Array(runs.length);
    let spent = 0;
    let next = 0;
    let finished = 0;
    let settled = false;
    if (runs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const give = (w: BuildWorker): void => {
        let i: number | undefined;
        if (next < runs.length) i = next++;
        else {
          for (let j = 0; j < runs.length; j++) if (out[j] === undefined && (i === undefined || copies[j]! < copies[i]!)) i = j;
          if (i === undefined) return;
          // A run still going is backed up only once it has taken twice as long as runs take on
          // average: a copy keeps its worker busy, delaying what the build asks of it next.
          const due = started[i]! + 2 * (spent / Math.max(1, finished)) - Date.now();
          if (finished === 0 || due > 0) {
            if (finished > 0) setTimeout(() => !settled && give(w), due);
            return;
          }
        }
        const run = i;
        const start = Date.now();
        if (copies[run] === 0) started[run] = start;
        copies[run]!++;
        // Each send its own copy of the rows, transferred (a backup needs them again).
        const rows = runs[run]!.rows.slice();
        this.#send(w, { kernel: "kmeans", run: { ...runs[run]!, rows } }, [], [rows.buffer], [rows]).then(
          (built) => {
            copies[run]!--;
            if (settled) return;
            if (out[run] === undefined) {
              out[run] = built.centroids!;
              spent += Date.now() - start;
              this.#counted(w.index);
              done?.(++finished);
              if (finished === runs.length) {
                settled = true;
                return resolve(out as Float32Array[]);
              }
            }
            give(w);
          },
          (error: unknown) => {
            if (settled) return;
            settled = true;
            reject(error);
          },
        );
      };
      for (const w of this.#workers) give(w);
    });
  }

  async #send(w: BuildWorker, job: BuildJob | undefined, uploads: BlockUpload[], transfer: Transferable[], inputs: ArrayBufferView[] = []): Promise<BuildOutput> {
    this.traffic.requests++;
    for (const i of inputs) this.traffic.inputBytes += i.byteLength;
    const reply = await w.request({ type: "build", job, uploads }, transfer);
    const built = (reply as Extract<PoolReply, { type: "done" }>).built ?? {};
    for (const o of Object.values(built)) this.traffic.outputBytes += (o as ArrayBufferView).byteLength;
    return built;
  }
}
