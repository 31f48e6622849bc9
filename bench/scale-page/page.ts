/**
 * The Chromium scale bench page (driven by bench/scale-chromium.ts). The database lives in a
 * dedicated worker (`connectWorker` from quiverdb/worker) on OPFS; this page draws the seeded
 * vectors (generate.ts), hands them over in batches and measures what a user of the public API
 * would see. Each phase opens its own connection (a worker of its own) and closes it, so a phase
 * run after a page reload starts from a cold worker. `body[data-ready]` says the page is loaded.
 */
import { DataTypes, field, Index, schema, type MemoryStats } from "quiverdb";
import { Field, FixedSizeList, Float32, Int32, makeData, RecordBatch, Schema as ArrowSchema, Struct, Utf8, vectorFromArray } from "apache-arrow";
import { connectWorker, startWorker, type RemoteConnection } from "quiverdb/worker";
import { BASE_STREAM, categoryOf, QUERY_STREAM, vectorModel, type VectorModel } from "./generate.js";

declare global {
  // Exposed by the driver (page.exposeFunction): progress lines for its log.
  var quiverScaleProgress: ((line: string) => Promise<void>) | undefined;
  // Exposed by the driver: reads the tab's memory from /proc at a named stage, then resolves.
  var quiverScaleMark: ((stage: string) => Promise<void>) | undefined;
  // Exposed by the driver: a critical memory-pressure signal to the renderer (every isolate collects
  // its garbage, the allocators give free pages back); resolves once the footprint stops falling.
  var quiverScaleSettle: (() => Promise<void>) | undefined;
  /** The driver's CPU profiler (QUIVER_BENCH_CPU_PROFILE): a profile per timed pass. */
  var quiverScaleTimed: ((what: "start" | "stop", label: string) => Promise<void>) | undefined;
}

const report = (line: string): void => void globalThis.quiverScaleProgress?.(line);
const mark = async (stage: string): Promise<void> => { await globalThis.quiverScaleMark?.(stage); };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ── memory ──────────────────────────────────────────────────────────────────────────────────

export interface MemorySample {
  label: string;
  /** ms since the phase started. */
  at_ms: number;
  /** The worker's session: WebAssembly memory reserved (its high-water mark: it never shrinks) and allocated, cache bytes. */
  wasm_reserved: number;
  wasm_allocated: number;
  cache_bytes: number;
  /** performance.measureUserAgentSpecificMemory(): the page and its workers (crossOriginIsolated pages only). */
  ua_bytes?: number;
  /** The part of ua_bytes attributed to dedicated workers. */
  ua_worker_bytes?: number;
  /** performance.memory.usedJSHeapSize of this page's main thread. */
  main_js_heap?: number;
}

interface UaMemory { bytes: number; breakdown: { bytes: number; attribution: { scope: string }[] }[] }

async function sampleMemory(db: RemoteConnection, label: string, since: number): Promise<MemorySample> {
  const stats: MemoryStats = await db.memoryStats();
  const sample: MemorySample = {
    label, at_ms: Math.round(performance.now() - since),
    wasm_reserved: stats.wasm.reservedBytes, wasm_allocated: stats.wasm.allocatedBytes, cache_bytes: stats.cache.bytes,
  };
  const perf = performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<UaMemory>; memory?: { usedJSHeapSize: number } };
  if (globalThis.crossOriginIsolated && perf.measureUserAgentSpecificMemory) {
    const m = await perf.measureUserAgentSpecificMemory();
    sample.ua_bytes = m.bytes;
    sample.ua_worker_bytes = m.breakdown.filter((b) => b.attribution.some((a) => a.scope === "DedicatedWorkerGlobalScope")).reduce((s, b) => s + b.bytes, 0);
  }
  if (perf.memory) sample.main_js_heap = perf.memory.usedJSHeapSize;
  return sample;
}

/** Samples memory every `everyMs` until `stop()`; returns the samples. */
function sampler(db: RemoteConnection, since: number, everyMs: number): { stop: () => Promise<MemorySample[]> } {
  const samples: MemorySample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push(await sampleMemory(db, "during", since));
      await sleep(everyMs);
    }
  })();
  return { stop: async () => { running = false; await loop; return samples; } };
}

// ── phases ──────────────────────────────────────────────────────────────────────────────────

export interface IngestConfig {
  uri: string; table: string; model: VectorModel; rows: number;
  /** Rows per add() call; with `stream`, rows per fragment. */
  batch: number;
  /**
   * Rows per record batch of one streamed add(): the page draws a batch only when the worker pulls
   * it, and the worker gathers `batch` rows per fragment. Without it, one add() of row objects per `batch`.
   */
  stream?: number;
}
export interface IngestResult { rows: number; add_ms: number; generate_ms: number; wall_ms: number; batches: number; progress_calls: number; origin_usage?: number }

async function ingest(c: IngestConfig): Promise<IngestResult> {
  if (c.stream !== undefined) return ingestStream(c, c.stream);
  const dim = c.model.dim;
  const s = schema([field("id", DataTypes.int32(), false), field("category", DataTypes.utf8()), field("vector", DataTypes.vector(dim))]);
  const draw = vectorModel(c.model)(BASE_STREAM);
  const db = await connectWorker(c.uri);
  let table: Awaited<ReturnType<RemoteConnection["createTable"]>> | undefined;
  let generate = 0;
  let add = 0;
  let batches = 0;
  let progressCalls = 0;
  const wall = performance.now();
  for (let first = 0; first < c.rows; first += c.batch) {
    const count = Math.min(c.batch, c.rows - first);
    let t = performance.now();
    const block = draw(count);
    const rows = Array.from({ length: count }, (_, i) => ({ id: first + i, category: categoryOf(first + i), vector: block.subarray(i * dim, (i + 1) * dim) }));
    generate += performance.now() - t;
    t = performance.now();
    if (table === undefined) table = await db.createTable(c.table, rows, { schema: s, mode: "overwrite" });
    else await table.add(rows, { progress: () => void progressCalls++ });
    add += performance.now() - t;
    batches++;
    report(`ingest ${first + count}/${c.rows}: ${Math.round((first + count) / (add / 1000))} rows/s (add calls only)`);
  }
  const rows = await table!.countRows();
  await db.close();
  const usage = (await navigator.storage.estimate()).usage;
  return { rows, add_ms: add, generate_ms: generate, wall_ms: performance.now() - wall, batches, progress_calls: progressCalls, origin_usage: usage };
}

/**
 * One add() of a stream of Arrow record batches (what a user importing more rows than fit in memory
 * does): each batch is drawn when the worker pulls it, so the page holds one batch of `perBatch`
 * rows and the worker one fragment of `c.batch` rows. add_ms is the whole add() minus the drawing.
 */
async function ingestStream(c: IngestConfig, perBatch: number): Promise<IngestResult> {
  const dim = c.model.dim;
  const draw = vectorModel(c.model)(BASE_STREAM);
  const vectorType = new FixedSizeList(dim, new Field("item", new Float32(), false));
  const arrowSchema = new ArrowSchema([new Field("id", new Int32(), false), new Field("category", new Utf8(), true), new Field("vector", vectorType, false)]);
  let generate = 0;
  let batches = 0;
  let progressCalls = 0;
  async function* recordBatches(): AsyncGenerator<RecordBatch> {
    for (let first = 0; first < c.rows; first += perBatch) {
      const t = performance.now();
      const count = Math.min(perBatch, c.rows - first);
      const ids = new Int32Array(count);
      for (let i = 0; i < count; i++) ids[i] = first + i;
      const categories = vectorFromArray(Array.from({ length: count }, (_, i) => categoryOf(first + i)), new Utf8());
      const vectors = makeData({ type: vectorType, length: count, nullCount: 0, child: makeData({ type: new Float32(), length: count * dim, data: draw(count) }) });
      const data = makeData({ type: new Struct(arrowSchema.fields), length: count, nullCount: 0, children: [makeData({ type: new Int32(), length: count, data: ids }), categories.data[0]!, vectors] });
      generate += performance.now() - t;
      batches++;
      yield new RecordBatch(arrowSchema, data);
    }
  }
  const db = await connectWorker(c.uri);
  const wall = performance.now();
  const table = await db.createEmptyTable(c.table, arrowSchema, { mode: "overwrite" });
  await table.add(recordBatches(), {
    fragmentRows: c.batch, fragmentBytes: 2 ** 31,
    progress: (p) => {
      // The tab's memory as each fragment is written (with smaps copies under QUIVER_BENCH_SMAPS).
      void mark(`ingest ${p.rowsDone} rows written`);
      progressCalls++;
      report(`ingest ${p.rowsDone}/${c.rows} written: ${Math.round(p.rowsDone / ((performance.now() - wall - generate) / 1000))} rows/s`);
    },
  });
  const add = performance.now() - wall - generate;
  const rows = await table.countRows();
  await db.close();
  const usage = (await navigator.storage.estimate()).usage;
  return { rows, add_ms: add, generate_ms: generate, wall_ms: performance.now() - wall, batches, progress_calls: progressCalls, origin_usage: usage };
}

export interface BuildConfig {
  uri: string; table: string; numPartitions: number; numSubVectors: number; numBits?: number; maxIterations: number; sampleRate?: number; sampleEveryMs: number;
  /** IVF_PQ (default) or IVF_RQ (RaBitQ, 1 bit per dimension; numSubVectors and numBits unused). */
  kind?: "IVF_PQ" | "IVF_RQ";
}
export interface BuildResult {
  build_ms: number; index_bytes?: number;
  /** The table's version before and after the build (to restore the index the table had before). */
  version_before: number; version_after: number;
  /** When each build phase was first reported (ms from the start) and how many progress calls came. */
  phases: Record<string, number>; progress_calls: number;
  memory: MemorySample[];
  /** Set by the driver: the renderer's private footprint (bytes) when the build started. */
  tab_footprint_start?: number;
}

async function build(c: BuildConfig): Promise<BuildResult> {
  const db = await connectWorker(c.uri);
  const table = await db.openTable(c.table);
  const version_before = await table.version();
  const t0 = performance.now();
  const memory = [await sampleMemory(db, "before", t0)];
  const phases: Record<string, number> = {};
  let calls = 0;
  let lastLine = 0;
  const during = sampler(db, t0, c.sampleEveryMs);
  await table.createIndex("vector", {
    config: c.kind === "IVF_RQ"
      ? Index.ivfRq({ numPartitions: c.numPartitions, maxIterations: c.maxIterations, sampleRate: c.sampleRate, distanceType: "cosine" })
      : Index.ivfPq({ numPartitions: c.numPartitions, numSubVectors: c.numSubVectors, numBits: c.numBits, maxIterations: c.maxIterations, sampleRate: c.sampleRate, distanceType: "cosine" }),
    progress: ({ phase, done, total }) => {
      calls++;
      const now = performance.now() - t0;
      // The tab's memory at the start of each build phase (with smaps copies under QUIVER_BENCH_SMAPS).
      if (phases[phase] === undefined) void mark(`build ${phase}`);
      phases[phase] ??= Math.round(now);
      if (now - lastLine > 5000 || done === total) {
        lastLine = now;
        report(`build ${phase} ${done}/${total} at ${(now / 1000).toFixed(1)} s`);
      }
    },
  });
  const build_ms = performance.now() - t0;
  memory.push(...(await during.stop()), await sampleMemory(db, "after", t0));
  const stats = await table.indexStats("vector_idx");
  const version_after = await table.version();
  await db.close();
  return { build_ms, index_bytes: stats?.sizeBytes, version_before, version_after, phases, progress_calls: calls, memory };
}

/** Makes `version` the table's latest again (a new version with its data and indexes): the index built before another build. */
async function restore(c: { uri: string; table: string; version: number }): Promise<number> {
  const db = await connectWorker(c.uri);
  const table = await db.openTable(c.table);
  await table.restore(c.version);
  const version = await table.version();
  await db.close();
  return version;
}

export interface SearchConfig { nprobes: number; refineFactor: number }
export interface QueryConfig {
  uri: string; table: string; model: VectorModel; queries: number; k: number; warmup: number; sweep: SearchConfig[];
  /** The worker connection's session budget (connect({ cacheBytes })); default the session's (256 MiB). */
  cacheBytes?: number;
}
export interface QueryRun extends SearchConfig {
  latency_ms: number[]; ids: number[][];
  /** Bytes and requests read from storage by each query, run again with analyzePlan() right after the timed pass. */
  bytes: number[]; requests: number[];
}
export interface QueryResult {
  open_ms: number; first_query_ms: number; first_query_bytes: number;
  runs: QueryRun[]; memory: MemorySample[];
}

/** "… read 1,234 bytes in 5 request(s) from storage" → [1234, 5]. */
function readsOf(plan: string): [number, number] {
  const m = /read ([\d,. ]+) bytes in ([\d,. ]+) request/.exec(plan);
  if (m === null) throw new Error(`analyzePlan() reported no reads:\n${plan}`);
  return [Number(m[1]!.replace(/\D/g, "")), Number(m[2]!.replace(/\D/g, ""))];
}

async function query(c: QueryConfig): Promise<QueryResult> {
  const dim = c.model.dim;
  const vectors = vectorModel(c.model)(QUERY_STREAM)(c.queries);
  const q = (i: number): Float32Array => vectors.slice(i * dim, (i + 1) * dim);
  // Stages the driver reads the tab's memory at (mark): the worker started; the kernels compiled
  // and instantiated, by a one-row search in a throw-away memory:// connection of the same worker
  // (the compiled module is the worker's, shared by its connections; the probe's instance goes
  // with it); the table opened; the first query; after each configuration of the sweep.
  const worker = startWorker();
  const probe = await connectWorker("memory://", { worker });
  await mark("worker started");
  const probeTable = await probe.createTable("probe", [{ vector: new Float32Array([1, 0, 0, 0]) }]);
  await probeTable.search(new Float32Array([1, 0, 0, 0])).limit(1).toArray();
  await probe.close();
  await mark("kernels instantiated");
  const t0 = performance.now();
  const db = await connectWorker(c.uri, { worker, ...(c.cacheBytes === undefined ? {} : { cacheBytes: c.cacheBytes }) });
  const table = await db.openTable(c.table);
  const open_ms = performance.now() - t0;
  await mark("table opened");
  const memory = [await sampleMemory(db, "open", t0)];
  const search = (i: number, s: SearchConfig) => table.search(q(i)).distanceType("cosine").nprobes(s.nprobes).refineFactor(s.refineFactor).select(["id"]).limit(c.k);
  let t = performance.now();
  const [first_query_bytes] = readsOf(await search(0, c.sweep[0]!).analyzePlan());
  const first_query_ms = performance.now() - t;
  await mark("first query");
  memory.push(await sampleMemory(db, "first query", t0));
  const runs: QueryRun[] = [];
  for (const s of c.sweep) {
    for (let i = 0; i < Math.min(c.warmup, c.queries); i++) await search(i, s).toArray();
    const run: QueryRun = { ...s, latency_ms: [], ids: [], bytes: [], requests: [] };
    await globalThis.quiverScaleTimed?.("start", "");
    for (let i = 0; i < c.queries; i++) {
      t = performance.now();
      const rows = await search(i, s).toArray();
      run.latency_ms.push(performance.now() - t);
      run.ids.push(rows.map((r) => r.id as number));
    }
    await globalThis.quiverScaleTimed?.("stop", `${runs.length}-nprobes${s.nprobes}-refine${s.refineFactor}`);
    memory.push(await sampleMemory(db, `after nprobes=${s.nprobes} refine=${s.refineFactor}`, t0));
    await mark(`after nprobes ${s.nprobes} refine ${s.refineFactor}`);
    for (let i = 0; i < c.queries; i++) {
      const [bytes, requests] = readsOf(await search(i, s).analyzePlan());
      run.bytes.push(bytes);
      run.requests.push(requests);
    }
    runs.push(run);
    const sorted = [...run.latency_ms].sort((a, b) => a - b);
    report(`query nprobes=${s.nprobes} refine=${s.refineFactor}: p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} ms`);
  }
  memory.push(await sampleMemory(db, "end", t0));
  // What stays once garbage is collected: what Quiver holds, apart from what the engines free lazily.
  await globalThis.quiverScaleSettle?.();
  await mark("after the sweep, under memory pressure");
  memory.push(await sampleMemory(db, "after memory pressure", t0));
  await db.close();
  worker.terminate();
  return { open_ms, first_query_ms, first_query_bytes, runs, memory };
}

export interface ExactConfig { uri: string; table: string; model: VectorModel; queries: number; k: number; rows: number; chunk: number }

/**
 * Ground truth: the table's exact search (no index: `bypassVectorIndex`, all queries in one call)
 * over one id range at a time, merged here. Ranges keep the worker's resident vector blocks to a
 * few fragments instead of the whole column.
 */
async function exact(c: ExactConfig): Promise<{ ids: number[][]; ms: number }> {
  const dim = c.model.dim;
  const vectors = vectorModel(c.model)(QUERY_STREAM)(c.queries);
  const list = Array.from({ length: c.queries }, (_, i) => vectors.slice(i * dim, (i + 1) * dim));
  const t0 = performance.now();
  const db = await connectWorker(c.uri);
  const table = await db.openTable(c.table);
  const best: { id: number; d: number }[][] = list.map(() => []);
  for (let lo = 0; lo < c.rows; lo += c.chunk) {
    const hits = await table.search(list).bypassVectorIndex().distanceType("cosine").where(`id >= ${lo} AND id < ${lo + c.chunk}`)
      .select(["id"]).limit(c.k).toArray();
    for (const h of hits) best[h._query_index as number]!.push({ id: h.id as number, d: h._distance as number });
    for (const b of best) b.sort((x, y) => x.d - y.d || x.id - y.id).splice(c.k);
    report(`exact ${Math.min(c.rows, lo + c.chunk)}/${c.rows}`);
  }
  await db.close();
  return { ids: best.map((b) => b.map((h) => h.id)), ms: performance.now() - t0 };
}

/** Removes a table's files (between data sets, to give the disk back). */
async function drop(c: { uri: string; name: string }): Promise<void> {
  const db = await connectWorker(c.uri);
  await db.dropTable(c.name);
  await db.close();
}

const phases = { ingest, build, restore, query, exact, drop };
export type Phases = typeof phases;
Object.assign(globalThis, { quiverScale: phases });
document.body.dataset.ready = "true";
