/**
 * The Chromium part of bench/remote.ts (`--http2`): the same cached tables and queries, read by
 * real Chromium through the public API (bench/remote-page, built with Vite), from a page served by
 * the table's own server (same origin: no CORS preflights). The server speaks HTTP/2 over TLS (a
 * self-signed certificate made for the run; Chromium is launched with --ignore-certificate-errors),
 * as static hosting does, so every request shares one multiplexed connection; and, for
 * comparison, plain HTTP/1.1, where Chromium opens at most 6 connections per host and queues the
 * rest (the page then gives HttpStore `maxConnections: 6`). A fresh browser context per
 * configuration, so each starts with no connection and no cache.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { roundTrips, serveStatic, type ServedRequest } from "../test/unit/static-server.js";
import { buildBenchPage, playwrightLaunchOptions } from "./browser-page.js";
import { median, p99, progress, round, type ResultRow } from "./report.js";
import type { RemoteBenchPage } from "./remote-page/page.js";

/** A step's requests counted on the server; `serverMs`: from the first request's arrival to the last answer's end. */
export interface QueryCost { ms: number; requests: number; roundTrips: number; bytes: number; serverMs: number }
export const cost = (log: readonly ServedRequest[], ms: number): QueryCost => ({
  ms, requests: log.length, roundTrips: roundTrips(log), bytes: log.reduce((s, r) => s + r.bytes, 0),
  serverMs: log.length === 0 ? 0 : Math.max(...log.map((r) => r.end)) - Math.min(...log.map((r) => r.start)),
});

export interface RemoteTable { dir: string; fragments: number; queries: Float32Array; truth: Int32Array }
export interface RemoteRun { dataset: string; partitions: number; subVectors: number; latency: number; k: number; dim: number; nq: number; sweep: readonly { nprobes: number; refineFactor: number }[] }

const benchDir = dirname(fileURLToPath(import.meta.url));
/** The protocols the Chromium rows run, and the connection budget the page gives HttpStore for each. */
const PROTOCOLS = [{ name: "HTTP/2", http2: true, maxConnections: 0 }, { name: "HTTP/1.1", http2: false, maxConnections: 6 }] as const;

/** Starts sampling the page's CPU; the function returned stops and gives the profile. */
async function startProfile(context: import("@playwright/test").BrowserContext, page: import("@playwright/test").Page): Promise<() => Promise<unknown>> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await cdp.send("Profiler.start");
  return async () => {
    const { profile } = await cdp.send("Profiler.stop");
    await cdp.detach();
    return profile;
  };
}

/** One result row of a configuration: the open's cost, the cold query and the warm ones. */
export function remoteRow(run: RemoteRun, variant: string, fragments: number, params: Record<string, unknown>, open: QueryCost, runs: readonly QueryCost[], hits: number): ResultRow {
  const [cold, ...warm] = runs;
  const pick = (f: (c: QueryCost) => number): number[] => warm.map(f);
  const r = (x: number): number => round(x, 0);
  return {
    system: "quiver", variant, dataset: `${run.dataset}, ${fragments} data files`, metric: "cosine",
    params: { numPartitions: run.partitions, numSubVectors: run.subVectors, latency_ms: run.latency, ...params },
    recall_at_10: round(hits / (runs.length * run.k), 3), queries: runs.length,
    open_ms: r(open.ms), open_requests: open.requests, open_round_trips: open.roundTrips, open_bytes: open.bytes,
    cold_ms: r(cold!.ms), cold_server_ms: r(cold!.serverMs), cold_requests: cold!.requests, cold_round_trips: cold!.roundTrips, cold_bytes: cold!.bytes,
    fragments,
    p50_ms: warm.length ? r(median(pick((c) => c.ms))) : null, server_p50_ms: warm.length ? r(median(pick((c) => c.serverMs))) : null, p99_ms: warm.length ? r(p99(pick((c) => c.ms))) : null,
    warm_requests_p50: warm.length ? median(pick((c) => c.requests)) : null, warm_round_trips_p50: warm.length ? median(pick((c) => c.roundTrips)) : null,
    warm_round_trips_max: warm.length ? Math.max(...pick((c) => c.roundTrips)) : null,
    warm_bytes_p50: warm.length ? median(pick((c) => c.bytes)) : null,
  };
}

/**
 * QUIVER_BENCH_CPU_PROFILE=<dir>: a diagnosis of each configuration's cold query, written into
 * <dir> as `<protocol>-<nprobes>-<refine>.cpuprofile` (a CDP CPU profile of the page, sampled every
 * 100 µs; open it in Chromium's DevTools or summarize it with scripts/cpuprofile-summary.mjs) and
 * `….requests.json` (the page's Resource Timing entries of the query's requests, in ms from the
 * query's start, and the server's log of them), to see where a cold query's time goes between its
 * round trips. The page is then built unminified, so the profile names functions.
 */
const PROFILE_DIR = process.env.QUIVER_BENCH_CPU_PROFILE;

/** Every protocol (`protocols`: "http2", "http1.1") and sweep entry on every table, in Chromium; a row each. */
export async function chromiumRows(run: RemoteRun, tables: readonly RemoteTable[], protocols: readonly string[] = ["http2", "http1.1"]): Promise<{ rows: ResultRow[]; browser: string }> {
  const scratch = mkdtempSync(join(tmpdir(), "quiver-bench-remote-chromium-"));
  const rows: ResultRow[] = [];
  try {
    const site = join(scratch, "www");
    progress("remote/chromium: vite build of bench/remote-page");
    await buildBenchPage(join(benchDir, "remote-page"), site, [{ find: /^quiverdb$/, replacement: join(benchDir, "../src/index.ts") }], PROFILE_DIR === undefined);
    const { chromium } = await import("@playwright/test");
    const launch = await playwrightLaunchOptions();
    const browser = await chromium.launch({ headless: true, ...launch, args: [...(launch.args ?? []), "--ignore-certificate-errors"] });
    try {
      for (const [t, table] of tables.entries()) {
        // The page and the table under one root (links, nothing copied): one origin.
        const root = join(scratch, `root-${t}`);
        mkdirSync(root);
        for (const name of readdirSync(site)) symlinkSync(join(site, name), join(root, name));
        for (const name of readdirSync(join(table.dir, "db"))) symlinkSync(join(table.dir, "db", name), join(root, name));
        for (const protocol of PROTOCOLS.filter((p) => protocols.includes(p.name.toLowerCase().replace("/", "")))) {
          const server = await serveStatic(root, { latencyMs: run.latency, http2: protocol.http2 });
          try {
            for (const { nprobes, refineFactor } of run.sweep) {
              const context = await browser.newContext({ ignoreHTTPSErrors: true });
              try {
                const page = await context.newPage();
                page.on("pageerror", (e) => progress(`page error: ${e.message}`));
                await page.goto(`${server.origin}/index.html`);
                await page.locator("body[data-ready=true]").waitFor({ state: "attached" });
                const tableLog = (from: number): ServedRequest[] => server.log.slice(from).filter((r) => r.path.startsWith("/t.quiver/") || r.path === "/_listing.json");
                const from = server.log.length;
                const openMs = await page.evaluate(([url, max]) => (globalThis as unknown as { quiverRemoteBench: RemoteBenchPage }).quiverRemoteBench.open(url, max), [server.origin, protocol.maxConnections] as const);
                const open = cost(tableLog(from), openMs);
                const runs: QueryCost[] = [];
                let hits = 0;
                for (let q = 0; q < run.nq; q++) {
                  const at = server.log.length;
                  const vector = Array.from(table.queries.subarray(q * run.dim, (q + 1) * run.dim));
                  const profiler = q === 0 && PROFILE_DIR !== undefined ? await startProfile(context, page) : undefined;
                  const got = await page.evaluate(([v, n, r, k]) => (globalThis as unknown as { quiverRemoteBench: RemoteBenchPage }).quiverRemoteBench.query(v, n, r, k), [vector, nprobes, refineFactor, run.k] as const);
                  if (profiler !== undefined) {
                    const name = join(PROFILE_DIR!, `${protocol.name.toLowerCase().replace("/", "")}-${nprobes}-${refineFactor}`);
                    mkdirSync(PROFILE_DIR!, { recursive: true });
                    writeFileSync(`${name}.cpuprofile`, JSON.stringify(await profiler()));
                    const requests = await page.evaluate((since) => (globalThis as unknown as { quiverRemoteBench: RemoteBenchPage }).quiverRemoteBench.requests(since), got.start);
                    // The server's view of the same requests: arrival and end, ms from the first arrival.
                    const served = tableLog(at);
                    const first = Math.min(...served.map((r) => r.start));
                    const serverLog = served.map((r) => ({ path: r.path, ranges: r.range?.split(",").length ?? 0, bytes: r.bytes, arrived: round(r.start - first, 1), end: round(r.end - first, 1) }));
                    writeFileSync(`${name}.requests.json`, JSON.stringify({ ms: got.ms, requests, server: serverLog }, null, 1));
                    progress(`remote/chromium: cold query profiled into ${name}.cpuprofile (${round(got.ms, 0)} ms)`);
                  }
                  runs.push(cost(tableLog(at), got.ms));
                  const want = new Set(table.truth.subarray(q * run.k, (q + 1) * run.k));
                  hits += got.ids.filter((id) => want.has(id)).length;
                }
                await page.evaluate(() => (globalThis as unknown as { quiverRemoteBench: RemoteBenchPage }).quiverRemoteBench.close());
                if (!server.log.every((r) => r.httpVersion === (protocol.http2 ? "2.0" : "1.1"))) throw new Error(`remote/chromium: a request did not go over ${protocol.name}`);
                const row = remoteRow(run, `multi-range (chromium, ${protocol.name})`, table.fragments, { nprobes, refineFactor, connections: protocol.maxConnections, protocol: protocol.name }, open, runs, hits);
                rows.push(row);
                progress(JSON.stringify(row));
              } finally {
                await context.close();
              }
            }
          } finally {
            await server.close();
          }
        }
      }
      return { rows, browser: `Chromium ${browser.version()}` };
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
