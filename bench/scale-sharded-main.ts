/**
 * `npm run bench -- scale sharded [--rows N] [--queries Q] [--shards S] [--latency MS] [--quick]`:
 * Quiver past one table and one device. Each part is a function in its own file that returns result
 * rows; this runner picks the parts (`--part a,b`; default all), gathers their rows and writes
 * bench/results/scale-sharded.json and .md. `--quick` prints the tables instead of writing them (for smoke
 * runs with small arguments).
 *
 * Parts:
 * - `sharded` (bench/scale-sharded.ts): one table vs 4 shards over HTTP with added latency —
 *   requests, bytes and ms per query, cold open, recall.
 */
import { shardedScale } from "./scale-sharded.js";
import { machineInfo, progress, renderMarkdown, writeResults, type ResultRow } from "./report.js";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const at = argv.indexOf(`--${name}`);
  const v = at < 0 ? fallback : Number(argv[at + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} takes a number, got ${argv[at + 1]}`);
  return v;
};
const QUICK = argv.includes("--quick");

interface Part {
  run: () => Promise<{ rows: ResultRow[]; description: string }>;
}

const PARTS: Record<string, Part> = {
  sharded: {
    run: () => shardedScale({
      rows: arg("rows", 100_000), queries: arg("queries", 200), shards: arg("shards", 4), latencyMs: arg("latency", 50),
      nprobes: arg("nprobes", 20), refineFactor: arg("refine", 5),
    }),
  },
};

const chosen = Object.keys(PARTS);
for (const p of chosen) if (!(p in PARTS)) throw new Error(`unknown part "${p}" (parts: ${Object.keys(PARTS).join(", ")})`);

const rows: ResultRow[] = [];
const descriptions = new Map<string, string>();
for (const name of chosen) {
  progress(`scale: part ${name}`);
  const part = await PARTS[name]!.run();
  for (const r of part.rows) descriptions.set(String(r.dataset), part.description);
  rows.push(...part.rows.map((r) => ({ ...r, part: name })));
}

const report = { benchmark: "scale-sharded", date: new Date().toISOString(), machine: machineInfo(), rows };
const markdown = {
  title: "Scale: sharded and remote tables",
  intro: [
    "**sharded**: the same rows as one published table and as shards (`npx quiverdb publish … --shards N`), read over HTTP " +
      "(`connect(url)`, then `openTable` or `openShardedTable`) with a fixed delay added to every request. **open ms**: connect + open; " +
      "**cold**: open + the first query (ms, requests, bytes; round trips of the open and of the query); then per query with warm caches: p50 / p99 ms, requests, bytes and round trips. " +
      "Requests, bytes and round trips (chains of requests each sent after the one before was answered) are counted on the server.",
  ],
  columns: [
    { heading: "layout", value: (r: ResultRow) => r.variant },
    { heading: "query", value: (r: ResultRow) => r.query },
    { heading: "params", value: (r: ResultRow) => r.params },
    { heading: "open ms", value: (r: ResultRow) => r.open_ms },
    { heading: "cold ms", value: (r: ResultRow) => r.cold_first_query_ms },
    { heading: "cold requests", value: (r: ResultRow) => r.cold_requests },
    { heading: "cold bytes", value: (r: ResultRow) => r.cold_bytes },
    { heading: "cold trips (open + query)", value: (r: ResultRow) => `${r.open_round_trips} + ${r.cold_query_round_trips}` },
    { heading: "p50 ms", value: (r: ResultRow) => r.p50_ms },
    { heading: "p99 ms", value: (r: ResultRow) => r.p99_ms },
    { heading: "requests/query", value: (r: ResultRow) => r.requests_per_query },
    { heading: "trips/query p50 / max", value: (r: ResultRow) => `${r.round_trips_p50} / ${r.round_trips_max}` },
    { heading: "bytes/query", value: (r: ResultRow) => r.bytes_per_query },
    { heading: "recall@10", value: (r: ResultRow) => r.recall_at_10 },
  ],
  groupIntro: (g: string) => descriptions.get(g),
  reproduce: "npm run bench -- scale sharded",
};
if (QUICK) console.log(renderMarkdown(report, markdown));
else {
  const paths = writeResults(report, markdown);
  progress(`wrote ${paths.json} and ${paths.md}`);
}
