/**
 * Interop: moving glove-100d-100k (id int32, word utf8, vector 100-d float32) in and out as Arrow
 * and Parquet, Quiver and LanceDB side by side in one run:
 *
 *   Arrow → table    an apache-arrow Table (10K-row record batches, built from the data before the
 *                    clock starts) into a new table in a temp dir: Quiver createTable(Table), Quiver
 *                    createTable(async iterable of batches: the streamed path quiverdb/interop uses),
 *                    LanceDB createTable(Table); timed from connect to the commit
 *   table → Arrow    a fresh connection opens the table and reads every row as an apache-arrow
 *                    Table (Quiver toArrow(), LanceDB query().toArrow()), and writes it as an Arrow
 *                    IPC file (Quiver exportTable, streamed per fragment; LanceDB: toArrow + tableToIPC)
 *   Parquet → table  the same data written once with hyparquet-writer (row groups of 10K, vectors as
 *                    a LIST<FLOAT>), imported by importTable from the local file and from a local
 *                    node:http server answering Range requests (bytes fetched vs file size, whole
 *                    file and the `id`,`word` columns); LanceDB has no Parquet reader in JS, so its
 *                    row is hyparquet's parquetReadObjects + createTable(rows)
 *
 * Each measurement runs once untimed (warm-up), then `--reps` times (default 3); medians are
 * reported. `--rows N` takes the first N vectors (smoke runs).
 *
 *   npm run bench -- interop                 full run, writes bench/results/interop.{json,md}
 *   npm run bench -- interop --rows 2000 --reps 1 --no-write    smoke run, prints only
 */
import * as A from "apache-arrow";
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { parquetReadObjects } from "hyparquet";
import { connect } from "../src/index.js";
import { exportTable, importTable } from "../src/interop.js";
import { loadGlove } from "./datasets.js";
import { machineInfo, median, progress, round, sig, writeResults, type ResultRow } from "./report.js";

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const LIMIT = arg("--rows") !== undefined ? Number(arg("--rows")) : undefined;
const REPS = Number(arg("--reps") ?? 3);
const WRITE = !args.includes("--no-write");
const BATCH = 10_000;
const DATASET = "glove-100d-100k";

interface Glove { n: number; dim: number; vectors: Float32Array; words: string[] }

function loadData(): Glove {
  const g = loadGlove();
  const n = Math.min(LIMIT ?? g.base.n, g.base.n);
  return { n, dim: g.base.dim, vectors: g.base.data.subarray(0, n * g.base.dim), words: g.words!.slice(0, n) };
}

/** The data as an apache-arrow Table of BATCH-row record batches (vectors as FixedSizeList<Float32>). */
function arrowTable(d: Glove): A.Table {
  const vecType = new A.FixedSizeList(d.dim, new A.Field("item", new A.Float32(), true));
  const schema = new A.Schema([new A.Field("id", new A.Int32(), false), new A.Field("word", new A.Utf8(), true), new A.Field("vector", vecType, true)]);
  const batches: A.RecordBatch[] = [];
  for (let at = 0; at < d.n; at += BATCH) {
    const n = Math.min(BATCH, d.n - at);
    const id = A.makeData({ type: new A.Int32(), length: n, data: Int32Array.from({ length: n }, (_, i) => at + i) });
    const word = A.vectorFromArray(d.words.slice(at, at + n), new A.Utf8()).data[0]!;
    const values = A.makeData({ type: new A.Float32(), length: n * d.dim, data: d.vectors.slice(at * d.dim, (at + n) * d.dim) });
    const vector = A.makeData({ type: vecType, length: n, child: values });
    batches.push(new A.RecordBatch(schema, A.makeData({ type: new A.Struct(schema.fields), length: n, children: [id, word, vector] })));
  }
  return new A.Table(batches);
}

function parquetFile(d: Glove): Uint8Array {
  const vectors = Array.from({ length: d.n }, (_, i) => Array.from(d.vectors.subarray(i * d.dim, (i + 1) * d.dim)));
  return new Uint8Array(parquetWriteBuffer({
    columnData: [
      { name: "id", data: Int32Array.from({ length: d.n }, (_, i) => i) },
      { name: "word", data: d.words },
      { name: "vector", data: vectors },
    ],
    schema: [
      { name: "root", num_children: 3 },
      { name: "id", type: "INT32", repetition_type: "REQUIRED" },
      { name: "word", type: "BYTE_ARRAY", repetition_type: "OPTIONAL", converted_type: "UTF8", logical_type: { type: "STRING" } },
      { name: "vector", repetition_type: "REQUIRED", num_children: 1, converted_type: "LIST", logical_type: { type: "LIST" } },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      { name: "element", type: "FLOAT", repetition_type: "REQUIRED" },
    ],
    rowGroupSize: BATCH,
  }));
}

/** One file over HTTP with single-range support, counting the body bytes it sends. */
async function serveFile(path: string): Promise<{ url: string; sent: () => number; close: () => Promise<void> }> {
  const size = statSync(path).size;
  let sent = 0;
  const server: Server = createServer((req, res) => {
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    const start = m ? Number(m[1]) : 0;
    const end = m && m[2] !== "" ? Math.min(Number(m[2]), size - 1) : size - 1;
    const headers = { "Content-Length": end - start + 1, "Accept-Ranges": "bytes", ...(m ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}) };
    res.writeHead(m ? 206 : 200, headers);
    if (req.method === "HEAD") return res.end();
    sent += end - start + 1;
    createReadStream(path, { start, end }).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/glove.parquet`,
    sent: () => sent,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** `fn` once untimed (warm-up: modules, kernels, caches of the OS), then `reps` timed runs. */
async function timed(reps: number, fn: (rep: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  await fn(reps);
  for (let r = 0; r < reps; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    await fn(r);
    out.push(performance.now() - t0);
  }
  return out;
}

function row(system: string, variant: string, input: string, n: number, ms: number[], extra: Record<string, unknown> = {}): ResultRow {
  const m = median(ms);
  return { system, variant, dataset: DATASET, input, rows: n, params: { reps: ms.length }, median_ms: sig(m, 4), rows_per_s: sig(n / (m / 1000)), runs_ms: ms.map((x) => round(x, 1)), ...extra };
}

async function main(): Promise<void> {
  const d = loadData();
  progress(`${DATASET}: ${d.n} rows × ${d.dim}; ${REPS} reps`);
  const arrow = arrowTable(d);
  const work = mkdtempSync(join(tmpdir(), "quiver-bench-interop-"));
  const rows: ResultRow[] = [];
  const lancedb = await import("@lancedb/lancedb");
  try {
    // ── Arrow → table ──────────────────────────────────────────────────────────────────────
    const qDir = (r: number, v: string) => join(work, `q-${v}-${r}`);
    rows.push(row("quiver", "createTable(Arrow Table)", "apache-arrow Table", d.n, await timed(REPS, async (r) => {
      const db = await connect(qDir(r, "table"));
      await db.createTable("glove", arrow);
      await db.close();
    })));
    rows.push(row("quiver", "createTable(async iterable of batches)", "apache-arrow RecordBatches, streamed", d.n, await timed(REPS, async (r) => {
      const db = await connect(qDir(r, "stream"));
      await db.createTable("glove", (async function* () { yield* arrow.batches; })());
      await db.close();
    })));
    rows.push(row("@lancedb/lancedb", "createTable(Arrow Table)", "apache-arrow Table", d.n, await timed(REPS, async (r) => {
      const db = await lancedb.connect(join(work, `l-${r}`));
      (await db.createTable("glove", arrow)).close();
      db.close();
    })));
    progress(`Arrow → table: ${rows.map((x) => `${x.system} ${x.variant} ${x.rows_per_s} rows/s`).join("; ")}`);

    // ── table → Arrow ──────────────────────────────────────────────────────────────────────
    const exportRows: ResultRow[] = [];
    exportRows.push(row("quiver", "toArrow()", "table on disk, fresh connection", d.n, await timed(REPS, async () => {
      const db = await connect(qDir(0, "table"));
      const t = await (await db.openTable("glove")).toArrow();
      if (t.numRows !== d.n) throw new Error(`quiver toArrow: ${t.numRows} rows`);
      await db.close();
    })));
    let quiverIpcBytes = 0;
    exportRows.push(row("quiver", "exportTable → IPC file", "table on disk, fresh connection", d.n, await timed(REPS, async (r) => {
      const db = await connect(qDir(0, "table"));
      quiverIpcBytes = (await exportTable(await db.openTable("glove"), join(work, `q-${r}.arrow`))).bytes;
      await db.close();
    }), { bytes: 0 }));
    exportRows.at(-1)!.bytes = quiverIpcBytes;
    exportRows.push(row("@lancedb/lancedb", "query().toArrow()", "table on disk, fresh connection", d.n, await timed(REPS, async () => {
      const db = await lancedb.connect(join(work, "l-0"));
      const t = await db.openTable("glove");
      const a = await t.query().toArrow();
      if (a.numRows !== d.n) throw new Error(`lancedb toArrow: ${a.numRows} rows`);
      t.close();
      db.close();
    })));
    // LanceDB (CommonJS) returns tables of apache-arrow's CommonJS build, which the ES module build's
    // tableToIPC does not recognise (it writes nothing): LanceDB's own copy serialises them.
    const arrowCjs = createRequire(import.meta.url)("apache-arrow") as typeof A;
    let lanceIpcBytes = 0;
    exportRows.push(row("@lancedb/lancedb", "toArrow + tableToIPC → IPC file", "table on disk, fresh connection", d.n, await timed(REPS, async (r) => {
      const db = await lancedb.connect(join(work, "l-0"));
      const t = await db.openTable("glove");
      const bytes = arrowCjs.tableToIPC(await t.query().toArrow(), "file");
      if (bytes.length === 0) throw new Error("lancedb: tableToIPC wrote nothing");
      writeFileSync(join(work, `l-${r}.arrow`), bytes);
      lanceIpcBytes = bytes.length;
      t.close();
      db.close();
    }), { bytes: 0 }));
    exportRows.at(-1)!.bytes = lanceIpcBytes;
    progress(`table → Arrow: ${exportRows.map((x) => `${x.system} ${x.variant} ${x.rows_per_s} rows/s`).join("; ")}`);
    rows.push(...exportRows);

    // ── Parquet → table ────────────────────────────────────────────────────────────────────
    const pqPath = join(work, "glove.parquet");
    writeFileSync(pqPath, parquetFile(d));
    const size = statSync(pqPath).size;
    progress(`Parquet file: ${size} bytes, row groups of ${BATCH}`);
    rows.push(row("quiver", "importTable(path)", "Parquet, local file", d.n, await timed(REPS, async (r) => {
      const db = await connect(join(work, `pq-file-${r}`));
      await importTable(db, "glove", pqPath);
      await db.close();
    }), { file_bytes: size }));
    const server = await serveFile(pqPath);
    try {
      for (const [variant, columns] of [["importTable(url)", undefined], ["importTable(url, columns: id, word)", ["id", "word"]]] as const) {
        let fetched = 0;
        const ms = await timed(REPS, async (r) => {
          const db = await connect(join(work, `pq-http-${columns ? "cols" : "all"}-${r}`));
          const before = server.sent();
          await importTable(db, "glove", server.url, columns ? { columns: [...columns] } : {});
          fetched = server.sent() - before;
          await db.close();
        });
        rows.push(row("quiver", variant, "Parquet, HTTP range requests (local node:http)", d.n, ms, { file_bytes: size, bytes_fetched: fetched, fetched_share: round(fetched / size, 3) }));
      }
    } finally {
      await server.close();
    }
    rows.push(row("@lancedb/lancedb", "hyparquet parquetReadObjects + createTable(rows)", "Parquet, local file", d.n, await timed(REPS, async (r) => {
      const { readFile } = await import("node:fs/promises");
      const buf = await readFile(pqPath);
      const objects = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer });
      const db = await lancedb.connect(join(work, `pq-l-${r}`));
      (await db.createTable("glove", objects as Record<string, unknown>[])).close();
      db.close();
    }), { file_bytes: size }));
    progress(`Parquet → table: ${rows.slice(-4).map((x) => `${x.system} ${x.variant} ${x.rows_per_s} rows/s${x.bytes_fetched !== undefined ? ` (${x.bytes_fetched} of ${x.file_bytes} bytes)` : ""}`).join("; ")}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const results = { benchmark: "interop", date: new Date().toISOString(), machine: machineInfo("shared machine: compare rows of one run"), rows };
  const get = (system: string, variant: string) => rows.find((r) => r.system === system && r.variant === variant);
  const ratio = (a?: ResultRow, b?: ResultRow): string => (a && b ? `${round(Number(a.rows_per_s) / Number(b.rows_per_s), 2)}×` : "–");
  const notes = [
    `- Arrow → table: Quiver createTable(Table) at ${ratio(get("quiver", "createTable(Arrow Table)"), get("@lancedb/lancedb", "createTable(Arrow Table)"))} LanceDB's rate; the streamed path at ${ratio(get("quiver", "createTable(async iterable of batches)"), get("@lancedb/lancedb", "createTable(Arrow Table)"))}.`,
    `- table → Arrow: Quiver toArrow() at ${ratio(get("quiver", "toArrow()"), get("@lancedb/lancedb", "query().toArrow()"))} LanceDB's rate; IPC file at ${ratio(get("quiver", "exportTable → IPC file"), get("@lancedb/lancedb", "toArrow + tableToIPC → IPC file"))}.`,
    `- Parquet over HTTP: the whole table fetched ${get("quiver", "importTable(url)")?.fetched_share ?? "–"} of the file; the id and word columns ${get("quiver", "importTable(url, columns: id, word)")?.fetched_share ?? "–"}.`,
  ];
  for (const n of notes) progress(n);
  if (!WRITE) return;
  const { md } = writeResults(results, {
    title: "Interop: Arrow and Parquet in and out",
    intro: [
      `${DATASET} (${d.n} rows: id int32, word utf8, vector ${d.dim}-d float32) moved as Arrow and Parquet, Quiver and @lancedb/lancedb in the same run, tables in a temp dir on the local file system. Times are medians of ${REPS} runs after one untimed warm-up run, from connect to the last commit (imports) or to the last byte (exports); rows/s = rows / median.`,
    ],
    groupBy: "dataset",
    columns: [
      { heading: "system", value: (r) => r.system },
      { heading: "operation", value: (r) => r.variant },
      { heading: "input / source", value: (r) => r.input },
      { heading: "rows/s", value: (r) => r.rows_per_s },
      { heading: "median ms", value: (r) => r.median_ms },
      { heading: "bytes fetched / file", value: (r) => (r.bytes_fetched !== undefined ? `${r.bytes_fetched} / ${r.file_bytes} (${r.fetched_share})` : r.file_bytes ?? r.bytes) },
    ],
    notes,
    reproduce: "npm run bench -- interop",
  });
  progress(`wrote ${md}`);
}

await main();
