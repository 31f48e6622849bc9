/**
 * Running one pooled search's chunks on the workers (pool.ts cuts the search, chunks.ts merges the
 * answers): work stealing over shared memory (scan.ts runSharedScan claims and backs up chunks in
 * the workers) or by message passing (this thread hands chunks out and backs up late ones).
 */
import type { Block } from "../kernels/block.js";
import type { ElementType } from "../kernels/types.js";
import type { WasmHeap } from "../kernels/memory.js";
import type { BlockUpload, PoolReply, ScanJob, ScanOutput, ScanSlot, SharedChunk, UnnumberedRequest } from "./protocol.js";
import { LATE_FACTOR, MULTI_QUERIES, type Chunk, type ScanPlan } from "./chunks.js";
import { now } from "./scan.js";

export type ScanTransport = "shared" | "message";

/** A scan worker as the runners need it (pool.ts PoolWorker). */
export interface ScanWorker {
  readonly index: number;
  /** Block handles this worker holds a copy of (message transport). */
  readonly held: Set<number>;
  request(message: UnnumberedRequest, transfer?: Transferable[]): Promise<PoolReply>;
}

/** What the runners use of the pool. */
export interface SearchHost {
  readonly transport: ScanTransport;
  readonly heap: WasmHeap;
  readonly workers: readonly ScanWorker[];
  /** Counts chunks whose answer worker `w` gave (ScanPool.chunksByWorker). */
  won(w: number, chunks: number): void;
  /** The handle a block's copies go by in the workers (message transport). */
  handleOf(block: Block): number;
  readonly onScan: ((report: ScanReport) => void) | undefined;
}

/** One search being run: how it is cut, and per planned chunk its rows and its job; its queries. */
export interface SearchRun {
  plan: ScanPlan;
  rows: Chunk[];
  jobs: ScanJob[];
  values: (Float32Array | Int8Array | Uint8Array)[];
  element: ElementType;
  cosine: boolean;
  /** When the search began (scan.ts `now()`). */
  t0: number;
}

/**
 * A conservative scanning rate (elements per ms on one core; SIMD f32 scans run at 6–12 million)
 * for how long an idle worker waits for a late chunk before it has timed chunks of its own.
 */
const ELEMENTS_PER_MS = 4_000_000;
/** Elements (rows × dim × queries) of a job. */
function jobElements(job: ScanJob): number {
  return job.total * job.nq * job.dim;
}

/** One pooled search as it ran (ScanPoolOptions.onScan). Times are ms after the search began. */
export interface ScanReport {
  transport: ScanTransport;
  queries: number;
  rows: number;
  /** Chunks, in `groups` query groups. */
  chunks: number;
  groups: number;
  /** Rows of each chunk, in the order workers take them (shrinking). */
  chunkRows: number[];
  /** Every chunk scan: a chunk scanned twice (a copy, backing up a late worker) appears twice, `used` on the answer that won. */
  scans: { chunk: number; worker: number; start: number; end: number; used: boolean; copy: boolean }[];
  /** Until the last request to a worker was posted. */
  dispatchMs: number;
  /** Until every chunk was answered. */
  answeredMs: number;
  /** From the first start of the chunk that started last until every chunk was answered: the tail a late worker causes. */
  tailMs: number;
}

/**
 * Every worker gets the whole chunk list and claims chunks through an atomic counter until none
 * are left, then backs up late chunks (scan.ts runSharedScan). Resolves as soon as every chunk is
 * finished — a worker still asleep (busy, or descheduled) is not waited for, even mid-chunk: an
 * idle worker's copy of that chunk answers for it. The memory is freed once every worker has
 * answered, since until then one may still read the control words or write its slot.
 */
export function runShared(host: SearchHost, run: SearchRun): Promise<ScanOutput[]> {
  const { jobs, rows, plan, values, element } = run;
  const heap = host.heap;
  const { dim, multi } = jobs[0]!;
  const n = jobs.length;
  const esize = element === "f32" ? 4 : 1;
  const align = (b: number): number => (b + 15) & ~15;
  // One allocation per call, carved up; concurrent searches each get their own.
  let size = align(values.length * dim * esize);
  const at = (bytes: number): number => {
    const off = size;
    size += align(bytes);
    return off;
  };
  const control = at((2 + 3 * n) * 4);
  const idsAt = rows.map((c) => at(c.ids.byteLength));
  const slot = (job: ScanJob) => ({ idx: at(job.nq * job.kk * 4), dist: at(job.nq * job.kk * 4), count: at(job.nq * 4) });
  const slots = jobs.map((job) => [slot(job), slot(job)] as const);
  // Every worker, even for fewer chunks than workers: one that finds nothing to claim stands by
  // to back up a chunk whose claimer is late.
  const workers = host.workers;
  const largest = Math.max(...jobs.map((j) => j.total));
  const scratch = workers.map(() => ({ qNorms: at(plan.groupSize * 4), dist: at(largest * Math.min(plan.groupSize, multi ? MULTI_QUERIES : 1) * 4) }));
  const base = heap.alloc(size);
  values.forEach((v, q) => heap.write(base + q * dim * esize, v));
  heap.i32(base + control, 2 + 3 * n).fill(0);
  rows.forEach((c, r) => c.ids.length > 0 && heap.write(base + idsAt[r]!, c.ids));
  const list = jobs.map((job, c): SharedChunk => {
    const g = plan.chunks[c]!.group;
    const moved = (x: ScanSlot): ScanSlot => ({ idx: base + x.idx, dist: base + x.dist, count: base + x.count });
    return {
      job, queries: base + g * plan.groupSize * dim * esize, ids: base + idsAt[c]!, slots: [moved(slots[c]![0]), moved(slots[c]![1])],
      blocks: rows[c]!.blocks.map((b): [number, number] => [b.ptr, b.normsPtr]),
    };
  });
  const requests = workers.map((w, i) => w.request({
    type: "scan", shared: { control: base + control, qNorms: base + scratch[i]!.qNorms, dist: base + scratch[i]!.dist, t0: run.t0, msPerElement: 1 / ELEMENTS_PER_MS, chunks: list },
  }));
  const dispatched = now();
  let answered = 0;
  void Promise.allSettled(requests).then((replies) => {
    heap.free(base);
    const scans: ScanReport["scans"] = [];
    replies.forEach((r, i) => {
      const trace = r.status === "fulfilled" ? (r.value as { trace?: number[] }).trace ?? [] : [];
      for (let j = 0; j < trace.length; j += 4) {
        const flags = trace[j + 3]!;
        scans.push({ chunk: trace[j]!, worker: workers[i]!.index, start: trace[j + 1]! - run.t0, end: trace[j + 2]! - run.t0, used: flags >= 2, copy: (flags & 1) === 1 });
      }
    });
    report(host, run, dispatched, answered, scans);
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    requests.forEach((request, i) => request.then(
      (reply) => {
        host.won(workers[i]!.index, (reply as { claimed?: number }).claimed ?? 0);
        if (settled || Atomics.load(heap.i32(base + control, 2), 1) < n) return;
        settled = true;
        answered = now();
        const state = heap.i32(base + control + 8, n).slice();
        resolve(list.map(({ job, slots: pair }, c) => {
          const out = pair[state[c]! - 1]!;
          return { count: heap.i32(out.count, job.nq).slice(), index: heap.i32(out.idx, job.nq * job.kk).slice(), distance: heap.f32(out.dist, job.nq * job.kk).slice() };
        }));
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        reject(error);
      },
    ));
  });
}

/**
 * The coordinator hands chunks out in plan order (biggest first) to whichever worker answers, two
 * in flight per worker once they are short (so a worker does not wait for the hop). When none are
 * left, an idle worker backs up a chunk another still holds once it is late — LATE_FACTOR × its
 * expected time at the search's measured rate since that worker began it; the first answer wins.
 * Same kernels, same floats: either copy gives the same output.
 */
export function runMessage(host: SearchHost, run: SearchRun): Promise<ScanOutput[]> {
  const { jobs, rows, plan, values, element } = run;
  const { dim } = jobs[0]!;
  const nq = values.length;
  const packed = element === "f32" ? new Float32Array(nq * dim) : element === "i8" ? new Int8Array(nq * dim) : new Uint8Array(nq * dim);
  values.forEach((v, q) => packed.set(v, q * dim));
  const n = jobs.length;
  const outputs: (ScanOutput | undefined)[] = new Array(n);
  // Chunks each worker holds, in the order it runs them.
  const running = host.workers.map(() => [] as number[]);
  const copies = new Int32Array(n);
  // When each worker began the first chunk it holds (its previous answer, or when it was sent to it idle).
  const began = new Float64Array(host.workers.length);
  let next = 0;
  let left = n;
  let settled = false;
  let dispatched = 0;
  let answered = 0;
  let inFlight = 0;
  const scans: ScanReport["scans"] = [];
  return new Promise((resolve, reject) => {
    let scannedMs = 0;
    let scannedElements = 0;
    const msPerElement = (): number => (scannedElements > 0 ? scannedMs / scannedElements : 1 / ELEMENTS_PER_MS);
    // A chunk is late LATE_FACTOR × its expected time after its worker could begin it (after the ones queued before it).
    const lateAt = (c: number): number => {
      let at = Infinity;
      running.forEach((queue, v) => {
        const i = queue.indexOf(c);
        if (i < 0) return;
        let elements = 0;
        for (let j = 0; j <= i; j++) elements += jobElements(jobs[queue[j]!]!);
        at = Math.min(at, began[v]! + LATE_FACTOR * elements * msPerElement());
      });
      return at;
    };
    const waiting = new Set<number>();
    // Two chunks in flight per worker: the next is there when one ends, so a worker never waits for
    // the hop. (One in flight while chunks are big left each worker idle a hop per chunk: without
    // background load, message-passing batches ran 1.46–1.51× instead of 1.84× on 2 workers.)
    const DEPTH = 2;
    const give = (w: number): void => {
      let c: number | undefined;
      if (next < n) c = next++;
      else if (running[w]!.length === 0) {
        // Nothing left to hand out: back up the pending chunk that is latest, once it is late.
        let due = Infinity;
        for (let j = 0; j < n; j++) {
          if (outputs[j] !== undefined || copies[j]! > 1 || running[w]!.includes(j)) continue;
          const at = lateAt(j);
          if (at < due) [c, due] = [j, at];
        }
        if (c === undefined) return;
        const wait = due - now();
        if (wait > 0) {
          if (waiting.has(w)) return;
          waiting.add(w);
          setTimeout(() => {
            waiting.delete(w);
            if (!settled && running[w]!.length === 0) give(w);
          }, wait);
          return;
        }
      }
      if (c === undefined) return;
      const chunk = c;
      if (running[w]!.length === 0) began[w] = now();
      running[w]!.push(chunk);
      const copy = copies[chunk]! > 0;
      copies[chunk]!++;
      inFlight++;
      const g = plan.chunks[chunk]!.group;
      const queries = packed.slice(g * plan.groupSize * dim, (g * plan.groupSize + jobs[chunk]!.nq) * dim);
      sendChunk(host, w, jobs[chunk]!, rows[chunk]!, queries, run.cosine).then(
        ({ output, trace }) => {
          const mine = running[w]!;
          mine.splice(mine.indexOf(chunk), 1);
          if (mine.length > 0) began[w] = now();
          copies[chunk]!--;
          const used = outputs[chunk] === undefined && !settled;
          scans.push({ chunk, worker: w, start: trace[1]! - run.t0, end: trace[2]! - run.t0, used, copy });
          scannedMs += trace[2]! - trace[1]!;
          scannedElements += jobElements(jobs[chunk]!);
          if (settled) return;
          if (outputs[chunk] === undefined) {
            outputs[chunk] = output;
            host.won(w, 1);
            if (--left === 0) {
              settled = true;
              answered = now();
              return resolve(outputs as ScanOutput[]);
            }
          }
          give(w);
          if (running[w]!.length < DEPTH) give(w);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          reject(error);
        },
      ).finally(() => {
        if (--inFlight === 0) report(host, run, dispatched, answered, scans);
      });
    };
    for (let round = 0; round < DEPTH; round++) for (let w = 0; w < host.workers.length; w++) give(w);
    dispatched = now();
  });
}

/** One chunk to one worker (message transport), with the blocks it does not hold yet. */
async function sendChunk(host: SearchHost, w: number, job: ScanJob, chunk: Chunk, queries: Float32Array | Int8Array | Uint8Array, cosine: boolean): Promise<{ output: ScanOutput; trace: number[] }> {
  const worker = host.workers[w]!;
  const uploads: BlockUpload[] = [];
  const pieces = job.pieces.map((p) => {
    const block = chunk.blocks[p.block]!;
    const handle = host.handleOf(block);
    if (!worker.held.has(handle)) {
      worker.held.add(handle);
      const bytes = host.heap.bytes().slice(block.ptr, block.ptr + block.byteLength);
      uploads.push({ handle, element: block.element, dim: job.dim, data: bytes.buffer });
    }
    return { ...p, block: handle };
  });
  const ids = chunk.ids.slice();
  const sent = worker.request({ type: "scan", job: { ...job, pieces }, queries: queries.buffer as ArrayBuffer, ids, uploads, cosineNorms: cosine }, [queries.buffer, ids.buffer, ...uploads.map((u) => u.data)]);
  // A failed scan may have left uploads unapplied: send them again next time.
  sent.catch(() => uploads.forEach((u) => worker.held.delete(u.handle)));
  const reply = (await sent) as Extract<PoolReply, { type: "done" }>;
  return { output: reply.output!, trace: reply.trace ?? [] };
}

/** Hands a finished search's trace to `onScan` (answered: 0 when it failed). */
function report(host: SearchHost, run: SearchRun, dispatched: number, answered: number, scans: ScanReport["scans"]): void {
  if (host.onScan === undefined || answered === 0) return;
  const firstStart = new Map<number, number>();
  for (const s of scans) firstStart.set(s.chunk, Math.min(firstStart.get(s.chunk) ?? Infinity, s.start));
  const lastStart = Math.max(...firstStart.values());
  host.onScan({
    transport: host.transport, queries: run.values.length, rows: Math.max(...run.plan.chunks.map((c) => c.b)), chunks: run.jobs.length,
    groups: run.plan.groups, chunkRows: run.jobs.map((j) => j.total),
    scans: scans.sort((a, b) => a.start - b.start), dispatchMs: dispatched - run.t0, answeredMs: answered - run.t0, tailMs: answered - run.t0 - lastStart,
  });
}
