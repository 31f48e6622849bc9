/**
 * The cost of encryption at rest, and backup/restore sizes and times, on glove-100d-100k (100K
 * rows: id, word, 100-d float32 vector): the same table plain and encrypted (AES-256-GCM, raw key;
 * a passphrase adds one PBKDF2 derivation per connect, timed separately), side by side in one run.
 *
 *   node fs / memory   connect(tmpdir) or memory://name, in this process
 *   chromium OPFS      a `vite build` of bench/storage-page, main thread and dedicated worker
 *
 * Per configuration: ingest (one createTable) and IVF-PQ build (256 partitions, 25 sub-vectors),
 * cold open → first exact cosine top-10 (a new connection and session; Node: the OS page cache is
 * warm, Chromium: after a page reload), exact search p50/p99 (bypassVectorIndex) and indexed search
 * p50/p99 (nprobes 20, refineFactor 10: re-ranking range-reads vectors, so it pays decryption per
 * chunk) over the first NQ queries, recall@10 against the published angular ground truth, then
 * table.backup() (size, time) and restoreBackup() into a fresh database (time).
 *
 *   npm run bench -- encryption                 full run (NQ = 200), writes bench/results/encryption.{json,md}
 *   npm run bench -- encryption --quick         NQ = 20, prints only
 *   npm run bench -- encryption --rows 5000     a smoke run on the first rows (ground truth no longer applies)
 *   npm run bench -- encryption --no-browser    Node rows only
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "../src/index.js";
import { buildBenchPage, playwrightLaunchOptions, staticServer } from "./browser-page.js";
import { loadGlove, recallAtK } from "./datasets.js";
import { buildTable, queryTable, type BuildResult, type QueryResult } from "./encryption-tasks.js";
import { machineInfo, progress, quantile, round, writeResults, type ResultRow } from "./report.js";

const benchDir = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const BROWSER = !args.includes("--no-browser");
const rowsAt = args.indexOf("--rows");
const ROWS = rowsAt >= 0 ? Number(args[rowsAt + 1]) : undefined;
const NQ = QUICK ? 20 : 200;

function figures(b: BuildResult, q: QueryResult, truth: ReturnType<typeof loadGlove>["groundTruth"], n: number): Partial<ResultRow> {
  const p = (xs: number[], at: number) => round(quantile(xs, at), 2);
  const full = ROWS === undefined;
  return {
    rows: b.rows, ingest_s: round(b.ingest_ms / 1000, 2), index_build_s: round(b.index_ms / 1000, 2),
    cold_open_ms: round(q.cold_open_ms, 1),
    exact_p50_ms: p(q.exact_ms, 0.5), exact_p99_ms: p(q.exact_ms, 0.99),
    indexed_p50_ms: p(q.indexed_ms, 0.5), indexed_p99_ms: p(q.indexed_ms, 0.99),
    recall_exact_at_10: full ? round(recallAtK(q.exact_ids, truth, 10), 3) : undefined,
    recall_indexed_at_10: full ? round(recallAtK(q.indexed_ids, truth, 10), 3) : undefined,
    backup_bytes: q.backup_bytes, backup_s: round(q.backup_ms / 1000, 2), restore_s: round(q.restore_ms / 1000, 2),
    restored_ok: q.restored_rows === n,
  };
}

async function passphraseConnectMs(): Promise<number> {
  const uri = `memory://kdf-${Date.now()}`;
  await (await connect(uri, { encryption: { key: { passphrase: "bench" } } })).close();
  const t0 = performance.now();
  await (await connect(uri, { encryption: { key: { passphrase: "bench" } } })).close();
  return performance.now() - t0;
}

async function runBrowser(base: Float32Array, words: string[], dim: number, queries: Float32Array, scratch: string): Promise<Map<string, { b: BuildResult; q: QueryResult }>> {
  const dataDir = join(scratch, "www-data");
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, "base.f32"), new Uint8Array(base.buffer, base.byteOffset, base.byteLength));
  writeFileSync(join(dataDir, "words.txt"), words.join("\n"));
  writeFileSync(join(dataDir, "queries.f32"), new Uint8Array(queries.buffer, queries.byteOffset, queries.byteLength));
  writeFileSync(join(dataDir, "meta.json"), JSON.stringify({ n: base.length / dim, dim }));
  progress("chromium: vite build of bench/storage-page");
  const site = join(scratch, "www");
  await buildBenchPage(join(benchDir, "storage-page"), site);
  const { server, origin } = await staticServer(site, dataDir);
  const { chromium } = await import("@playwright/test");
  const context = await chromium.launchPersistentContext(join(scratch, "chromium-profile"), { headless: true, ...(await playwrightLaunchOptions()) });
  const out = new Map<string, { b: BuildResult; q: QueryResult }>();
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => progress(`page error: ${e.message}`));
    const ready = async (): Promise<void> => { await page.waitForSelector("body[data-ready=true]", { state: "attached" }); };
    const call = <T>(where: string, name: string, ...a: unknown[]): Promise<T> =>
      page.evaluate(([where, name, a]) => {
        const b = (globalThis as unknown as { quiverBench: { main: Record<string, (...x: unknown[]) => Promise<unknown>>; inWorker: (n: string, ...x: unknown[]) => Promise<unknown> } }).quiverBench;
        return where === "main" ? b.main[name]!(...a) : b.inWorker(name, ...a);
      }, [where, name, a] as const) as Promise<T>;
    await page.goto(`${origin}/index.html`);
    await ready();
    for (const where of ["main", "worker"]) {
      for (const encrypted of [false, true]) {
        const uri = `opfs://enc-bench-${where}-${encrypted}`;
        const b = await call<BuildResult>(where, "encryptionBuild", uri, encrypted);
        await page.reload();
        await ready();
        const q = await call<QueryResult>(where, "encryptionQuery", uri, encrypted, `${uri}-restored`);
        out.set(`${where}/${encrypted}`, { b, q });
        progress(`  opfs ${where} ${encrypted ? "encrypted" : "plain"}: cold open ${round(q.cold_open_ms, 1)} ms, exact p50 ${round(quantile(q.exact_ms, 0.5), 2)} ms, indexed p50 ${round(quantile(q.indexed_ms, 0.5), 2)} ms`);
      }
    }
  } finally {
    await context.close();
    server.close();
  }
  return out;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "quiver-bench-encryption-"));
  const rows: ResultRow[] = [];
  try {
    progress("loading glove-100d-100k");
    const g = loadGlove("cosine");
    const dim = g.base.dim;
    const n = Math.min(ROWS ?? g.base.n, g.base.n);
    const base = g.base.data.subarray(0, n * dim);
    const words = g.words!.slice(0, n);
    const queries = g.queries.data.slice(0, NQ * dim);
    const truth = { ...g.groundTruth, data: g.groundTruth.data.slice(0, NQ * g.groundTruth.dim), n: NQ };
    const dataset = ROWS === undefined ? "glove-100d-100k" : `glove-100d-100k (first ${n} rows)`;

    for (const variant of ["fs", "memory"] as const) {
      for (const encrypted of [false, true]) {
        const uri = variant === "fs" ? join(scratch, `fs-${encrypted}`) : `memory://bench-${encrypted}`;
        const restoreUri = variant === "fs" ? join(scratch, `fs-${encrypted}-restored`) : `memory://bench-${encrypted}-restored`;
        progress(`node ${variant} ${encrypted ? "encrypted" : "plain"}`);
        const b = await buildTable(uri, encrypted, base, words, dim);
        const q = await queryTable(uri, encrypted, queries, dim, restoreUri);
        rows.push({ system: "quiver", variant, context: "node", encryption: encrypted ? "AES-256-GCM" : "none", dataset, ...figures(b, q, truth, n) });
        progress(`  cold open ${rows.at(-1)!.cold_open_ms} ms, exact p50 ${rows.at(-1)!.exact_p50_ms} ms, indexed p50 ${rows.at(-1)!.indexed_p50_ms} ms, backup ${rows.at(-1)!.backup_bytes} B`);
        if (variant === "fs") { rmSync(uri, { recursive: true, force: true }); rmSync(restoreUri, { recursive: true, force: true }); }
      }
    }
    if (BROWSER) {
      const run = await runBrowser(base, words, dim, queries, scratch);
      for (const [key, { b, q }] of run) {
        const [where, encrypted] = key.split("/");
        rows.push({ system: "quiver", variant: "opfs", context: `chromium ${where}`, encryption: encrypted === "true" ? "AES-256-GCM" : "none", dataset, ...figures(b, q, truth, n) });
      }
    }
    const kdf = await passphraseConnectMs();
    const results = {
      benchmark: "encryption", date: new Date().toISOString(), machine: machineInfo(), rows,
      passphrase_connect_ms: round(kdf, 1), pbkdf2_iterations: 600_000,
    };
    const overhead = (field: string, variant: string, context: string): string => {
      const plain = rows.find((r) => r.variant === variant && r.context === context && r.encryption === "none")?.[field] as number | undefined;
      const enc = rows.find((r) => r.variant === variant && r.context === context && r.encryption !== "none")?.[field] as number | undefined;
      return plain && enc ? `${round(enc / plain, 2)}×` : "–";
    };
    const contexts = [...new Set(rows.map((r) => `${r.variant as string}|${r.context as string}`))];
    const notes = contexts.map((c) => {
      const [variant, context] = c.split("|") as [string, string];
      return `${variant} (${context}), encrypted ÷ plain: cold open ${overhead("cold_open_ms", variant, context)}, exact p50 ${overhead("exact_p50_ms", variant, context)}, indexed p50 ${overhead("indexed_p50_ms", variant, context)}, ingest ${overhead("ingest_s", variant, context)}, backup bytes ${overhead("backup_bytes", variant, context)}.`;
    });
    notes.push(`Connecting with a passphrase (PBKDF2-SHA-256, 600,000 iterations) costs ${round(kdf, 1)} ms once per connect.`);
    const md = {
      title: "Encryption at rest: cost, and backup/restore",
      intro: ["The same table plain and encrypted (AES-256-GCM in 16 KiB chunks, Web Crypto), in one run."],
      columns: [
        { heading: "store", value: (r: ResultRow) => `${r.variant} (${r.context})` },
        { heading: "encryption", value: (r: ResultRow) => r.encryption },
        { heading: "ingest s", value: (r: ResultRow) => r.ingest_s },
        { heading: "IVF-PQ build s", value: (r: ResultRow) => r.index_build_s },
        { heading: "cold open → first result ms", value: (r: ResultRow) => r.cold_open_ms },
        { heading: "exact p50 / p99 ms", value: (r: ResultRow) => `${r.exact_p50_ms} / ${r.exact_p99_ms}` },
        { heading: "indexed p50 / p99 ms", value: (r: ResultRow) => `${r.indexed_p50_ms} / ${r.indexed_p99_ms}` },
        { heading: "recall@10 exact / indexed", value: (r: ResultRow) => `${r.recall_exact_at_10 ?? "–"} / ${r.recall_indexed_at_10 ?? "–"}` },
        { heading: "backup bytes", value: (r: ResultRow) => r.backup_bytes },
        { heading: "backup s", value: (r: ResultRow) => r.backup_s },
        { heading: "restore s", value: (r: ResultRow) => r.restore_s },
      ],
      notes,
      reproduce: "npm run bench -- encryption",
    };
    if (QUICK || ROWS !== undefined) {
      console.log(JSON.stringify(rows, null, 1));
      console.log(notes.join("\n"));
    } else {
      const { md: file } = writeResults(results, md);
      progress(`wrote ${file}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
