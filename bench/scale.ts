/**
 * Scale: Quiver at a million rows. Parts (all by default, or name them):
 *
 *   chromium   1,000,000 × 384 in real Chromium: OPFS, the database in a dedicated worker,
 *              ingest → IVF_PQ build → reload → top-10 queries (bench/scale-chromium.ts)
 *   sharded    one published table vs N shards over HTTP with added latency (bench/scale-sharded.ts;
 *              its own runner bench/scale-sharded-main.ts, writing bench/results/scale-sharded.{json,md})
 *
 *   npm run bench -- scale                              every part at 1M rows, writes bench/results/scale.{json,md}
 *   npm run bench -- scale chromium --rows 100000       a smaller table
 *   npm run bench -- scale chromium --datasets clusters  one data set (spectrum, clusters)
 *   npm run bench -- scale chromium --nprobes 40,80 --refine 10,30   every pair instead of the default
 *   npm run bench -- scale chromium --bits 4            IVF_PQ with 4-bit codes (192 sub-vectors unless --sub-vectors)
 *   npm run bench -- scale chromium --sub-vectors 96    PQ sub-vectors (--subvectors too); 4-bit × 96 = 48 bytes per row
 *   npm run bench -- scale chromium --cache-mib 64      the query worker's session budget (connect({ cacheBytes }));
 *                                                       half may hold IVF partitions: less memory, more bytes read per query
 *   npm run bench -- scale chromium --results scale-x   writes bench/results/scale-x.{json,md} instead of scale.{json,md}
 *                                                       sweep (DEFAULT_SWEEP below 500K rows, MILLION_SWEEP from there)
 *   npm run bench -- scale chromium --stream 10000     ingest as one add() of a stream of Arrow record batches of
 *                                                       10,000 rows, drawn as the worker pulls them (--batch rows per fragment)
 *   npm run bench -- scale chromium --rq               also IVF_RQ (RaBitQ) on the same table, over the same
 *                                                       nprobes (refine: --rq-refine, else the sweep's)
 *   npm run bench -- scale chromium --keep /tmp/scale   keeps the browser profile (the OPFS tables) and the
 *                                                       ground truth there: the next run with the same
 *                                                       directory and table options only queries
 *   npm run bench -- scale chromium --keep /tmp/scale --rebuild   builds the kept table's index again (to
 *                                                       measure the build) even when its options are unchanged
 *   npm run bench -- scale chromium --phases ingest     stops each data set after its ingest and prints its memory
 *                                                       peaks; writes nothing (a write-path change in minutes)
 *   npm run bench -- scale --quick                      prints the JSON, writes nothing
 *
 * Diagnosis (environment): QUIVER_BENCH_SMAPS=<dir> copies the renderer's /proc/PID/smaps at each
 * stage of the query phase and at the start of each build phase; QUIVER_BENCH_TRACE=<file> appends
 * every 250 ms sample of the renderer, each mark, the page's progress lines and the build's WebAssembly
 * and measureUserAgentSpecificMemory samples to <file> as lines (ms, phase, what), to line memory up
 * with the steps of a phase; QUIVER_BENCH_JS_FLAGS="<v8 flags>" starts Chromium with --js-flags;
 * QUIVER_BENCH_CPU_PROFILE=<dir> writes CPU profiles of the query phase's workers there (bench/cpu-profile.ts).
 */
import { loadavg } from "node:os";
import { machineInfo, progress, round, writeResults, type ResultRow } from "./report.js";
import { defaultSweep, runChromiumScale, type ScaleDataset, type StageRow } from "./scale-chromium.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const num = (name: string, dflt: number): number => Number(opt(name) ?? dflt);
const PARTS = ["chromium", "sharded"] as const;
const VALUE_FLAGS = ["--rows", "--queries", "--batch", "--datasets", "--partitions", "--subvectors", "--sub-vectors", "--bits", "--iterations", "--shards", "--latency", "--nprobes", "--refine", "--keep", "--cache-mib", "--results", "--rq-refine", "--stream", "--phases"];
const named = args.filter((a, i) => !a.startsWith("--") && !VALUE_FLAGS.includes(args[i - 1] ?? ""));
const parts = named.length > 0 ? named : [...PARTS];
for (const p of parts) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`scale: unknown part "${p}" (parts: ${PARTS.join(", ")})`);
const ROWS = num("rows", 1_000_000);
const QUICK = args.includes("--quick");
const SUB_VECTORS = opt("sub-vectors") ?? opt("subvectors");
const CACHE_MIB = opt("cache-mib");
const RESULTS = opt("results") ?? "scale";

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  const rows: ResultRow[] = [];
  const extra: Record<string, unknown> = {};
  const notes: string[] = [];
  const intro: string[] = [];
  if (parts.includes("sharded")) {
    // Its own flags (--rows, --queries, --shards, --latency) and results file; its --part flag is not this runner's.
    if (parts.length > 1) process.argv = process.argv.filter((a, i, all) => !["--rows", "--queries"].includes(a) && !["--rows", "--queries"].includes(all[i - 1] ?? ""));
    await import("./scale-sharded-main.js");
  }
  if (!parts.includes("chromium")) return;
  {
    const o = {
      rows: ROWS, queries: num("queries", 100), batch: num("batch", 50_000), stream: args.includes("--stream") ? num("stream", 10_000) : undefined,
      datasets: (opt("datasets") ?? "spectrum,clusters").split(",") as ScaleDataset[],
      numPartitions: opt("partitions") === undefined ? undefined : Number(opt("partitions")),
      // --bits 4: IVF_PQ with 4-bit codes, by default at 192 sub-vectors (the same 96 bytes per row).
      numBits: num("bits", 8) as 4 | 8, numSubVectors: SUB_VECTORS === undefined ? (num("bits", 8) === 4 ? 192 : 96) : Number(SUB_VECTORS), maxIterations: num("iterations", 10), sweep: sweepOption(ROWS), keep: opt("keep"),
      cacheBytes: CACHE_MIB === undefined ? undefined : Number(CACHE_MIB) * MB,
      rqSweep: args.includes("--rq") ? rqSweepOption(sweepOption(ROWS)) : undefined,
      rebuild: args.includes("--rebuild"),
      ingestOnly: opt("phases") === "ingest",
    };
    if (opt("phases") !== undefined && !o.ingestOnly) throw new Error(`scale: --phases takes "ingest" (the only phase that runs alone), not "${opt("phases")}"`);
    const run = await runChromiumScale(o);
    if (o.ingestOnly) return;
    rows.push(...run.rows);
    extra.chromium = { browser: run.browser, crossOriginIsolated: run.crossOriginIsolated, options: o, spectrum: run.spectrum, datasets: run.datasets };
    intro.push(...chromiumIntro(run, o.rows, o.batch, o.queries, o.stream));
    notes.push(...chromiumNotes(rows, run.datasets));
  }
  const results = {
    benchmark: RESULTS,
    date: new Date().toISOString(),
    machine: machineInfo(`1-minute load average ${round(loadAtStart, 1)} at the start, ${round(loadavg()[0]!, 1)} at the end (a shared machine). Peak RSS is the Node driver's; Chromium's is in the rows.`),
    rows,
    ...extra,
  };
  if (QUICK) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  const { md } = writeResults(results, {
    title: "Scale: a million 384-d vectors",
    intro,
    groupBy: "dataset",
    columns: [
      { heading: "index", value: (r) => indexLabel(r) },
      { heading: "nprobes", value: (r) => (r.params as Record<string, unknown>).nprobes },
      { heading: "refine", value: (r) => (r.params as Record<string, unknown>).refineFactor },
      { heading: "recall@10", value: (r) => r.recall_at_10 },
      { heading: "p50 ms", value: (r) => r.p50_ms },
      { heading: "p99 ms", value: (r) => r.p99_ms },
      { heading: "QPS", value: (r) => r.qps },
      { heading: "bytes/query", value: (r) => r.bytes_fetched },
      { heading: "requests/query", value: (r) => r.requests_per_query },
      { heading: "tab private footprint peak MiB (queries)", value: (r) => r.tab_footprint_query_peak_mb ?? "–" },
      { heading: "tab VmRSS peak MiB (queries)", value: (r) => r.tab_rss_query_peak_mb },
      { heading: "query WASM / JS+WASM peak MiB", value: (r) => `${r.query_wasm_peak_mb} / ${r.query_ua_peak_mb ?? "–"}` },
      { heading: "ingest rows/s", value: (r) => r.rows_per_s },
      { heading: "build s", value: (r) => r.build_s },
      { heading: "build WASM / JS+WASM peak MiB", value: (r) => `${r.build_wasm_peak_mb} / ${r.build_ua_peak_mb ?? "–"}` },
    ],
    groupIntro: (dataset) => stageTable(extra.chromium as { datasets: Record<string, Section> } | undefined, dataset),
    notes,
    reproduce: `npm run bench -- scale${ROWS !== 1_000_000 ? ` --rows ${ROWS}` : ""}`,
  });
  progress(`wrote ${md}`);
}

/** `--nprobes a,b --refine c,d`: every pair; otherwise the default sweep for the table's size. */
function sweepOption(rows: number): ReturnType<typeof defaultSweep> {
  const list = (name: string): number[] | undefined => opt(name)?.split(",").map(Number);
  const nprobes = list("nprobes");
  const refine = list("refine");
  if (nprobes === undefined && refine === undefined) return defaultSweep(rows);
  const base = defaultSweep(rows);
  return (nprobes ?? [...new Set(base.map((s) => s.nprobes))]).flatMap((n) => (refine ?? [...new Set(base.map((s) => s.refineFactor))]).map((r) => ({ nprobes: n, refineFactor: r })));
}

/** IVF_RQ's sweep: the IVF_PQ sweep's nprobes, with `--rq-refine a,b` for the refine factors if given. */
function rqSweepOption(sweep: ReturnType<typeof defaultSweep>): ReturnType<typeof defaultSweep> {
  const refine = opt("rq-refine")?.split(",").map(Number);
  if (refine === undefined) return sweep;
  return [...new Set(sweep.map((s) => s.nprobes))].flatMap((n) => refine.map((r) => ({ nprobes: n, refineFactor: r })));
}

type Run = Awaited<ReturnType<typeof runChromiumScale>>;
type Section = { ingest: Record<string, number>; build: Record<string, number>; query: Record<string, number> & { stages?: StageRow[] }; exact: { s: number }; ivf_rq?: Record<string, number> };

/** "IVF_PQ 192×4 bit" or "IVF_RQ 1 bit/dim": which index a row measured. */
function indexLabel(r: ResultRow): string {
  const p = r.params as Record<string, number>;
  return String(r.variant).startsWith("ivf_rq") ? "IVF_RQ 1 bit/dim" : `IVF_PQ ${p.numSubVectors}×${p.numBits} bit`;
}

/** The tab's memory at each stage of the query phase, as a Markdown table. */
function stageTable(chromium: { datasets: Record<string, Section> } | undefined, dataset: string): string | undefined {
  const stages = chromium?.datasets[dataset]?.query.stages;
  if (stages === undefined) return undefined;
  const v = (x: number | undefined): string => (x === undefined ? "–" : String(x));
  return [
    `Tab memory during the queries (renderer process, MiB; private footprint = RssAnon + VmSwap, Chrome's task-manager figure; VmRSS includes the shared chromium binary and libraries):`,
    "",
    "| stage | private footprint | VmRSS | private (smaps) | PSS | RssFile | RssShmem |",
    "|---|---|---|---|---|---|---|",
    ...stages.map((st) => `| ${st.stage} | ${v(st.footprint_mb)} | ${v(st.vmrss_mb)} | ${v(st.private_mb)} | ${v(st.pss_mb)} | ${v(st.rss_file_mb)} | ${v(st.rss_shmem_mb)} |`),
  ].join("\n");
}

function chromiumIntro(run: Run, n: number, batch: number, queries: number, stream?: number): string[] {
  const s = run.spectrum;
  return [
    `**Chromium** (${run.browser}, headless, persistent profile; page crossOriginIsolated: ${run.crossOriginIsolated}): ${n.toLocaleString("en")} rows × 384 float32 ` +
      `(id int32, category utf8, vector) on OPFS, the database in a dedicated worker (\`connectWorker\` from quiverdb/worker); the page uses the public API only (bench/scale-page). ` +
      (stream === undefined
        ? `The page draws seeded vectors and adds them in batches of ${batch.toLocaleString("en")} row objects (one add() and one fragment each); `
        : `The page streams seeded vectors through one add() as Arrow record batches of ${stream.toLocaleString("en")} rows, each drawn when the worker pulls it; the worker writes a fragment per ${batch.toLocaleString("en")} rows; `) +
      `after a reload and a memory-pressure signal, createIndex(IVF_PQ, cosine) runs in a fresh worker with progress (the tab's footprint at its start is reported beside the peak: after the ingest the renderer still holds ~100 MiB of mappings the ingest made, which Chromium releases ~15 s into the build; a build in a fresh browser, \`--keep <dir> --rebuild\`, starts from ~36 MiB); ` +
      `the page is reloaded and a fresh worker opens the table cold for the queries; ground truth is the table's exact search (bypassVectorIndex), one id range at a time, after another reload.`,
    `Data sets (both L2-normalized): **spectrum-use** — x = μ + U·diag(√λ)·z with λ the covariance eigenvalues of real Universal Sentence Encoder vectors ` +
      (s ? `(${s.source.texts} SciFact claims, ${s.source.dims}-d; variance in the top 10/50/100 directions ${s.topShare.source.top10}/${s.topShare.source.top50}/${s.topShare.source.top100}) resampled to 384 (model: ${s.topShare.model.top10}/${s.topShare.model.top50}/${s.topShare.model.top100}), mean share ‖μ‖²/Σλ = ${s.meanShare}, ` : "") +
      `U a seeded structured random rotation (scale-page/generate.ts); **clusters** — 100 isotropic Gaussian clusters (spread 0.5), as bench/out-of-core.ts. ${queries} held-out queries from the same model.`,
    `Latency is page-side (\`await tbl.search(q)…toArray()\`, the worker hop included), one query at a time after 10 warm-up queries; bytes/query from \`analyzePlan()\` (all reads from OPFS) of the same queries run again right after the timed pass. ` +
      `Tab memory is the renderer process (the page, its dedicated worker, WebAssembly included), read from /proc every 250 ms and at the stages of the query phase (bench/proc-memory.ts). ` +
      `**Private footprint** = RssAnon + VmSwap of /proc/PID/status: the pages the tab owns, what Chrome's task manager shows as its "Memory footprint" on Linux; the goal is read against it. ` +
      `**VmRSS** counts besides those the file-backed pages of the chromium binary and its shared libraries (RssFile, mapped by every Chromium process and kept once by the OS) and shared memory (RssShmem): it is not the tab's own memory. ` +
      `Private = Private_Clean + Private_Dirty of smaps_rollup (pages no other process maps); PSS divides shared pages among their processes. ` +
      `Goal (issue 14): p50 < 10 ms at recall@10 ≥ 0.95 with < 300 MB of tab memory.`,
  ];
}

function chromiumNotes(rows: ResultRow[], datasets: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [dataset, raw] of Object.entries(datasets)) {
    const d = raw as Section;
    const mine = rows.filter((r) => r.dataset === dataset && !String(r.variant).startsWith("ivf_rq"));
    const good = mine.filter((r) => (r.recall_at_10 as number) >= 0.95).sort((a, b) => (a.p50_ms as number) - (b.p50_ms as number))[0];
    const verdict = good === undefined
      ? `no configuration of the sweep reached recall@10 0.95 (best ${Math.max(...mine.map((r) => r.recall_at_10 as number))}): goal NOT met`
      : `fastest configuration at recall@10 ≥ 0.95: nprobes ${(good.params as Record<string, unknown>).nprobes}, refine ${(good.params as Record<string, unknown>).refineFactor}: p50 ${good.p50_ms} ms, ` +
        `tab private footprint peak ${d.query.tab_footprint_peak_mb ?? "–"} MiB (VmRSS ${d.query.tab_rss_peak_mb} MiB): goal (300 MB = 286 MiB) ${(good.p50_ms as number) < 10 && d.query.tab_footprint_peak_mb !== undefined && d.query.tab_footprint_peak_mb * MB < 300e6 ? "met" : "NOT met"}`;
    out.push(
      `- **${dataset}**: ingest ${d.ingest.rows_per_s.toLocaleString("en")} rows/s (add calls; ${d.ingest.add_s} s, drawing the vectors ${d.ingest.generate_s} s more; tab private footprint peak ${d.ingest.tab_footprint_peak_mb ?? "–"} MiB, VmRSS ${d.ingest.tab_rss_peak_mb} MiB). ` +
        `Build ${d.build.build_s} s, index ${round(d.build.index_bytes / MB, 1)} MiB; during the build: worker WebAssembly peak ${d.build.worker_wasm_reserved_peak_mb} MiB, measureUserAgentSpecificMemory peak ${d.build.ua_memory_peak_mb ?? "–"} MiB, tab private footprint peak ${d.build.tab_footprint_peak_mb ?? "–"} MiB${d.build.tab_footprint_start_mb !== undefined ? ` (from ${d.build.tab_footprint_start_mb} MiB at its start)` : ""}, VmRSS ${d.build.tab_rss_peak_mb} MiB. ` +
        `Queries: open ${d.query.open_ms} ms, first (cold) query ${d.query.first_query_ms} ms reading ${d.query.first_query_bytes.toLocaleString("en")} bytes; tab private footprint ${d.query.tab_footprint_before_open_mb ?? "–"} MiB with the page loaded, peak ${d.query.tab_footprint_peak_mb ?? "–"} MiB (VmRSS ${d.query.tab_rss_before_open_mb} and ${d.query.tab_rss_peak_mb} MiB); session budget ${round((d.query.cache_bytes ?? 256 * MB) / MB, 0)} MiB; worker WebAssembly peak ${d.query.worker_wasm_reserved_peak_mb} MiB, cache peak ${d.query.worker_cache_peak_mb} MiB, measureUserAgentSpecificMemory peak ${d.query.ua_memory_peak_mb ?? "–"} MiB. ` +
        `Exact ground truth ${d.exact.s} s. ${verdict}.`,
    );
    if (d.ivf_rq !== undefined) {
      const rq = rows.filter((r) => r.dataset === dataset && String(r.variant).startsWith("ivf_rq"));
      const best = rq.filter((r) => (r.recall_at_10 as number) >= 0.95).sort((a, b) => (a.p50_ms as number) - (b.p50_ms as number))[0];
      out.push(
        `  - IVF_RQ on the same table (same partitions): build ${d.ivf_rq.build_s} s, index ${round(d.ivf_rq.index_bytes / MB, 1)} MiB = ${d.ivf_rq.index_bytes_per_vector} B/vector ` +
          `(IVF_PQ: ${round(d.build.index_bytes / MB, 1)} MiB = ${round(d.build.index_bytes / d.ingest.rows, 1)} B/vector); worker WebAssembly peak ${d.ivf_rq.worker_wasm_reserved_peak_mb} MiB during the build; ` +
          `tab private footprint peak ${d.ivf_rq.tab_footprint_query_peak_mb ?? "–"} MiB while querying (VmRSS ${d.ivf_rq.tab_rss_query_peak_mb} MiB). ` +
          (best === undefined
            ? `No IVF_RQ configuration of the sweep reached recall@10 0.95 (best ${Math.max(...rq.map((r) => r.recall_at_10 as number))}).`
            : `Fastest IVF_RQ configuration at recall@10 ≥ 0.95: nprobes ${(best.params as Record<string, unknown>).nprobes}, refine ${(best.params as Record<string, unknown>).refineFactor}: p50 ${best.p50_ms} ms, ${best.qps} QPS.`),
      );
    }
  }
  return out;
}
const MB = 2 ** 20;

await main();
