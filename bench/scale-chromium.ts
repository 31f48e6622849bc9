/**
 * The Chromium part of `npm run bench -- scale`: a table of `rows` × 384 float32 vectors (with an
 * int32 id and a category) built and searched in real Chromium, on OPFS, with the database in a
 * dedicated worker (quiverdb/worker), through the public API only (bench/scale-page).
 *
 * Per data set (see scale-page/generate.ts: `spectrum`, fitted to real USE embeddings by
 * scale-spectrum.ts, and isotropic Gaussian `clusters`), in one persistent Chromium profile:
 *
 *   1. ingest: the page draws the seeded vectors and adds them in batches (createTable + add);
 *      rows/s counts the add calls only (drawing is timed apart)
 *   2. reload, then build: createIndex(IVF_PQ, cosine) in a fresh worker, with progress; memory sampled meanwhile
 *   3. reload, then query: a fresh worker opens the table cold; per search configuration a warm-up,
 *      the timed top-10 queries (page-side latency: the worker hop included), then the same queries
 *      again with analyzePlan() for the bytes each reads from OPFS
 *   4. reload, then exact: the table's exact search (bypassVectorIndex) id range by id range: the
 *      ground truth for recall@10
 *
 * `--keep <dir>` (scale.ts) keeps the Chromium profile, and with it the OPFS tables, in <dir>, with
 * what steps 1, 2 and 4 measured: a later run with the same <dir> and table options goes straight
 * to step 3 (a sweep of search settings, or a change to the query path, without ingesting and
 * building again). The build figures it reports are then those of the run that built the table.
 * With other index options (partitions, sub-vectors, bits, iterations), or with `rebuild`, the kept
 * table's index is built again (createIndex replaces it); ingest and ground truth stay.
 * The page is served from the same port each time (OPFS belongs to the origin).
 *
 * Memory, three ways: the worker's session counters (db.memoryStats(): WebAssembly reserved — its
 * high-water mark, memory never shrinks — and allocated, cache bytes); the page's
 * performance.measureUserAgentSpecificMemory() (the page is served with COOP/COEP, so it is
 * crossOriginIsolated; Chromium runs with ForceEagerMeasureMemory so a measurement does not wait for
 * a GC); and, from outside, the renderer process (page, its workers, WebAssembly and all) read from
 * /proc (proc-memory.ts): every 250 ms for peaks, and at the query phase's stages (page loaded,
 * worker started, kernels instantiated, table opened, first query, after each search setting, and
 * after a critical memory-pressure signal over CDP, which makes every isolate collect its garbage
 * and the allocators give free pages back: what is left is what is held, not what waits for a GC).
 * Two figures from there: VmRSS, which counts the pages of the chromium binary and its libraries
 * that every Chromium process shares, and the private footprint (RssAnon + VmSwap), what Chrome's
 * task manager shows as the tab's memory and what the issue's < 300 MB goal is read against.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "@playwright/test";
import { buildBenchPage, playwrightLaunchOptions, staticServer } from "./browser-page.js";
import { WorkerProfiler } from "./cpu-profile.js";
import { median, p99, progress, round, sig, type ResultRow } from "./report.js";
import { TabMemory, type PhasePeak, type ProcMemory } from "./proc-memory.js";
import { fitSpectrum, type FittedSpectrum } from "./scale-spectrum.js";
import type { VectorModel } from "./scale-page/generate.js";
import type { BuildResult, IngestResult, MemorySample, Phases, QueryResult, SearchConfig } from "./scale-page/page.js";

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, "..");
const MB = 2 ** 20;
const DIM = 384;
const K = 10;
const TABLE = "vectors";

export type ScaleDataset = "spectrum" | "clusters";

export interface ChromiumScaleOptions {
  rows: number;
  queries: number;
  /** Rows per add() call (one fragment each). */
  batch: number;
  /** Ingest as one add() of a stream of record batches of this many rows (`batch` rows per fragment). */
  stream?: number;
  datasets: ScaleDataset[];
  numPartitions?: number;
  numSubVectors: number;
  /** Bits per PQ code: 8 (default) or 4 (the fast scan). */
  numBits?: 4 | 8;
  maxIterations: number;
  sweep: SearchConfig[];
  /** The query worker's session budget in bytes (connect({ cacheBytes })); default 256 MiB. Half of it may hold IVF partitions. */
  cacheBytes?: number;
  /**
   * Also build IVF_RQ (RaBitQ, 1 bit per dimension) on the same table with the same partitions
   * after the IVF_PQ queries, and query it over this sweep (issue 14: index bytes per vector,
   * recall and QPS against IVF_PQ). The table's IVF_PQ version is restored afterwards, so a kept
   * table stays as it was.
   */
  rqSweep?: SearchConfig[];
  /**
   * A directory that keeps the Chromium profile (the OPFS tables), and per data set what its
   * ingest, build and ground truth measured: a later run with the same directory and table options
   * (rows, batch, partitions, sub-vectors, iterations, queries) only reloads and queries.
   */
  keep?: string;
  /** With `keep`: build the kept table's index again even when its options are unchanged (to measure the build). */
  rebuild?: boolean;
  /** Stop each data set after its ingest (and print the ingest's memory peaks): a change to the write path measured in minutes. */
  ingestOnly?: boolean;
}

/** What a kept data set's ingest, build and ground truth measured (`keep`). */
interface KeptTable {
  /** The table's options (tableKey); `indexKey` the index's. */
  key: string;
  indexKey?: string;
  ing: IngestResult;
  b: BuildResult;
  truth: { ids: number[][]; ms: number };
  ingestPeak: PhasePeak | OldPeak;
  buildPeak: PhasePeak | OldPeak;
}

const tableKey = (t: { rows: number; batch: number; queries: number; model: unknown }): string => JSON.stringify({ rows: t.rows, batch: t.batch, queries: t.queries, model: t.model });

/** A kept file's keys; files kept before the index had a key of its own had one key for both. */
function keptKeys(kept: KeptTable): KeptTable & { indexKey: string } {
  if (kept.indexKey !== undefined) return kept as KeptTable & { indexKey: string };
  const old = JSON.parse(kept.key) as { rows: number; batch: number; queries: number; model: unknown; numPartitions: number; numSubVectors: number; numBits?: number; maxIterations: number };
  const indexKey = JSON.stringify({ numPartitions: old.numPartitions, numSubVectors: old.numSubVectors, ...(old.numBits === 4 ? { numBits: 4 } : {}), maxIterations: old.maxIterations });
  return { ...kept, key: tableKey(old), indexKey };
}

/** Peaks as tables kept before the private footprint was read (VmRSS only). */
interface OldPeak { renderer: number; total: number }
const phasePeak = (p: PhasePeak | OldPeak): Partial<PhasePeak> => ("renderer" in p ? { vmRss: p.renderer, chromiumVmRss: p.total } : p);

export const DEFAULT_SWEEP: SearchConfig[] = [
  { nprobes: 20, refineFactor: 10 },
  { nprobes: 40, refineFactor: 10 },
  { nprobes: 40, refineFactor: 30 },
  { nprobes: 80, refineFactor: 30 },
  { nprobes: 80, refineFactor: 50 },
  { nprobes: 120, refineFactor: 50 },
];

/**
 * The sweep at a million rows (1,000 partitions). At 100K (316 partitions) recall@10 reached 0.95
 * at nprobes 40 refine 10 on spectrum-use (recall there is bound by the partitions probed: refine
 * 30 added 0.000) and at nprobes 40 refine 30 on clusters (refine 10: 0.93). Probing the same
 * share of 1,000 partitions is nprobes ~130; the sweep brackets that from below (cheaper, may
 * miss 0.95) and above, with refine 10 for spectrum-like data and 30 for clusters.
 */
export const MILLION_SWEEP: SearchConfig[] = [
  { nprobes: 60, refineFactor: 10 },
  { nprobes: 100, refineFactor: 10 },
  { nprobes: 100, refineFactor: 30 },
  { nprobes: 150, refineFactor: 10 },
  { nprobes: 150, refineFactor: 30 },
  { nprobes: 250, refineFactor: 30 },
];

/** The sweep for a table of `rows`: the one measured at 100K below 500K rows, the million one above. */
export function defaultSweep(rows: number): SearchConfig[] {
  return rows >= 500_000 ? MILLION_SWEEP : DEFAULT_SWEEP;
}

// ── driving the page ────────────────────────────────────────────────────────────────────────

function call<N extends keyof Phases>(page: Page, name: N, arg: Parameters<Phases[N]>[0]): Promise<Awaited<ReturnType<Phases[N]>>> {
  return page.evaluate(([name, arg]) => {
    const phases = (globalThis as unknown as { quiverScale: Record<string, (a: unknown) => Promise<unknown>> }).quiverScale;
    return phases[name]!(arg);
  }, [name, arg] as const) as Promise<Awaited<ReturnType<Phases[N]>>>;
}

async function reload(page: Page, url?: string): Promise<void> {
  if (url) await page.goto(url);
  else await page.reload();
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
}

const mb = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : round(bytes / MB, 0));
const peak = (samples: MemorySample[], f: (s: MemorySample) => number | undefined): number | undefined => {
  const values = samples.map(f).filter((v): v is number => v !== undefined);
  return values.length === 0 ? undefined : Math.max(...values);
};

function recall(found: number[][], truth: number[][]): number {
  let hit = 0;
  found.forEach((ids, i) => {
    const t = new Set(truth[i]);
    hit += ids.filter((id) => t.has(id)).length;
  });
  return hit / (truth.length * K);
}

function sizeLabel(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}K`;
}

/**
 * A fresh page for a build: a reload, then a memory-pressure signal (`settleTab`: every isolate
 * collects its garbage), and the private footprint (bytes) the build starts from, which the results
 * report beside its peak. After a streamed ingest the renderer still holds ~100 MiB of mappings the
 * ingest made (QUIVER_BENCH_SMAPS: the worker is closed and the page reloaded, and the signal does
 * not release them); Chromium lets them go ~15 s into the build, after k-means. A build in a fresh
 * browser (`--keep <dir> --rebuild`) starts without them.
 */
async function freshPageForBuild(page: Page, tab: TabMemory, settleTab: () => Promise<void>): Promise<number> {
  await reload(page);
  await settleTab();
  return tab.sample().renderer?.footprint ?? 0;
}

/**
 * Signals memory pressure, then waits until the renderer's private footprint stops falling (three
 * samples 250 ms apart within 64 KiB), at most 5 s.
 */
async function settle(tab: TabMemory, pressure: () => Promise<unknown>): Promise<void> {
  await pressure();
  let last = Infinity;
  let steady = 0;
  for (let i = 0; i < 20 && steady < 3; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = tab.sample().renderer?.footprint ?? 0;
    steady = Math.abs(last - now) <= 65_536 ? steady + 1 : 0;
    last = now;
  }
}

/** One stage of the query phase: the renderer's figures (proc-memory.ts says which is which), in MiB. */
export interface StageRow {
  stage: string;
  footprint_mb: number;
  vmrss_mb: number;
  private_mb?: number;
  pss_mb?: number;
  rss_file_mb?: number;
  rss_shmem_mb?: number;
}

function stageRow(stage: string, m: ProcMemory): StageRow {
  return {
    stage, footprint_mb: mb(m.footprint)!, vmrss_mb: mb(m.vmRss)!, private_mb: mb(m.privateClean + m.privateDirty),
    pss_mb: mb(m.pss), rss_file_mb: mb(m.rssFile), rss_shmem_mb: mb(m.rssShmem),
  };
}

export interface ChromiumScaleRun {
  rows: ResultRow[];
  browser: string;
  crossOriginIsolated: boolean;
  spectrum?: Omit<FittedSpectrum, "model"> & { meanShare: number; eigenvalues_head: number[] };
  datasets: Record<string, unknown>;
}

/**
 * IVF_RQ on the table just queried with IVF_PQ: built in a fresh worker (same partitions and
 * iterations), queried after a reload over `sweep` against the same ground truth; then the IVF_PQ
 * version is restored (a new version with the old index), so the table ends as it began.
 */
async function rabitq(page: Page, tab: TabMemory, c: {
  name: ScaleDataset; dataset: string; uri: string; model: VectorModel; numPartitions: number; truth: { ids: number[][] };
  rows: number; queries: number; maxIterations: number; sweep: SearchConfig[]; cacheBytes?: number; settleTab: () => Promise<void>;
}): Promise<{ rows: ResultRow[]; summary: Record<string, unknown> }> {
  tab.phase = `${c.name}/rq-reload`;
  const start = await freshPageForBuild(page, tab, c.settleTab);
  tab.phase = `${c.name}/rq-build`;
  progress(`scale/chromium ${c.dataset}: createIndex IVF_RQ (${c.numPartitions} partitions, 1 bit per dimension, ${c.maxIterations} iterations)`);
  const b = await call(page, "build", { uri: c.uri, table: TABLE, kind: "IVF_RQ", numPartitions: c.numPartitions, numSubVectors: 0, maxIterations: c.maxIterations, sampleEveryMs: 2000 });
  const buildPeak = tab.peaks.get(tab.phase)!;
  progress(`  built in ${round(b.build_ms / 1000, 1)} s, ${b.index_bytes} bytes (${round((b.index_bytes ?? 0) / c.rows, 1)} B/vector); private footprint ${mb(start)} MiB at the start, peak ${mb(buildPeak.footprint)} MiB`);
  tab.phase = `${c.name}/rq-reload`;
  await reload(page);
  tab.phase = `${c.name}/rq-query`;
  const q: QueryResult = await call(page, "query", { uri: c.uri, table: TABLE, model: c.model, queries: c.queries, k: K, warmup: 10, sweep: c.sweep, cacheBytes: c.cacheBytes });
  const queryPeak = tab.peaks.get(tab.phase)!;
  tab.phase = `${c.name}/rq-restore`;
  await reload(page);
  await call(page, "restore", { uri: c.uri, table: TABLE, version: b.version_before });
  const common = {
    system: "quiver", variant: "ivf_rq (chromium, opfs, worker)", dataset: c.dataset, metric: "cosine",
    build_s: round(b.build_ms / 1000, 1), index_bytes: b.index_bytes, index_bytes_per_vector: round((b.index_bytes ?? 0) / c.rows, 1),
    build_wasm_peak_mb: mb(peak(b.memory, (s) => s.wasm_reserved)), build_ua_peak_mb: mb(peak(b.memory, (s) => s.ua_bytes)),
    query_wasm_peak_mb: mb(peak(q.memory, (s) => s.wasm_reserved)), query_ua_peak_mb: mb(peak(q.memory, (s) => s.ua_bytes)),
  };
  const rows: ResultRow[] = q.runs.map((run) => {
    const r = recall(run.ids, c.truth.ids);
    progress(`  IVF_RQ nprobes ${run.nprobes} refine ${run.refineFactor}: recall@10 ${round(r, 3)}, p50 ${sig(median(run.latency_ms))} ms`);
    return {
      ...common,
      params: { numPartitions: c.numPartitions, numBits: 1, maxIterations: c.maxIterations, nprobes: run.nprobes, refineFactor: run.refineFactor },
      qps: sig((run.latency_ms.length * 1000) / run.latency_ms.reduce((s, x) => s + x, 0)),
      p50_ms: sig(median(run.latency_ms)), p99_ms: sig(p99(run.latency_ms)), recall_at_10: round(r, 3),
      bytes_fetched: Math.round(run.bytes.reduce((s, x) => s + x, 0) / run.bytes.length),
      requests_per_query: round(run.requests.reduce((s, x) => s + x, 0) / run.requests.length, 1),
      tab_rss_query_peak_mb: mb(queryPeak.vmRss), tab_footprint_query_peak_mb: mb(queryPeak.footprint),
    };
  });
  const summary = {
    build_s: round(b.build_ms / 1000, 1), index_bytes: b.index_bytes, index_bytes_per_vector: common.index_bytes_per_vector, phases_ms: b.phases,
    worker_wasm_reserved_peak_mb: common.build_wasm_peak_mb, ua_memory_peak_mb: common.build_ua_peak_mb, tab_rss_build_peak_mb: mb(buildPeak.vmRss), tab_footprint_build_start_mb: mb(start), tab_footprint_build_peak_mb: mb(buildPeak.footprint),
    open_ms: round(q.open_ms, 1), first_query_ms: round(q.first_query_ms, 1), tab_rss_query_peak_mb: mb(queryPeak.vmRss), tab_footprint_query_peak_mb: mb(queryPeak.footprint),
    worker_cache_peak_mb: mb(peak(q.memory, (s) => s.cache_bytes)),
  };
  return { rows, summary };
}

export async function runChromiumScale(o: ChromiumScaleOptions): Promise<ChromiumScaleRun> {
  const numPartitions = o.numPartitions ?? Math.max(1, Math.round(Math.sqrt(o.rows)));
  const models: { name: ScaleDataset; model: VectorModel }[] = [];
  let fitted: FittedSpectrum | undefined;
  for (const name of o.datasets) {
    if (name === "spectrum") {
      progress("scale/chromium: fitting the spectrum model to USE vectors of the SciFact claims");
      fitted = await fitSpectrum(DIM, 42);
      progress(`  top-10/50/100 variance share: source ${JSON.stringify(fitted.topShare.source)}, model ${JSON.stringify(fitted.topShare.model)}, mean share ${round(fitted.model.meanShare, 3)}`);
      models.push({ name, model: fitted.model });
    } else models.push({ name, model: { kind: "clusters", dim: DIM, clusters: 100, spread: 0.5, seed: 42 } });
  }

  const scratch = o.keep === undefined ? mkdtempSync(join(tmpdir(), "quiver-bench-scale-")) : resolve(o.keep);
  mkdirSync(scratch, { recursive: true });
  const site = join(scratch, "www");
  const data = join(scratch, "data");
  mkdirSync(data, { recursive: true });
  progress("scale/chromium: vite build of bench/scale-page");
  await buildBenchPage(join(benchDir, "scale-page"), site, [
    { find: /^quiverdb$/, replacement: join(root, "src/index.ts") },
    { find: /^quiverdb\/worker$/, replacement: join(root, "src/worker/index.ts") },
  ], !process.env.QUIVER_BENCH_CPU_PROFILE);
  // OPFS belongs to the origin: a kept profile is served from the port it was first served from.
  const portFile = join(scratch, "port");
  const keptPort = o.keep !== undefined && existsSync(portFile) ? Number(readFileSync(portFile, "utf8")) : 0;
  const { server, origin } = await staticServer(site, data, { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" }, keptPort);
  if (o.keep !== undefined) writeFileSync(portFile, new URL(origin).port);
  const { chromium } = await import("@playwright/test");
  const launch = await playwrightLaunchOptions();
  const context = await chromium.launchPersistentContext(join(scratch, "profile"), {
    headless: true, ...launch,
    // QUIVER_BENCH_JS_FLAGS: V8 flags for a diagnosis (e.g. "--max-semi-space-size=1": does the footprint follow the young generation?).
    args: [...(launch.args ?? []), "--enable-blink-features=ForceEagerMeasureMemory", ...(process.env.QUIVER_BENCH_JS_FLAGS ? [`--js-flags=${process.env.QUIVER_BENCH_JS_FLAGS}`] : [])],
  });
  const tab = new TabMemory();
  const out: ChromiumScaleRun = { rows: [], browser: "", crossOriginIsolated: false, datasets: {} };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => progress(`page error: ${e.message}`));
    await page.exposeFunction("quiverScaleProgress", (line: string) => { progress(`  ${line}`); tab.trace(line); });
    let stagePrefix = "";
    await page.exposeFunction("quiverScaleMark", (stage: string) => void tab.mark(`${stagePrefix}${stage}`));
    const cdp = await context.newCDPSession(page);
    const settleTab = () => settle(tab, () => cdp.send("Memory.simulatePressureNotification", { level: "critical" }));
    await page.exposeFunction("quiverScaleSettle", settleTab);
    // QUIVER_BENCH_CPU_PROFILE: a profile of the query worker per timed pass (the page brackets each).
    let profiler: WorkerProfiler | undefined;
    let profileLabel = "";
    await page.exposeFunction("quiverScaleTimed", (what: "start" | "stop", label: string) =>
      what === "start" ? profiler?.start() : profiler?.stop(process.env.QUIVER_BENCH_CPU_PROFILE!, `${profileLabel}-${label}`));
    await reload(page, `${origin}/index.html`);
    out.browser = `Chromium ${context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent))}`;
    out.crossOriginIsolated = await page.evaluate(() => globalThis.crossOriginIsolated);
    if (!out.crossOriginIsolated) progress("scale/chromium: the page is not crossOriginIsolated; measureUserAgentSpecificMemory is not available");

    for (const { name, model } of models) {
      const dataset = `${name === "spectrum" ? "spectrum-use" : "clusters"}-${sizeLabel(o.rows)}-${DIM}d`;
      const uri = `opfs://scale-${name}`;
      const keptFile = o.keep === undefined ? undefined : join(scratch, `${name}.json`);
      const key = tableKey({ rows: o.rows, batch: o.batch, queries: o.queries, model });
      const indexKey = JSON.stringify({ numPartitions, numSubVectors: o.numSubVectors, ...(o.numBits === 4 ? { numBits: 4 } : {}), maxIterations: o.maxIterations });
      let kept = keptFile !== undefined && existsSync(keptFile) ? keptKeys(JSON.parse(readFileSync(keptFile, "utf8")) as KeptTable) : undefined;
      if (kept !== undefined && kept.key !== key) kept = undefined;
      // A kept table with another index: the index is built again (createIndex replaces it); ingest and ground truth stay.
      const keptIndex = kept !== undefined && kept.indexKey === indexKey && o.rebuild !== true;
      let ing: IngestResult;
      let b: BuildResult;
      if (kept !== undefined) {
        progress(`scale/chromium ${dataset}: the table kept in ${scratch} (ingest${keptIndex ? ", build" : ""} and ground truth as measured then)`);
        ing = kept.ing;
      } else {
        progress(`scale/chromium ${dataset}: ingest ${o.rows} rows in batches of ${o.batch}`);
        tab.phase = `${name}/ingest`;
        tab.trace("ingest start");
        ing = await call(page, "ingest", { uri, table: TABLE, model, rows: o.rows, batch: o.batch, stream: o.stream });
        if (ing.rows !== o.rows) throw new Error(`${dataset}: the table holds ${ing.rows} rows, not ${o.rows}`);
        progress(`  ${round(o.rows / (ing.add_ms / 1000), 0)} rows/s (add calls), drawing ${round(ing.generate_ms / 1000, 1)} s`);
        const p = tab.peaks.get(tab.phase)!;
        progress(`  ingest peaks: tab private footprint ${mb(p.footprint)} MiB, renderer VmRSS ${mb(p.vmRss)} MiB, Chromium VmRSS ${mb(p.chromiumVmRss)} MiB`);
        if (o.ingestOnly === true) continue;
      }
      if (kept !== undefined && keptIndex) b = kept.b;
      else {
        // A fresh page: the build's memory is measured, not what the ingest's batches left for the GC.
        tab.phase = `${name}/build-reload`;
        const start = await freshPageForBuild(page, tab, settleTab);
        tab.phase = `${name}/build`;
        progress(`scale/chromium ${dataset}: createIndex IVF_PQ (${numPartitions} partitions, ${o.numSubVectors} sub-vectors of ${o.numBits ?? 8} bits, ${o.maxIterations} iterations)`);
        tab.trace("build start");
        b = await call(page, "build", {
          uri, table: TABLE, numPartitions, numSubVectors: o.numSubVectors, numBits: o.numBits, maxIterations: o.maxIterations, sampleEveryMs: 2000,
        });
        b.tab_footprint_start = start;
        for (const s of b.memory) tab.trace(`build sample at ${s.at_ms} ms: wasm reserved ${mb(s.wasm_reserved)} allocated ${mb(s.wasm_allocated)} ua ${mb(s.ua_bytes)} (workers ${mb(s.ua_worker_bytes)}) main heap ${mb(s.main_js_heap)} MiB`);
        progress(`  built in ${round(b.build_ms / 1000, 1)} s, ${b.index_bytes} bytes; worker WebAssembly peak ${mb(peak(b.memory, (s) => s.wasm_reserved))} MiB, renderer VmRSS peak ${mb(tab.peaks.get(tab.phase)?.vmRss)} MiB, private footprint ${mb(start)} MiB at the start, peak ${mb(tab.peaks.get(tab.phase)?.footprint)} MiB`);
      }

      tab.phase = `${name}/reload`;
      await reload(page);
      stagePrefix = `${name}/`;
      const baseline = tab.mark(`${name}/page loaded`);
      tab.phase = `${name}/query`;
      if (process.env.QUIVER_BENCH_CPU_PROFILE) [profiler, profileLabel] = [await WorkerProfiler.attach(cdp), name];
      const q: QueryResult = await call(page, "query", { uri, table: TABLE, model, queries: o.queries, k: K, warmup: 10, sweep: o.sweep, cacheBytes: o.cacheBytes });
      await profiler?.detach();
      profiler = undefined;
      const queryPeak = tab.peaks.get(tab.phase)!;
      const stages = [...tab.marks].filter(([label]) => label.startsWith(stagePrefix)).map(([label, m]) => stageRow(label.slice(stagePrefix.length), m));
      stages.push({ stage: "peak over the queries (250 ms samples)", vmrss_mb: mb(queryPeak.vmRss)!, footprint_mb: mb(queryPeak.footprint)! });
      for (const st of stages) progress(`  ${st.stage}: private footprint ${st.footprint_mb} MiB, VmRSS ${st.vmrss_mb} MiB`);

      let truth: KeptTable["truth"];
      if (kept !== undefined) truth = kept.truth;
      else {
        tab.phase = `${name}/exact`;
        await reload(page);
        progress(`scale/chromium ${dataset}: exact ground truth`);
        truth = await call(page, "exact", { uri, table: TABLE, model, queries: o.queries, k: K, rows: o.rows, chunk: o.batch });
      }
      const rq = o.rqSweep === undefined ? undefined : await rabitq(page, tab, { name, dataset, uri, model, numPartitions, truth, rows: o.rows, queries: o.queries, maxIterations: o.maxIterations, sweep: o.rqSweep, cacheBytes: o.cacheBytes, settleTab });
      if (keptFile === undefined) {
        tab.phase = `${name}/drop`;
        await reload(page);
        await call(page, "drop", { uri, name: TABLE });
      }

      const buildPeak = phasePeak((keptIndex ? kept?.buildPeak : undefined) ?? tab.peaks.get(`${name}/build`)!);
      const ingestPeak = phasePeak(kept?.ingestPeak ?? tab.peaks.get(`${name}/ingest`)!);
      if (keptFile !== undefined && !keptIndex) {
        writeFileSync(keptFile, JSON.stringify({
          key, indexKey, ing, b, truth, ingestPeak: kept?.ingestPeak ?? tab.peaks.get(`${name}/ingest`)!, buildPeak: tab.peaks.get(`${name}/build`)!,
        } satisfies KeptTable));
      }
      const common = {
        system: "quiver", variant: "ivf_pq (chromium, opfs, worker)", dataset, metric: "cosine",
        rows_per_s: sig(o.rows / (ing.add_ms / 1000)), build_s: round(b.build_ms / 1000, 1), index_bytes: b.index_bytes,
        build_wasm_peak_mb: mb(peak(b.memory, (s) => s.wasm_reserved)), build_ua_peak_mb: mb(peak(b.memory, (s) => s.ua_bytes)),
        query_wasm_peak_mb: mb(peak(q.memory, (s) => s.wasm_reserved)), query_ua_peak_mb: mb(peak(q.memory, (s) => s.ua_bytes)),
      };
      for (const run of q.runs) {
        const r = recall(run.ids, truth.ids);
        out.rows.push({
          ...common,
          params: { numPartitions, numSubVectors: o.numSubVectors, numBits: o.numBits ?? 8, maxIterations: o.maxIterations, nprobes: run.nprobes, refineFactor: run.refineFactor },
          qps: sig((run.latency_ms.length * 1000) / run.latency_ms.reduce((s, x) => s + x, 0)),
          p50_ms: sig(median(run.latency_ms)), p99_ms: sig(p99(run.latency_ms)), recall_at_10: round(r, 3),
          bytes_fetched: Math.round(run.bytes.reduce((s, x) => s + x, 0) / run.bytes.length),
          requests_per_query: round(run.requests.reduce((s, x) => s + x, 0) / run.requests.length, 1),
          tab_rss_query_peak_mb: mb(queryPeak.vmRss), tab_footprint_query_peak_mb: mb(queryPeak.footprint), ...(o.cacheBytes === undefined ? {} : { cache_bytes: o.cacheBytes }),
        });
        progress(`  nprobes ${run.nprobes} refine ${run.refineFactor}: recall@10 ${round(r, 3)}, p50 ${sig(median(run.latency_ms))} ms, p99 ${sig(p99(run.latency_ms))} ms, ${out.rows.at(-1)!.bytes_fetched} B/query`);
      }
      if (rq !== undefined) out.rows.push(...rq.rows);
      out.datasets[dataset] = {
        model: name === "spectrum" ? { kind: "spectrum", dim: DIM, seed: 42, meanShare: fitted!.model.meanShare } : model,
        ingest: {
          rows: o.rows, batch: o.batch, stream_batch: o.stream, batches: ing.batches, add_s: round(ing.add_ms / 1000, 1), rows_per_s: round(o.rows / (ing.add_ms / 1000), 0),
          generate_s: round(ing.generate_ms / 1000, 1), wall_s: round(ing.wall_ms / 1000, 1), progress_calls: ing.progress_calls,
          origin_usage_bytes: ing.origin_usage, tab_rss_peak_mb: mb(ingestPeak.vmRss), tab_footprint_peak_mb: mb(ingestPeak.footprint), chromium_rss_peak_mb: mb(ingestPeak.chromiumVmRss),
        },
        build: {
          build_s: round(b.build_ms / 1000, 1), index_bytes: b.index_bytes, phases_ms: b.phases, progress_calls: b.progress_calls,
          worker_wasm_reserved_peak_mb: mb(peak(b.memory, (s) => s.wasm_reserved)), worker_wasm_allocated_peak_mb: mb(peak(b.memory, (s) => s.wasm_allocated)),
          ua_memory_peak_mb: mb(peak(b.memory, (s) => s.ua_bytes)), ua_worker_peak_mb: mb(peak(b.memory, (s) => s.ua_worker_bytes)),
          tab_rss_peak_mb: mb(buildPeak.vmRss), tab_footprint_start_mb: mb(b.tab_footprint_start), tab_footprint_peak_mb: mb(buildPeak.footprint), chromium_rss_peak_mb: mb(buildPeak.chromiumVmRss), memory_samples: b.memory.length,
        },
        query: {
          open_ms: round(q.open_ms, 1), first_query_ms: round(q.first_query_ms, 1), first_query_bytes: q.first_query_bytes,
          tab_rss_before_open_mb: mb(baseline?.vmRss), tab_rss_peak_mb: mb(queryPeak.vmRss), chromium_rss_peak_mb: mb(queryPeak.chromiumVmRss),
          tab_footprint_before_open_mb: mb(baseline?.footprint), tab_footprint_peak_mb: mb(queryPeak.footprint), cache_bytes: o.cacheBytes ?? 256 * MB,
          stages,
          worker_wasm_reserved_peak_mb: mb(peak(q.memory, (s) => s.wasm_reserved)), worker_cache_peak_mb: mb(peak(q.memory, (s) => s.cache_bytes)),
          ua_memory_peak_mb: mb(peak(q.memory, (s) => s.ua_bytes)), ua_worker_peak_mb: mb(peak(q.memory, (s) => s.ua_worker_bytes)),
          memory: q.memory.map((s) => ({ ...s, wasm_reserved: mb(s.wasm_reserved), wasm_allocated: mb(s.wasm_allocated), cache_bytes: mb(s.cache_bytes), ua_bytes: mb(s.ua_bytes), ua_worker_bytes: mb(s.ua_worker_bytes), main_js_heap: mb(s.main_js_heap) })),
        },
        exact: { s: round(truth.ms / 1000, 1), method: `table.search(all ${o.queries} queries).bypassVectorIndex().where(id range of ${o.batch})` },
        ...(rq === undefined ? {} : { ivf_rq: rq.summary }),
      };
    }
  } finally {
    tab.stop();
    await context.close();
    server.close();
    if (o.keep === undefined) rmSync(scratch, { recursive: true, force: true });
  }
  if (fitted) {
    out.spectrum = {
      source: fitted.source, topShare: fitted.topShare, meanShare: round(fitted.model.meanShare, 4),
      eigenvalues_head: fitted.model.eigenvalues.slice(0, 16).map((x) => sig(x, 4)),
    };
  }
  return out;
}
