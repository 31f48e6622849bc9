/**
 * Filtered vector search at every selectivity, Quiver against LanceDB (native, its scalar indexes,
 * prefilter) and PGlite + pgvector (HNSW with iterative scan, btree on the filter columns), side by
 * side in one run on glove-100d-100k (cosine) with synthetic filter columns:
 *
 *   cat   uniform category 0..999 (shuffled)          filters  cat < 1 | 10 | 100 | 500
 *   zcat  Zipf-skewed category (s = 1.1, 1000 values) filters  zcat IN (values summing to the share)
 *   num   uniform float in [0, 1)                      filters  num < 0.001 | 0.01 | 0.1 | 0.5
 *
 * For each filter: filtered top-10 for the first --queries glove queries, queries/s (one at a time),
 * p50 / p99, recall@10 against exact filtered search (Quiver's exact scan, bypassVectorIndex), and
 * how many rows came back on average (k = 10 whenever 10 match). Rows carry `selectivity` in params.
 *
 * Second part: a point lookup (`id = x`) and a 1 % range countRows on a 1,000,000-row table with and
 * without a BTREE (in memory), and the bytes the same read from an out-of-core (file system) table.
 *
 *   npm run bench -- filtered                 full run, writes bench/results/filtered.{json,md}
 *   npm run bench -- filtered --quick         20,000 rows, 50 queries, prints only
 *   options: --rows=N --queries=N --big-rows=N --only=quiver,lancedb,pglite
 */
process.env.LANCE_CPU_THREADS ??= "1";

import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../src/ann/common.js";
import { connect, Index, type Table } from "../src/index.js";
import { FsStore } from "../src/storage/fs-store.js";
import { countReads } from "../src/storage/read-counter.js";
import { loadGlove } from "./datasets.js";
import { machineInfo, median, p99, progress, round, sig, writeResults, type ResultRow } from "./report.js";

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const QUICK = args.includes("--quick");
const ROWS = Number(arg("rows") ?? (QUICK ? 20_000 : 100_000));
const QUERIES = Number(arg("queries") ?? (QUICK ? 50 : 200));
const BIG_ROWS = Number(arg("big-rows") ?? (QUICK ? 100_000 : 1_000_000));
const ONLY = arg("only")?.split(",");
const K = 10;
const WARMUP = 10;
const IVF = { nprobes: 30, refineFactor: 6 };
const EF = 64;

// ── data ────────────────────────────────────────────────────────────────────────────────────

const glove = loadGlove("cosine");
const DIM = glove.base.dim;
const N = Math.min(ROWS, glove.base.n);
const vectors = glove.base.data.subarray(0, N * DIM);
const queries = Array.from({ length: Math.min(QUERIES, glove.queries.n) }, (_, i) => glove.queries.data.slice(i * DIM, (i + 1) * DIM));
const rand = seededRandom(2026);
const cat = Int32Array.from({ length: N }, (_, i) => i % 1000);
for (let i = N - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [cat[i], cat[j]] = [cat[j]!, cat[i]!];
}
// Zipf over 1000 values: P(v) ∝ 1 / (v + 1)^1.1, drawn by inverting the cumulative distribution.
const zipfWeights = Float64Array.from({ length: 1000 }, (_, v) => 1 / (v + 1) ** 1.1);
const zipfTotal = zipfWeights.reduce((a, b) => a + b, 0);
const zipfCdf = new Float64Array(1000);
zipfWeights.reduce((acc, w, v) => (zipfCdf[v] = acc + w / zipfTotal), 0);
const zcat = Int32Array.from({ length: N }, () => {
  const u = rand();
  let lo = 0;
  let hi = 999;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (zipfCdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
});
const num = Float64Array.from({ length: N }, () => rand());

interface Filter {
  kind: "uniform" | "zipf" | "numeric";
  target: number;
  sql: string;
  selectivity: number;
}

/** Values of zcat whose rows add up to about `share` of the table, from the most frequent down. */
function zipfValues(share: number): number[] {
  const counts = new Int32Array(1000);
  for (const v of zcat) counts[v]!++;
  const order = Array.from({ length: 1000 }, (_, v) => v).sort((a, b) => counts[b]! - counts[a]!);
  const want = share * N;
  const picked: number[] = [];
  let sum = 0;
  for (const v of order) {
    if (sum >= want * 0.95) break;
    if (sum + counts[v]! <= want * 1.1) {
      picked.push(v);
      sum += counts[v]!;
    }
  }
  return picked.sort((a, b) => a - b);
}

const TARGETS = [0.001, 0.01, 0.1, 0.5];
const filters: Filter[] = TARGETS.flatMap((t) => {
  const z = zipfValues(t);
  const made: Omit<Filter, "selectivity">[] = [
    { kind: "uniform", target: t, sql: `cat < ${Math.round(t * 1000)}` },
    { kind: "zipf", target: t, sql: `zcat IN (${z.join(", ")})` },
    { kind: "numeric", target: t, sql: `num < ${t}` },
  ];
  return made.map((f) => {
    const pass = f.kind === "uniform" ? cat.filter((c) => c < Math.round(t * 1000)).length
      : f.kind === "zipf" ? zcat.filter((v) => z.includes(v)).length : num.filter((x) => x < t).length;
    return { ...f, selectivity: pass / N };
  });
});

// ── systems ─────────────────────────────────────────────────────────────────────────────────

interface System {
  system: string;
  variant: string;
  notes: string;
  build(): Promise<void>;
  search(q: Float32Array, where: string): Promise<number[]>;
  /** Quiver only: the verbose plan of one filtered query (postfilter: as a postfiltered query). */
  explain?(q: Float32Array, where: string, postfilter: boolean): Promise<string>;
  close(): Promise<void>;
}

function quiverRows(): Record<string, unknown>[] {
  return Array.from({ length: N }, (_, i) => ({ id: i, cat: cat[i]!, zcat: zcat[i]!, num: num[i]!, vector: vectors.subarray(i * DIM, (i + 1) * DIM) }));
}

function quiver(variant: "ivf_pq" | "hnsw_sq"): System {
  let table: Table | undefined;
  const query = (q: Float32Array, where: string) => {
    const s = table!.search(q).distanceType("cosine").where(where).select(["id"]).limit(K);
    return variant === "ivf_pq" ? s.nprobes(IVF.nprobes).refineFactor(IVF.refineFactor) : s.ef(EF);
  };
  return {
    system: "quiver", variant,
    notes: variant === "ivf_pq" ? `IVF_PQ numPartitions=${Math.round(Math.sqrt(N))} numSubVectors=${DIM / 4}, nprobes=${IVF.nprobes} refineFactor=${IVF.refineFactor}` : `HNSW_SQ m=16 efConstruction=100, ef=${EF}`,
    async build() {
      const db = await connect("memory://");
      table = await db.createTable(`glove_${variant}`, quiverRows());
      await table.createIndex("cat", { config: Index.btree() });
      await table.createIndex("zcat", { config: Index.bitmap() });
      await table.createIndex("num", { config: Index.btree() });
      await table.createIndex("vector", {
        config: variant === "ivf_pq" ? Index.ivfPq({ distanceType: "cosine", numPartitions: Math.round(Math.sqrt(N)), numSubVectors: DIM / 4 }) : Index.hnswSq({ distanceType: "cosine" }),
      });
    },
    async search(q, where) {
      return (await query(q, where).toArray()).map((r) => r.id as number);
    },
    async explain(q, where, postfilter) {
      const s = query(q, where);
      return (postfilter ? s.postfilter() : s).explainPlan(true);
    },
    async close() { table?.close(); },
  };
}

function lance(): System {
  let dir = "";
  let db: import("@lancedb/lancedb").Connection | undefined;
  let table: import("@lancedb/lancedb").Table | undefined;
  return {
    system: "@lancedb/lancedb", variant: "ivf_pq",
    notes: `native, temp dir on local disk; IVF_PQ numPartitions=${Math.round(Math.sqrt(N))} numSubVectors=${DIM / 4}, nprobes=${IVF.nprobes} refineFactor=${IVF.refineFactor}; BTree(cat), Bitmap(zcat), BTree(num); prefilter (its default)`,
    async build() {
      const lancedb = await import("@lancedb/lancedb");
      const arrow = await import("apache-arrow");
      dir = mkdtempSync(join(tmpdir(), "quiver-bench-filtered-lancedb-"));
      db = await lancedb.connect(dir);
      const vectorType = new arrow.FixedSizeList(DIM, new arrow.Field("item", new arrow.Float32(), true));
      const fields = [
        new arrow.Field("id", new arrow.Int32(), false), new arrow.Field("cat", new arrow.Int32(), false),
        new arrow.Field("zcat", new arrow.Int32(), false), new arrow.Field("num", new arrow.Float64(), false),
        new arrow.Field("vector", vectorType, false),
      ];
      const col = (type: import("apache-arrow").Int32 | import("apache-arrow").Float64, data: Int32Array | Float64Array) => arrow.makeData({ type, length: N, data } as never);
      const values = arrow.makeData({ type: new arrow.Float32(), length: N * DIM, data: vectors });
      const children = [
        col(new arrow.Int32(), Int32Array.from({ length: N }, (_, i) => i)), col(new arrow.Int32(), cat), col(new arrow.Int32(), zcat),
        col(new arrow.Float64(), num), arrow.makeData({ type: vectorType, length: N, nullCount: 0, child: values }),
      ];
      const struct = arrow.makeData({ type: new arrow.Struct(fields), length: N, nullCount: 0, children });
      table = await db.createTable("glove", new arrow.Table([new arrow.RecordBatch(new arrow.Schema(fields), struct)]));
      await table.createIndex("cat", { config: lancedb.Index.btree() });
      await table.createIndex("zcat", { config: lancedb.Index.bitmap() });
      await table.createIndex("num", { config: lancedb.Index.btree() });
      await table.createIndex("vector", { config: lancedb.Index.ivfPq({ distanceType: "cosine", numPartitions: Math.round(Math.sqrt(N)), numSubVectors: DIM / 4 }) });
    },
    async search(q, where) {
      const rows = await table!.vectorSearch(q).distanceType("cosine").where(where).nprobes(IVF.nprobes).refineFactor(IVF.refineFactor).select(["id", "_distance"]).limit(K).toArray();
      return rows.map((r: { id: number }) => r.id);
    },
    async close() {
      table?.close();
      db?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pglite(): System {
  let pg: import("@electric-sql/pglite").PGlite | undefined;
  let iterative = "unavailable";
  const lit = (v: Float32Array): string => `[${Array.from(v).join(",")}]`;
  return {
    system: "@electric-sql/pglite", variant: "pgvector-hnsw",
    get notes() { return `HNSW m=16 ef_construction=100, ef_search=${EF}, iterative scan ${iterative}; btree on cat, zcat, num; WASM, one thread`; },
    async build() {
      const { PGlite } = await import("@electric-sql/pglite");
      const { vector } = await import("@electric-sql/pglite-pgvector" as string) as { vector: never };
      pg = await PGlite.create({ extensions: { vector } });
      await pg.exec("CREATE EXTENSION IF NOT EXISTS vector;");
      await pg.exec(`CREATE TABLE items (id int PRIMARY KEY, cat int, zcat int, num float8, embedding vector(${DIM}));`);
      for (let s = 0; s < N; s += 1000) {
        const values: string[] = [];
        for (let i = s; i < Math.min(N, s + 1000); i++) values.push(`(${i},${cat[i]},${zcat[i]},${num[i]},'${lit(vectors.subarray(i * DIM, (i + 1) * DIM))}')`);
        await pg.exec(`INSERT INTO items VALUES ${values.join(",")};`);
      }
      await pg.exec("CREATE INDEX ON items (cat); CREATE INDEX ON items (zcat); CREATE INDEX ON items (num);");
      await pg.exec("SET maintenance_work_mem = '512MB';");
      await pg.exec("CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 100);");
      await pg.exec("ANALYZE items;");
      await pg.exec(`SET hnsw.ef_search = ${EF};`);
      try {
        await pg.exec("SET hnsw.iterative_scan = relaxed_order;");
        iterative = "relaxed_order";
      } catch {
        iterative = "unavailable (pgvector < 0.8)";
      }
    },
    async search(q, where) {
      const r = await pg!.query<{ id: number }>(`SELECT id FROM items WHERE ${where} ORDER BY embedding <=> $1 LIMIT ${K};`, [lit(q)]);
      return r.rows.map((x) => x.id);
    },
    async close() { await pg?.close(); },
  };
}

// ── measurement ─────────────────────────────────────────────────────────────────────────────

async function exactTruth(): Promise<Map<string, number[][]>> {
  const db = await connect("memory://");
  const t = await db.createTable("truth", quiverRows());
  const truth = new Map<string, number[][]>();
  for (const f of filters) {
    const per: number[][] = [];
    for (const q of queries) per.push((await t.search(q).distanceType("cosine").where(f.sql).bypassVectorIndex().select(["id"]).limit(K).toArray()).map((r) => r.id as number));
    truth.set(f.sql, per);
  }
  await db.close();
  return truth;
}

/** explainPlan(true) of one query per strategy, for the results' Markdown. */
const plans: string[] = [];

async function runFiltered(rows: ResultRow[]): Promise<void> {
  progress(`exact filtered ground truth for ${filters.length} filters × ${queries.length} queries …`);
  const truth = await exactTruth();
  const makers: [string, () => System][] = [["quiver", () => quiver("ivf_pq")], ["quiver", () => quiver("hnsw_sq")], ["lancedb", lance], ["pglite", pglite]];
  for (const [key, make] of makers) {
    if (ONLY && !ONLY.includes(key)) continue;
    const sys = make();
    const label = `${sys.system} ${sys.variant}`;
    progress(`building ${label} on ${N} rows …`);
    const t0 = performance.now();
    try {
      await sys.build();
    } catch (e) {
      progress(`${label} failed to build: ${(e as Error).message.split("\n")[0]}`);
      rows.push({ system: sys.system, variant: sys.variant, dataset: "glove-100d-100k", error: (e as Error).message.split("\n")[0] });
      continue;
    }
    const build_s = (performance.now() - t0) / 1000;
    progress(`${label} built in ${build_s.toFixed(1)} s`);
    if (sys.explain) {
      // The planner's choices, one query each: the fewest and the most rows allowed, and a postfilter.
      const uniform = filters.filter((f) => f.kind === "uniform");
      const cases: [Filter, boolean][] = [[uniform[0]!, false], [uniform.at(-1)!, false], ...(sys.variant === "ivf_pq" ? [[uniform.at(-1)!, true] as [Filter, boolean]] : [])];
      for (const [f, post] of cases) {
        plans.push(`${label}, where ${f.sql} (${(f.selectivity * 100).toFixed(2)} %)${post ? ", .postfilter()" : ""}:`, "```", await sys.explain(queries[0]!, f.sql, post), "```");
      }
    }
    for (const f of filters) {
      for (let i = 0; i < Math.min(WARMUP, queries.length); i++) await sys.search(queries[i]!, f.sql);
      const lat: number[] = [];
      let hit = 0;
      let returned = 0;
      const want = truth.get(f.sql)!;
      const start = performance.now();
      for (let i = 0; i < queries.length; i++) {
        const t = performance.now();
        const got = await sys.search(queries[i]!, f.sql);
        lat.push(performance.now() - t);
        returned += got.length;
        const exact = new Set(want[i]);
        for (const id of got) if (exact.has(id)) hit++;
      }
      const wall = (performance.now() - start) / 1000;
      const possible = want.reduce((s, w) => s + w.length, 0);
      rows.push({
        system: sys.system, variant: sys.variant, dataset: "glove-100d-100k", metric: "cosine",
        params: { filter: f.kind, selectivity: round(f.selectivity, 4), where: f.sql.length > 60 ? `${f.sql.slice(0, 57)}…` : f.sql },
        qps: sig(queries.length / wall), p50_ms: sig(median(lat)), p99_ms: sig(p99(lat)),
        recall_at_10: round(possible === 0 ? 1 : hit / possible, 4), rows_returned: round(returned / queries.length, 2),
        build_s: round(build_s, 1), notes: sys.notes,
      });
      progress(`${label} ${f.kind} ${(f.selectivity * 100).toFixed(2)}%: ${sig(queries.length / wall)} q/s, recall ${round(possible === 0 ? 1 : hit / possible, 3)}`);
    }
    await sys.close();
  }
}

/** Point lookups and a 1 % range count on BIG_ROWS rows: with and without a BTREE, and bytes read out of core. */
async function runLookups(rows: ResultRow[]): Promise<void> {
  const r = seededRandom(7);
  const ids = Int32Array.from({ length: BIG_ROWS }, (_, i) => i);
  for (let i = BIG_ROWS - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  const data = Array.from({ length: BIG_ROWS }, (_, i) => ({ id: ids[i]!, num: r() }));
  const probes = Array.from({ length: 200 }, () => Math.floor(r() * BIG_ROWS));
  const ranges = Array.from({ length: 20 }, () => Math.floor(r() * 99) / 100);
  const dataset = `synthetic ${BIG_ROWS.toLocaleString("en-US")} rows (id, num)`;
  const time = async (fn: (i: number) => Promise<unknown>, n: number): Promise<number[]> => {
    for (let i = 0; i < Math.min(5, n); i++) await fn(i);
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await fn(i);
      lat.push(performance.now() - t);
    }
    return lat;
  };
  for (const indexed of [false, true]) {
    progress(`point lookups on ${BIG_ROWS} rows, ${indexed ? "with" : "without"} a btree …`);
    const db = await connect("memory://");
    const t = await db.createTable("big", data);
    if (indexed) {
      await t.createIndex("id", { config: Index.btree() });
      await t.createIndex("num", { config: Index.btree() });
    }
    const point = await time((i) => t.countRows(`id = ${probes[i]}`), probes.length);
    const rows1 = await time((i) => t.query().where(`id = ${probes[i]}`).select(["id", "num"]).toArray(), probes.length);
    const range = await time((i) => t.countRows(`num >= ${ranges[i]} AND num < ${ranges[i]! + 0.01}`), ranges.length);
    for (const [variant, lat] of [["countRows(id = x)", point], ["query().where(id = x)", rows1], ["countRows(1% num range)", range]] as const) {
      rows.push({ system: "quiver", variant, dataset, params: { btree: indexed, storage: "memory" }, p50_ms: sig(median(lat)), p99_ms: sig(p99(lat)), qps: sig(1000 / median(lat)) });
    }
    await db.close();
  }
  // Out of core: a table on disk opened fresh, bytes read per lookup through a counted store.
  const dir = mkdtempSync(join(tmpdir(), "quiver-bench-filtered-fs-"));
  try {
    const seed = await connect(dir);
    const t0 = await seed.createTable("big", data);
    const plain = await seed.createTable("big_plain", data);
    await t0.createIndex("id", { config: Index.btree() });
    await t0.createIndex("num", { config: Index.btree() });
    await seed.close();
    void plain;
    for (const [name, indexed] of [["big_plain", false], ["big", true]] as const) {
      const counted = countReads(await FsStore.open(dir));
      const db = await connect(counted.store);
      const t = await db.openTable(name);
      await t.countRows(); // opens the manifest
      const before = counted.reads.bytes;
      const lat = await time((i) => t.countRows(`id = ${probes[i]}`), 20);
      const pointBytes = (counted.reads.bytes - before) / 25;
      const before2 = counted.reads.bytes;
      await t.countRows(`num >= 0.5 AND num < 0.51`);
      const rangeBytes = counted.reads.bytes - before2;
      rows.push({
        system: "quiver", variant: "countRows(id = x), out of core", dataset, params: { btree: indexed, storage: "fs, fresh connection" },
        p50_ms: sig(median(lat)), bytes_per_lookup: Math.round(pointBytes), range_1pct_bytes: rangeBytes,
      });
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: ResultRow[] = [];
progress(`${N} glove rows, ${queries.length} queries, ${filters.length} filters; lookups on ${BIG_ROWS} rows`);
await runFiltered(rows);
await runLookups(rows);

const results = { benchmark: "filtered", date: new Date().toISOString(), machine: machineInfo(QUICK ? "quick run" : ""), rows };
const columns = [
  { heading: "system", value: (r: ResultRow) => `${r.system} ${r.variant}` },
  { heading: "filter", value: (r: ResultRow) => (r.params as Record<string, unknown> | undefined)?.filter ?? (r.params as Record<string, unknown> | undefined)?.btree },
  { heading: "selectivity / setup", value: (r: ResultRow) => { const p = r.params as Record<string, unknown> | undefined; return p?.selectivity ?? p?.storage; } },
  { heading: "QPS", value: (r: ResultRow) => r.qps },
  { heading: "p50 ms", value: (r: ResultRow) => r.p50_ms },
  { heading: "p99 ms", value: (r: ResultRow) => r.p99_ms },
  { heading: "recall@10", value: (r: ResultRow) => r.recall_at_10 },
  { heading: "rows back", value: (r: ResultRow) => r.rows_returned },
  { heading: "bytes / lookup", value: (r: ResultRow) => r.bytes_per_lookup },
];
if (QUICK) {
  for (const r of rows) console.log(JSON.stringify(r));
} else {
  const out = writeResults(results, {
    title: "Filtered vector search: Quiver vs LanceDB vs PGlite + pgvector",
    intro: [
      `Filtered top-${K} on glove-100d-100k (cosine, first ${N.toLocaleString("en-US")} vectors, the first ${queries.length} published queries) with synthetic filter columns: a uniform category, a Zipf-skewed category and a uniform number, at selectivities 0.1 %, 1 %, 10 % and 50 %. Recall@10 against exact filtered search; "rows back" is the mean number of rows returned (10 whenever 10 match). One query at a time, ${WARMUP} warm-up queries per filter. Quiver: scalar indexes BTREE(cat), BITMAP(zcat), BTREE(num); the planner scans the matching rows exactly or searches the index with the filter as a bitmap inside it (see explainPlan()).`,
      `Second part: point lookups and a 1 % range count on ${BIG_ROWS.toLocaleString("en-US")} rows with and without a BTREE; out of core, the bytes one lookup reads from a table on disk opened fresh.`,
    ],
    columns, groupBy: "dataset", reproduce: "npm run bench -- filtered",
  });
  if (plans.length > 0) appendFileSync(out.md, ["", "## Plans (explainPlan(true), the first query)", "", ...plans, ""].join("\n"));
  progress(`wrote ${out.json} and ${out.md}`);
}
