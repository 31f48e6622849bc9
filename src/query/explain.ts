/**
 * Plans you can read: what a query does (explainPlan) or did (analyzePlan), stage by stage, as an
 * indented tree read bottom-up like a database's plan — the prefilter at the leaves, the projection
 * at the root. The executor fills a `QueryTrace` as it decides; this file only formats it.
 *
 *   Projection: id, _distance  [rows=10, 0.41 ms]
 *     Limit: 10
 *       VectorSearch: vector (cosine), k=10, strategy ann-prefiltered
 *         KnnIndex: vector_idx IVF_PQ over 4 fragments (50,000 rows), nprobes=30, refineFactor=6
 *         Prefilter: cat < 500 → 25,013 rows from indexes (exact): btree(cat) < 500 → 25,013 rows
 */
import type { SelectionSummary } from "./selection.js";
import type { VectorSearchTrace } from "./vector-search.js";

interface Timed {
  ms?: number;
  rows?: number;
}

/** What one run (or dry run) of a query decided and measured. */
export interface QueryTrace {
  /** explainPlan: stop before the search, after the decisions (the prefilter is evaluated to size them). */
  readonly dryRun: boolean;
  selection?: SelectionSummary & Timed;
  scan?: { fragments: number; rows: number } & Timed;
  vector?: VectorSearchTrace & Timed;
  fts?: { query: string; indexes: string[]; operator: string; k: number } & Timed;
  rerank?: { name: string } & Timed;
  output?: { columns: string[]; limit?: number; offset: number } & Timed;
  /** Bytes and requests read from storage during the run (analyzePlan). */
  reads?: { bytes: number; requests: number; roundTrips: number };
  totalMs?: number;
}

const n = (x: number): string => x.toLocaleString("en-US");
const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));

function metrics(t: Timed | undefined, analyze: boolean): string {
  if (!analyze || t === undefined) return "";
  const parts: string[] = [];
  if (t.rows !== undefined) parts.push(`rows=${n(t.rows)}`);
  if (t.ms !== undefined) parts.push(`${ms(t.ms)} ms`);
  return parts.length > 0 ? `  [${parts.join(", ")}]` : "";
}

function selectionLine(s: SelectionSummary & Timed, analyze: boolean, verbose: boolean): string[] {
  const lines: string[] = [];
  const head = s.mode === "scan"
    ? `Prefilter: ${s.filter} — scan of ${n(s.scannedRows)} rows in ${s.scannedFragments} fragment(s)${s.indexes.length > 0 ? ` (indexes ${s.indexes.join(", ")} cannot answer this filter)` : ""}`
    : `Prefilter: ${s.filter} — ${s.mode === "exact" ? "answered by" : "candidates from"} ${s.indexes.join(", ")} over ${s.indexedFragments} fragment(s) (${n(s.indexedRows)} rows)` +
      (s.scannedFragments > 0 ? `; ${n(s.scannedRows)} rows added since the index build scanned` : "");
  lines.push(head + metrics(s, analyze));
  if (verbose || s.mode !== "scan") for (const l of s.lookups) lines.push(`  IndexLookup: ${l}`);
  return lines;
}

function vectorLines(v: VectorSearchTrace & Timed, analyze: boolean): string[] {
  const s = v.strategy;
  const why = s.kind === "exact-prefiltered" || s.kind === "ann-prefiltered"
    ? ` (${n(s.allowedRows)} allowed rows, ${(s.share * 100).toFixed(s.share < 0.01 ? 2 : 1)}% of the index; exact scan ≈ ${n(Math.round(s.exactCost))} vs index ≈ ${n(Math.round(s.annCost))} element ops)`
    : s.kind === "exact" ? " (no vector index on this column" + (v.index === undefined ? ")" : ")") : "";
  const lines = [`VectorSearch: ${v.column} (${v.metric}), k=${v.k}, strategy ${s.kind}${why}${v.postfilter ? ", filter applied after the search (postfilter)" : ""}` + metrics(v, analyze)];
  if (v.index && s.kind !== "exact-prefiltered") {
    const knobs = [v.index.nprobes !== undefined ? `nprobes=${v.index.nprobes}` : "", v.index.ef !== undefined ? `ef=${v.index.ef}` : "", v.index.refineFactor !== undefined ? `refineFactor=${v.index.refineFactor}` : ""].filter(Boolean);
    const mask = s.kind === "ann-prefiltered" ? ", filter as a bitmap inside the index" : "";
    lines.push(`  KnnIndex: ${v.index.name} ${v.index.kind} over ${v.index.fragments} fragment(s)${knobs.length > 0 ? `, ${knobs.join(", ")}` : ", default knobs"}${mask}`);
  }
  if (s.kind === "exact-prefiltered") lines.push(`  ExactScan: the ${n(s.allowedRows)} allowed rows of indexed fragments${v.index ? ` (index ${v.index.name} not used)` : ""}`);
  if (v.flatFragments > 0) lines.push(`  ExactScan: ${v.flatFragments} fragment(s) no index covers (${n(v.flatRows)} rows to scan)`);
  return lines;
}

/** The trace as an indented plan. `analyze` adds rows and timings per stage and the bytes read. */
export function formatPlan(trace: QueryTrace, options: { analyze: boolean; verbose: boolean }): string {
  const { analyze, verbose } = options;
  const out: string[] = [];
  const push = (depth: number, lines: string[]): void => {
    for (const l of lines) out.push("  ".repeat(depth) + l);
  };
  const o = trace.output;
  push(0, [`Projection: ${o ? o.columns.join(", ") : "*"}` + metrics(o, analyze)]);
  let depth = 1;
  if (o?.limit !== undefined || (o?.offset ?? 0) > 0) {
    push(depth++, [`Limit: ${o?.limit ?? "none"}${o && o.offset > 0 ? `, offset ${o.offset}` : ""}`]);
  }
  if (trace.rerank) push(depth++, [`Rerank: ${trace.rerank.name}` + metrics(trace.rerank, analyze)]);
  if (trace.vector) {
    push(depth, vectorLines(trace.vector, analyze));
    if (trace.selection && !trace.vector.postfilter) push(depth + 1, selectionLine(trace.selection, analyze, verbose));
    if (trace.vector.postfilter && trace.selection === undefined && verbose) push(depth + 1, ["Postfilter: evaluated on the search's results"]);
  }
  if (trace.fts) {
    const f = trace.fts;
    push(depth, [`FullTextSearch: ${JSON.stringify(f.query)} (BM25, ${f.operator}), k=${f.k}, indexes ${f.indexes.join(", ")}` + metrics(f, analyze)]);
    if (trace.selection) push(depth + 1, selectionLine(trace.selection, analyze, verbose));
  }
  if (trace.scan) {
    push(depth, [`Scan: ${trace.scan.fragments} fragment(s), ${n(trace.scan.rows)} live rows in table order` + metrics(trace.scan.ms === undefined ? undefined : { ms: trace.scan.ms }, analyze)]);
    if (trace.selection) push(depth + 1, selectionLine(trace.selection, analyze, verbose));
  }
  if (analyze) {
    const r = trace.reads;
    out.push(`Total: ${trace.totalMs === undefined ? "?" : ms(trace.totalMs)} ms` + (r ? `, read ${n(r.bytes)} bytes in ${n(r.requests)} request(s) and ${n(r.roundTrips)} round trip(s) from storage` : ""));
  }
  return out.join("\n");
}
