/**
 * Storage: ingest throughput and cold open → first answered query, glove-100d-100k (100K rows: id,
 * word, 100-d float32 vector), side by side in one run:
 *
 *   quiver fs            connect(tmpdir): createTable + add, then a fresh process per cold open
 *   @lancedb/lancedb fs  the same rows (and the same Arrow schema) into a temp dir, native
 *   quiver idb / opfs    in Chromium (Playwright, same executable and flags as playwright.config.ts),
 *                        on a `vite build` of bench/storage-page served with the data by a small
 *                        static server; cold open = page reload, then connect + openTable + search
 *
 * Ingest is timed from before `connect` to the last commit, with the rows already in memory as
 * objects `{ id, word, vector: Float32Array }` (what an embedding pipeline hands over), either in
 * batches of 10K (createTable + 9 adds) or in one createTable call. Cold open is timed inside the
 * fresh process / page from before `connect` to the first top-10 (cosine, exact: no index).
 *
 *   npm run bench -- storage            full run, writes bench/results/storage.{json,md}
 *   npm run bench -- storage --quick    1 ingest and 3 cold opens per configuration, prints only
 *   npm run bench -- storage --no-browser   Node rows only
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Row } from "../src/index.js";
import { loadGlove, recallAtK } from "./datasets.js";
import { buildBenchPage, playwrightLaunchOptions, staticServer } from "./browser-page.js";
import { machineInfo, median, progress, round, sig, writeResults, type ResultRow } from "./report.js";

const benchFile = fileURLToPath(import.meta.url);
const benchDir = dirname(benchFile);
const root = resolve(benchDir, "..");
const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const BROWSER = !args.includes("--no-browser");
const INGEST_REPS = QUICK ? 1 : 3;
const OPEN_REPS = QUICK ? 3 : 5;
const BATCH = 10_000;
const TABLE = "glove";
const K = 10;

type Mode = "batched" | "single";
const MODES: Mode[] = ["batched", "single"];
const modeLabel = (m: Mode): string => (m === "batched" ? `createTable + adds of ${BATCH / 1000}K` : "one createTable");

// ── cold-open child ─────────────────────────────────────────────────────────────────────────

interface OpenTiming {
  /** connect + openTable. */
  open_ms: number;
  first_query_ms: number;
  total_ms: number;
  warm_query_ms: number;
  ids: number[];
  /** Spawn to exit, measured by the parent: process start, module loading and the above. */
  process_ms?: number;
}

/**
 * `storage.ts --open-child <system> <dir> <query.f32>`: loads the library first (not timed), then
 * times connect + openTable + one cosine top-10, prints the timings as one JSON line.
 */
async function openChild(system: string, dir: string, queryFile: string): Promise<void> {
  const buf = readFileSync(queryFile);
  const query = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  let run: () => Promise<OpenTiming>;
  if (system === "quiver") {
    const { connect } = await import("../src/index.js");
    run = async () => {
      const t0 = performance.now();
      const db = await connect(dir);
      const table = await db.openTable(TABLE);
      const t1 = performance.now();
      const hits = await table.search(query).distanceType("cosine").limit(K).toArray();
      const t2 = performance.now();
      await table.search(query).distanceType("cosine").limit(K).toArray();
      const t3 = performance.now();
      return { open_ms: t1 - t0, first_query_ms: t2 - t1, total_ms: t2 - t0, warm_query_ms: t3 - t2, ids: hits.map((h) => h.id as number) };
    };
  } else {
    const lancedb = await import("@lancedb/lancedb");
    run = async () => {
      const t0 = performance.now();
      const db = await lancedb.connect(dir);
      const table = await db.openTable(TABLE);
      const t1 = performance.now();
      const hits = await table.vectorSearch(query).distanceType("cosine").limit(K).toArray();
      const t2 = performance.now();
      await table.vectorSearch(query).distanceType("cosine").limit(K).toArray();
      const t3 = performance.now();
      return { open_ms: t1 - t0, first_query_ms: t2 - t1, total_ms: t2 - t0, warm_query_ms: t3 - t2, ids: hits.map((h) => h.id as number) };
    };
  }
  process.stdout.write(JSON.stringify(await run()) + "\n");
  process.exit(0); // LanceDB's runtime threads would otherwise keep the process alive a while
}

/** One cold open in a fresh `node --import tsx` process. */
function coldOpenProcess(system: string, dir: string, queryFile: string): Promise<OpenTiming> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["--import", "tsx", benchFile, "--open-child", system, dir, queryFile], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`cold-open child (${system}) exited with ${code}`));
      resolvePromise({ ...(JSON.parse(out.trim().split("\n").at(-1)!) as OpenTiming), process_ms: performance.now() - t0 });
    });
  });
}

// ── data ────────────────────────────────────────────────────────────────────────────────────

interface Data {
  n: number;
  dim: number;
  base: Float32Array;
  words: string[];
  query: Float32Array;
  /** Ground-truth top-10 of the query (published angular ground truth). */
  truth: Int32Array;
  rows: Row[];
}

function loadData(): Data {
  const g = loadGlove("cosine");
  const { n, dim, data: base } = g.base;
  const words = g.words!;
  const rows = Array.from({ length: n }, (_, i): Row => ({ id: i, word: words[i]!, vector: base.subarray(i * dim, (i + 1) * dim) }));
  return {
    n, dim, base, words, rows,
    query: g.queries.data.slice(0, dim),
    truth: g.groundTruth.data.slice(0, g.groundTruth.dim),
  };
}

function recall(ids: number[], truth: Int32Array): number {
  return recallAtK([ids], { n: 1, dim: truth.length, data: truth }, K);
}

function dirBytes(path: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) {
      const sub = dirBytes(p);
      bytes += sub.bytes;
      files += sub.files;
    } else {
      bytes += statSync(p).size;
      files++;
    }
  }
  return { bytes, files };
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

// ── Node ingest ─────────────────────────────────────────────────────────────────────────────

interface Ingested {
  ms: number[];
  dir: string;
  bytes: number;
  files: number;
}

type Ingest = (dir: string, data: Data, mode: Mode) => Promise<void>;

async function ingestQuiver(dir: string, data: Data, mode: Mode): Promise<void> {
  const { connect, schema, field, DataTypes } = await import("../src/index.js");
  const s = schema([field("id", DataTypes.int32(), false), field("word", DataTypes.utf8()), field("vector", DataTypes.vector(data.dim))]);
  const db = await connect(dir);
  const first = mode === "single" ? data.n : BATCH;
  const table = await db.createTable(TABLE, data.rows.slice(0, first), { schema: s });
  for (let at = first; at < data.n; at += BATCH) await table.add(data.rows.slice(at, at + BATCH));
  await db.close();
}

async function lanceSchema(dim: number): Promise<import("apache-arrow").Schema> {
  const arrow = await import("apache-arrow");
  return new arrow.Schema([
    new arrow.Field("id", new arrow.Int32(), false),
    new arrow.Field("word", new arrow.Utf8(), true),
    new arrow.Field("vector", new arrow.FixedSizeList(dim, new arrow.Field("item", new arrow.Float32(), true)), true),
  ]);
}

async function ingestLance(dir: string, data: Data, mode: Mode): Promise<void> {
  const lancedb = await import("@lancedb/lancedb");
  const schema = await lanceSchema(data.dim);
  const db = await lancedb.connect(dir);
  const first = mode === "single" ? data.n : BATCH;
  const table = await db.createTable(TABLE, data.rows.slice(0, first), { schema });
  for (let at = first; at < data.n; at += BATCH) await table.add(data.rows.slice(at, at + BATCH));
  table.close();
  db.close();
}

/** LanceDB's fast path for context: the same data as Arrow record batches (columnar, no row objects). */
async function ingestLanceArrow(dir: string, data: Data, mode: Mode): Promise<void> {
  const lancedb = await import("@lancedb/lancedb");
  const arrow = await import("apache-arrow");
  const schema = await lanceSchema(data.dim);
  const batch = (from: number, to: number): import("apache-arrow").Table => {
    const n = to - from;
    const vectorType = schema.fields[2]!.type as import("apache-arrow").FixedSizeList;
    const ids = arrow.makeData({ type: new arrow.Int32(), length: n, data: Int32Array.from({ length: n }, (_, i) => from + i) });
    const words = arrow.vectorFromArray(data.words.slice(from, to), new arrow.Utf8()).data[0]!;
    const values = arrow.makeData({ type: new arrow.Float32(), length: n * data.dim, data: data.base.subarray(from * data.dim, to * data.dim) });
    const vectors = arrow.makeData({ type: vectorType, length: n, nullCount: 0, child: values });
    const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children: [ids, words, vectors] });
    return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
  };
  const db = await lancedb.connect(dir);
  const first = mode === "single" ? data.n : BATCH;
  const table = await db.createTable(TABLE, batch(0, first));
  for (let at = first; at < data.n; at += BATCH) await table.add(batch(at, Math.min(data.n, at + BATCH)));
  table.close();
  db.close();
}

async function timeIngest(name: string, ingest: Ingest, data: Data, mode: Mode, scratch: string): Promise<Ingested> {
  const ms: number[] = [];
  let dir = "";
  for (let rep = 0; rep < INGEST_REPS; rep++) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(scratch, `${name}-${mode}-`));
    gc();
    const t = performance.now();
    await ingest(dir, data, mode);
    ms.push(performance.now() - t);
    progress(`  ${name} ${mode}: ${Math.round(ms.at(-1)!)} ms`);
  }
  return { ms, dir, ...dirBytes(join(dir, `${TABLE}.quiver`)) };
}

async function coldOpens(system: string, dir: string, queryFile: string): Promise<OpenTiming[]> {
  await coldOpenProcess(system, dir, queryFile); // warm-up: tsx's compile cache, the page cache
  const out: OpenTiming[] = [];
  for (let i = 0; i < OPEN_REPS; i++) out.push(await coldOpenProcess(system, dir, queryFile));
  return out;
}

// ── Chromium ────────────────────────────────────────────────────────────────────────────────

interface BrowserIngest {
  context: string;
  rows: number;
  ms: number;
  bytes: number;
  files: number;
  originUsage?: number;
}

interface BrowserOpen extends OpenTiming {
  connect_ms: number;
  store?: { calls: Record<string, number>; bytesRead: number; ms: Record<string, number> };
}


interface BrowserRun {
  ingests: Map<string, BrowserIngest[]>;
  opens: Map<string, BrowserOpen[]>;
  profiles: Map<string, BrowserOpen>;
  version: string;
}

type Where = "main" | "worker";
const BROWSER_VARIANTS: { backend: "idb" | "opfs"; where: Where }[] = [
  { backend: "idb", where: "main" },
  { backend: "opfs", where: "main" },
  { backend: "opfs", where: "worker" },
];

async function runBrowser(data: Data, scratch: string): Promise<BrowserRun> {
  const dataDir = join(scratch, "www-data");
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, "base.f32"), new Uint8Array(data.base.buffer, data.base.byteOffset, data.base.byteLength));
  writeFileSync(join(dataDir, "words.txt"), data.words.join("\n"));
  writeFileSync(join(dataDir, "query.f32"), new Uint8Array(data.query.buffer, data.query.byteOffset, data.query.byteLength));
  writeFileSync(join(dataDir, "meta.json"), JSON.stringify({ n: data.n, dim: data.dim }));

  progress("chromium: vite build of bench/storage-page");
  const site = join(scratch, "www");
  await buildBenchPage(join(benchDir, "storage-page"), site);
  const { server, origin } = await staticServer(site, dataDir);
  const { chromium } = await import("@playwright/test");
  const launch = await playwrightLaunchOptions();
  // A persistent profile on disk: IndexedDB and OPFS of an incognito context live in memory.
  const profile = join(scratch, "chromium-profile");
  const context = await chromium.launchPersistentContext(profile, { headless: true, ...launch });
  const run: BrowserRun = { ingests: new Map(), opens: new Map(), profiles: new Map(), version: context.browser()?.version() ?? "" };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => progress(`page error: ${e.message}`));
    run.version ||= await page.evaluate(() => navigator.userAgent);
    const ready = async (): Promise<void> => { await page.waitForSelector("body[data-ready=true]", { state: "attached" }); };
    const call = <T>(where: Where, name: string, ...a: unknown[]): Promise<T> =>
      page.evaluate(([where, name, a]) => {
        const b = (globalThis as unknown as { quiverBench: { main: Record<string, (...x: unknown[]) => Promise<unknown>>; inWorker: (n: string, ...x: unknown[]) => Promise<unknown> } }).quiverBench;
        return where === "main" ? b.main[name]!(...a) : b.inWorker(name, ...a);
      }, [where, name, a] as const) as Promise<T>;
    await page.goto(`${origin}/index.html`);
    await ready();
    for (const { backend, where } of BROWSER_VARIANTS) {
      for (const mode of MODES) {
        const key = `${backend}/${where}/${mode}`;
        const results: BrowserIngest[] = [];
        let uri = "";
        for (let rep = 0; rep < INGEST_REPS; rep++) {
          uri = `${backend}://bench-${where}-${mode}-${rep}`;
          await page.reload();
          await ready();
          const r = await call<BrowserIngest>(where, "ingest", uri, mode);
          if (r.rows !== data.n) throw new Error(`${key}: ingest left ${r.rows} rows`);
          results.push(r);
          progress(`  quiver ${key}: ingest ${Math.round(r.ms)} ms, ${r.bytes} bytes in ${r.files} objects`);
        }
        run.ingests.set(key, results);
        const opens: BrowserOpen[] = [];
        for (let i = 0; i < OPEN_REPS + 1; i++) {
          await page.reload();
          await ready();
          const o = await call<BrowserOpen>(where, "coldOpen", uri, false);
          if (i > 0) opens.push(o); // the first reload warms the HTTP cache of the page's own files
        }
        run.opens.set(key, opens);
        await page.reload();
        await ready();
        run.profiles.set(key, await call<BrowserOpen>(where, "coldOpen", uri, true));
        progress(`  quiver ${key}: cold open → first result ${round(median(opens.map((o) => o.total_ms)), 1)} ms (median of ${opens.length})`);
      }
    }
  } finally {
    await context.close();
    server.close();
  }
  return run;
}

// ── main ────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "quiver-bench-storage-"));
  const rows: ResultRow[] = [];
  const loadAtStart = loadavg()[0]!;
  try {
    progress("loading glove-100d-100k");
    const data = loadData();
    const queryFile = join(scratch, "query.f32");
    writeFileSync(queryFile, new Uint8Array(data.query.buffer, data.query.byteOffset, data.query.byteLength));
    const dataset = "glove-100d-100k";

    const systems: { system: string; input: string; ingest: Ingest; opener: string }[] = [
      { system: "quiver", input: "row objects", ingest: ingestQuiver, opener: "quiver" },
      { system: "@lancedb/lancedb", input: "row objects", ingest: ingestLance, opener: "lancedb" },
      { system: "@lancedb/lancedb", input: "Arrow table", ingest: ingestLanceArrow, opener: "lancedb" },
    ];
    for (const s of systems) {
      for (const mode of MODES) {
        progress(`${s.system} fs (${s.input}), ${modeLabel(mode)}: ingest × ${INGEST_REPS}`);
        const ing = await timeIngest(`${s.opener}-${s.input === "Arrow table" ? "arrow" : "rows"}`, s.ingest, data, mode, scratch);
        const opens = s.input === "Arrow table" ? [] : await coldOpens(s.opener, ing.dir, queryFile);
        const ms = median(ing.ms);
        rows.push({
          system: s.system, variant: "fs", context: "node", input: s.input, mode: modeLabel(mode), dataset,
          rows_per_s: sig(data.n / (ms / 1000)), ingest_s: round(ms / 1000, 2), ingest_runs_s: ing.ms.map((x) => round(x / 1000, 2)),
          ...openFigures(opens, data.truth),
          bytes: ing.bytes, files: ing.files,
        });
        rmSync(ing.dir, { recursive: true, force: true });
        if (opens.length) progress(`  cold open → first result ${rows.at(-1)!.cold_total_ms} ms (process ${rows.at(-1)!.process_ms} ms)`);
      }
    }

    let browserVersion: string | undefined;
    if (BROWSER) {
      const run = await runBrowser(data, scratch);
      browserVersion = run.version;
      for (const { backend, where } of BROWSER_VARIANTS) {
        for (const mode of MODES) {
          const key = `${backend}/${where}/${mode}`;
          const ing = run.ingests.get(key)!;
          const ms = median(ing.map((r) => r.ms));
          const prof = run.profiles.get(key)!;
          rows.push({
            system: "quiver", variant: backend, context: where, input: "row objects", mode: modeLabel(mode), dataset,
            rows_per_s: sig(data.n / (ms / 1000)), ingest_s: round(ms / 1000, 2), ingest_runs_s: ing.map((r) => round(r.ms / 1000, 2)),
            ...openFigures(run.opens.get(key)!, data.truth),
            connect_ms: round(median(run.opens.get(key)!.map((o) => o.connect_ms)), 1),
            bytes: ing.at(-1)!.bytes, files: ing.at(-1)!.files, origin_usage: ing.at(-1)!.originUsage,
            bytes_fetched: prof.store?.bytesRead, store_calls: prof.store?.calls,
            store_ms: Object.fromEntries(Object.entries(prof.store?.ms ?? {}).map(([k, v]) => [k, round(v, 1)])),
          });
        }
      }
    }

    const results = {
      benchmark: "storage",
      date: new Date().toISOString(),
      machine: machineInfo(
        `1-minute load average ${round(loadAtStart, 1)} at the start, ${round(loadavg()[0]!, 1)} at the end (a shared machine: compare rows of one run, not runs)` +
        (BROWSER ? `; Chromium ${browserVersion} (headless, persistent on-disk profile)` : ""),
      ),
      params: { batch_rows: BATCH, ingest_reps: INGEST_REPS, cold_open_reps: OPEN_REPS, k: K, metric: "cosine", query: "first glove100k query (exact search, no index)" },
      rows,
    };
    if (QUICK) {
      console.log(JSON.stringify(results, null, 2));
      return;
    }
    const { md } = writeResults(results, {
      title: "Storage: ingest and cold open",
      intro: [
        "Ingest: rows/s of glove-100d-100k (100K rows: `id` int32, `word` utf8, `vector` 100-d float32) from row objects already in memory, timed from before `connect` to the last commit; median of the runs listed. " +
        "Cold open: a fresh process (Node: `node --import tsx`, library imported before the clock starts) or a reloaded page (Chromium) times `connect` + `openTable` (open_ms) and the first cosine top-10 (first_query_ms); medians of " + OPEN_REPS + " runs after one warm-up. " +
        "No vector index: both systems scan all 100K vectors. The JSON also has each run, the Node children's spawn-to-exit time (`process_ms`: includes tsx compiling Quiver's TypeScript, so not a fair comparison) and, for Chromium, what one profiled cold open read from the store (`bytes_fetched`, `store_calls`, summed `store_ms`).",
        "Goals (issue 3): cold open → first result under 300 ms in Chromium OPFS; ingest within 2× of LanceDB native on the file system.",
      ],
      groupBy: "dataset",
      columns: [
        { heading: "system", value: (r) => r.system },
        { heading: "variant", value: (r) => `${r.variant as string}${r.context === "node" ? "" : ` (${r.context as string})`}` },
        { heading: "input", value: (r) => `${r.input as string}, ${r.mode as string}` },
        { heading: "rows/s", value: (r) => r.rows_per_s },
        { heading: "open ms (p50)", value: (r) => r.open_ms },
        { heading: "first query ms (p50)", value: (r) => r.first_query_ms },
        { heading: "cold → first result ms (p50)", value: (r) => r.cold_total_ms },
        { heading: "warm query ms", value: (r) => r.warm_query_ms },
        { heading: "bytes", value: (r) => r.bytes },
        { heading: "recall@10", value: (r) => r.recall_at_10 },
      ],
      notes: notes(rows),
      reproduce: "npm run bench -- storage",
    });
    progress(`wrote ${md}`);
    console.log(readFileSync(md, "utf8"));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function openFigures(opens: OpenTiming[], truth: Int32Array): Record<string, unknown> {
  if (opens.length === 0) return {};
  const m = (f: (o: OpenTiming) => number): number => round(median(opens.map(f)), 1);
  return {
    open_ms: m((o) => o.open_ms), first_query_ms: m((o) => o.first_query_ms), cold_total_ms: m((o) => o.total_ms),
    cold_total_runs_ms: opens.map((o) => round(o.total_ms, 1)), warm_query_ms: m((o) => o.warm_query_ms),
    process_ms: opens[0]!.process_ms === undefined ? undefined : m((o) => o.process_ms!),
    recall_at_10: round(recall(opens[0]!.ids, truth), 2),
  };
}

function notes(rows: ResultRow[]): string[] {
  const find = (system: string, variant: string, input: string, mode: Mode, context = "node"): ResultRow | undefined =>
    rows.find((r) => r.system === system && r.variant === variant && r.input === input && r.mode === modeLabel(mode) && r.context === context);
  const out: string[] = [];
  for (const mode of MODES) {
    const q = find("quiver", "fs", "row objects", mode);
    const l = find("@lancedb/lancedb", "fs", "row objects", mode);
    if (q && l) {
      const ratio = (q.rows_per_s as number) / (l.rows_per_s as number);
      out.push(`- Ingest, ${modeLabel(mode)}: Quiver ${q.rows_per_s} rows/s, LanceDB ${l.rows_per_s} rows/s from the same row objects: Quiver at ${round(ratio, 2)}× LanceDB's rate (goal ≥ 0.5×): ${ratio >= 0.5 ? "met" : "NOT met"}.`);
    }
  }
  for (const where of ["main", "worker"]) {
    for (const mode of MODES) {
      const o = find("quiver", "opfs", "row objects", mode, where);
      if (o) out.push(`- Cold open → first result, OPFS ${where} thread, table from ${modeLabel(mode)}: ${o.cold_total_ms} ms (goal < 300 ms): ${(o.cold_total_ms as number) < 300 ? "met" : "NOT met"}.`);
    }
  }
  return [out.join("\n")];
}

const childAt = args.indexOf("--open-child");
if (childAt >= 0) await openChild(args[childAt + 1]!, args[childAt + 2]!, args[childAt + 3]!);
else await main();
