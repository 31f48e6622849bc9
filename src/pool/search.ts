/**
 * Running one pooled search's chunks on the workers (pool.ts cuts the search, chunks.ts merges the
 * answers): work stealing over shared memory (scan.ts runSharedScan claims and backs up chunks in
 * the workers) or by message passing (this thread hands chunks out and backs up late ones).
 */
import type { Block } from "../kernels/block.js";
import type { ElementType } from "../kernels/types.js";
import type { WasmHeap } from "../kernels/memory.js";
import type { BlockUpload, PoolReply, ScanJob, ScanOutput, ScanSlot, SharedChunk, UnnumberedRequest } from "./protocol.js";
import { MULTI_QUERIES, type Chunk, type ScanSplit } from "./chunks.js";
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

/** One search being run: how it is cut, its row chunks, one job per (query group, row chunk), its queries. */
export interface SearchRun {
  split: ScanSplit;
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

/** How long an idle worker waits for a late chunk before backing it up, until chunks of this search were timed. */
function patienceMs(run: SearchRun): number {
  const largest = Math.max(...run.jobs.map((j) => j.total * j.nq));
  return (largest * run.jobs[0]!.dim) / ELEMENTS_PER_MS;
}

/** One pooled search as it ran (ScanPoolOptions.onScan). Times are ms after the search began. */
export interface ScanReport {
  transport: ScanTransport;
  queries: number;
  rows: number;
  /** Chunks: `groups` query groups × `rowChunks` row ranges. */
  chunks: number;
  groups: number;
  rowChunks: number;
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
  const { jobs, rows, split, values, element } = run;
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
  const control = at((2 + 2 * n) * 4);
  const idsAt = rows.map((c) => at(c.ids.byteLength));
  const slot = (job: ScanJob) => ({ idx: at(job.nq * job.kk * 4), dist: at(job.nq * job.kk * 4), count: at(job.nq * 4) });
  const slots = jobs.map((job) => [slot(job), slot(job)] as const);
  // Every worker, even for fewer chunks than workers: one that finds nothing to claim stands by
  // to back up a chunk whose claimer is late.
  const workers = host.workers;
  const largest = Math.max(...jobs.map((j) => j.total));
  const scratch = workers.map(() => ({ qNorms: at(split.groupSize * 4), dist: at(largest * Math.min(split.groupSize, multi ? MULTI_QUERIES : 1) * 4) }));
  const base = heap.alloc(size);
  values.forEach((v, q) => heap.write(base + q * dim * esize, v));
  heap.i32(base + control, 2 + 2 * n).fill(0);
  rows.forEach((c, r) => c.ids.length > 0 && heap.write(base + idsAt[r]!, c.ids));
  const list = jobs.map((job, c): SharedChunk => {
    const r = c % split.rowChunks;
    const g = Math.floor(c / split.rowChunks);
    const moved = (x: ScanSlot): ScanSlot => ({ idx: base + x.idx, dist: base + x.dist, count: base + x.count });
    return {
      job, queries: base + g * split.groupSize * dim * esize, ids: base + idsAt[r]!, slots: [moved(slots[c]![0]), moved(slots[c]![1])],
      blocks: rows[r]!.blocks.map((b): [number, number] => [b.ptr, b.normsPtr]),
    };
  });
  const requests = workers.map((w, i) => w.request({
    type: "scan", shared: { control: base + control, qNorms: base + scratch[i]!.qNorms, dist: base + scratch[i]!.dist, patienceMs: patienceMs(run), chunks: list },
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
 * The coordinator hands chunks out one at a time, two in flight per worker (so a worker never
 * waits for the hop), to whichever worker answers. When none are left, an idle worker waits the
 * search's mean chunk time, then takes a copy of a chunk another worker still holds; the first
 * answer wins. Same kernels, same floats: either copy gives the same output.
 */
export function runMessage(host: SearchHost, run: SearchRun): Promise<ScanOutput[]> {
  const { jobs, rows, split, values, element } = run;
  const { dim } = jobs[0]!;
  const nq = values.length;
  const packed = element === "f32" ? new Float32Array(nq * dim) : element === "i8" ? new Int8Array(nq * dim) : new Uint8Array(nq * dim);
  values.forEach((v, q) => packed.set(v, q * dim));
  const n = jobs.length;
  const outputs: (ScanOutput | undefined)[] = new Array(n);
  const running = host.workers.map(() => new Set<number>());
  const copies = new Int32Array(n);
  let next = 0;
  let left = n;
  let settled = false;
  let dispatched = 0;
  let answered = 0;
  let inFlight = 0;
  const scans: ScanReport["scans"] = [];
  return new Promise((resolve, reject) => {
    // An idle worker with nothing left to take waits this long (the mean scan time of this
    // search's answered chunks, or an estimate) before backing up a chunk another still holds.
    let scannedMs = 0;
    let scanned = 0;
    const patience = (): number => (scanned > 0 ? scannedMs / scanned : patienceMs(run));
    const waiting = new Set<number>();
    const give = (w: number, late = false): void => {
      let c: number | undefined;
      if (next < n) c = next++;
      else if (running[w]!.size === 0 && !late) {
        let pending = false;
        for (let j = 0; j < n && !pending; j++) pending = outputs[j] === undefined && !running[w]!.has(j);
        if (waiting.has(w) || !pending) return;
        waiting.add(w);
        setTimeout(() => {
          waiting.delete(w);
          if (!settled && running[w]!.size === 0) give(w, true);
        }, patience());
        return;
      } else if (running[w]!.size === 0) {
        // Still unanswered after the wait: back up the pending chunk with the fewest copies running.
        for (let j = 0; j < n; j++) if (outputs[j] === undefined && !running[w]!.has(j) && (c === undefined || copies[j]! < copies[c]!)) c = j;
      }
      if (c === undefined) return;
      const chunk = c;
      running[w]!.add(chunk);
      const copy = copies[chunk]! > 0;
      copies[chunk]!++;
      inFlight++;
      const g = Math.floor(chunk / split.rowChunks);
      const queries = packed.slice(g * split.groupSize * dim, (g * split.groupSize + jobs[chunk]!.nq) * dim);
      sendChunk(host, w, jobs[chunk]!, rows[chunk % split.rowChunks]!, queries, run.cosine).then(
        ({ output, trace }) => {
          running[w]!.delete(chunk);
          copies[chunk]!--;
          const used = outputs[chunk] === undefined && !settled;
          scans.push({ chunk, worker: w, start: trace[1]! - run.t0, end: trace[2]! - run.t0, used, copy });
          scannedMs += trace[2]! - trace[1]!;
          scanned++;
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
    for (let round = 0; round < 2; round++) for (let w = 0; w < host.workers.length; w++) give(w);
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
    transport: host.transport, queries: run.values.length, rows: run.rows.reduce((n, c) => n + c.total, 0), chunks: run.jobs.length,
    groups: run.split.groups, rowChunks: run.split.rowChunks,
    scans: scans.sort((a, b) => a.start - b.start), dispatchMs: dispatched - run.t0, answeredMs: answered - run.t0, tailMs: answered - run.t0 - lastStart,
  });
}
