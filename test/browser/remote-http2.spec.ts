/**
 * Remote tables in real Chromium over HTTP/2, as static hosting serves them (TLS, one connection
 * multiplexing every request): a published table of 20 data files is served by a local HTTP/2
 * server with latency, the page runs an indexed search with refine through the public API, and
 * the server counts the round trips. Over HTTP/1.1 the same query queues its reads of 20 data
 * files behind Chromium's 6 connections per host; over HTTP/2 nothing queues, so a cold query
 * takes at most 4 round trips however many data files the table has. The HTTP/1.1 figures are
 * logged next to them for comparison.
 *
 * The page is served from the table's origin (a page in the published directory that loads the
 * fixture's module from the test server), as an app hosted with its table is: a page on another
 * origin sends a CORS preflight before the first multi-range request to each file, one round trip
 * more at the partitions and one more at the candidates of a cold query (logged, not asserted).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { publishTable } from "../../src/cli/publish.js";
import { connect } from "../../src/connection.js";
import { Index } from "../../src/indexes/config.js";
import { roundTrips, serveStatic, type ServedRequest, type StaticServer } from "../unit/static-server.js";
import type { Checks } from "./fixture/remote-main.js";

const FILES = 20;
const PER_FILE = 1000;
const DIM = 64;
const NPROBES = 8;
const REFINE = 10;
// Long enough that the requests of one wave, dispatched by a loaded machine, are never taken for a chain.
const LATENCY_MS = 250;

function vectors(n: number, seed: number): number[][] {
  let s = seed >>> 0;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: n }, () => Array.from({ length: DIM }, rand));
}

// The server's certificate is self-signed, made for the run.
test.use({ ignoreHTTPSErrors: true });

test.describe("a remote table of 20 data files over HTTP/2 in Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-remote-h2-"));
  const queries = vectors(2, 31);
  let want: number[][];

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    const db = await connect(join(dir, "src"));
    const all = vectors(FILES * PER_FILE, 8);
    let table;
    for (let f = 0; f < FILES; f++) {
      const rows = all.slice(f * PER_FILE, (f + 1) * PER_FILE).map((v, i) => ({ id: f * PER_FILE + i, vector: Float32Array.from(v) }));
      table = table === undefined ? await db.createTable("docs", rows) : (await table.add(rows), table);
    }
    await table!.createIndex("vector", { config: Index.ivfPq({ numPartitions: 32, numSubVectors: 8 }) });
    want = [];
    for (const q of queries) want.push((await table!.search(Float32Array.from(q)).nprobes(NPROBES).refineFactor(REFINE).select(["id"]).limit(10).toArray()).map((r) => r.id as number));
    await db.close();
    await publishTable(join(dir, "src"), "docs", join(dir, "site"));
  });

  /** A page in the published directory running the fixture's module from the test server: its URL on the table's server. */
  const samePage = (baseURL: string): ((origin: string) => string) => {
    writeFileSync(join(dir, "site", "page.html"), `<!doctype html><meta charset="utf-8"><body><script type="module" src="${baseURL}/test/browser/fixture/remote-main.ts"></script></body>`);
    return (origin) => `${origin}/page.html`;
  };
  /** The fixture's page on the test server: another origin than the table's. */
  const otherPage = (): string => "/test/browser/fixture/remote.html";

  test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Opens the table, runs a cold and a warm query; the server's requests of each step. */
  async function run(page: Page, server: StaticServer, maxConnections: number, pageUrl: (origin: string) => string): Promise<{ open: ServedRequest[]; cold: ServedRequest[]; warm: ServedRequest[]; ids: number[][] }> {
    page.on("pageerror", (error) => console.error(error));
    await page.goto(pageUrl(server.origin));
    await expect(page.locator("body[data-ready=true]")).toBeAttached();
    const at = server.log.length;
    await page.evaluate(([url, max]) => (globalThis as unknown as { quiverRemote: Checks }).quiverRemote.open(url, max), [server.origin, maxConnections] as const);
    const open = tableOnly(server.log.slice(at));
    const steps: ServedRequest[][] = [];
    const ids: number[][] = [];
    for (const q of queries) {
      const from = server.log.length;
      ids.push(await page.evaluate(([q, nprobes, refine]) => (globalThis as unknown as { quiverRemote: Checks }).quiverRemote.query(q, nprobes, refine), [q, NPROBES, REFINE] as const));
      steps.push(tableOnly(server.log.slice(from)));
    }
    await page.evaluate(() => (globalThis as unknown as { quiverRemote: Checks }).quiverRemote.close());
    return { open, cold: steps[0]!, warm: steps[1]!, ids };
  }

  /** Requests of the table (not the page's own). */
  function tableOnly(log: readonly ServedRequest[]): ServedRequest[] {
    return log.filter((r) => r.path.includes(".quiver/") || r.path.endsWith("_listing.json"));
  }

  const describe = (log: readonly ServedRequest[]): string => `${log.length} requests (${log.filter((r) => r.method === "OPTIONS").length} preflights), ${roundTrips(log)} round trips`;

  test("an indexed query with refine takes at most 4 round trips cold; the same answers as the local table", async ({ page, baseURL }) => {
    test.setTimeout(120_000);
    const server = await serveStatic(join(dir, "site"), { cors: "full", latencyMs: LATENCY_MS, http2: true });
    try {
      const { open, cold, warm, ids } = await run(page, server, 0, samePage(baseURL!));
      expect(ids).toEqual(want);
      // Every request went over HTTP/2, none was preflighted; the cold query read all 20 data files.
      expect(server.log.every((r) => r.httpVersion === "2.0")).toBe(true);
      expect(cold.filter((r) => r.method === "OPTIONS")).toHaveLength(0);
      expect(new Set(cold.filter((r) => r.method === "GET" && r.path.includes("/data/")).map((r) => r.path)).size).toBe(FILES);
      console.log(`Chromium, HTTP/2, ${FILES} data files: open ${describe(open)}; cold query ${describe(cold)}; warm ${describe(warm)}`);
      expect(roundTrips(cold)).toBeLessThanOrEqual(4);
      expect(roundTrips(warm)).toBeLessThanOrEqual(roundTrips(cold));
    } finally {
      await server.close();
    }
  });

  test("from a page on another origin, preflights add round trips to a cold query only (logged)", async ({ page }) => {
    test.setTimeout(120_000);
    const server = await serveStatic(join(dir, "site"), { cors: "full", latencyMs: LATENCY_MS, http2: true });
    try {
      const { open, cold, warm, ids } = await run(page, server, 0, otherPage);
      expect(ids).toEqual(want);
      expect(cold.filter((r) => r.method === "OPTIONS").length).toBeGreaterThan(0);
      expect(warm.filter((r) => r.method === "OPTIONS")).toHaveLength(0);
      console.log(`Chromium, HTTP/2, page on another origin, ${FILES} data files: open ${describe(open)}; cold query ${describe(cold)}; warm ${describe(warm)}`);
    } finally {
      await server.close();
    }
  });

  test("over HTTP/1.1 the same query queues behind 6 connections (logged for comparison)", async ({ page, baseURL }) => {
    test.setTimeout(120_000);
    const server = await serveStatic(join(dir, "site"), { cors: "full", latencyMs: LATENCY_MS });
    try {
      const { open, cold, warm, ids } = await run(page, server, 6, samePage(baseURL!));
      expect(ids).toEqual(want);
      expect(tableOnly(server.log).every((r) => r.httpVersion === "1.1")).toBe(true);
      console.log(`Chromium, HTTP/1.1 (maxConnections 6), ${FILES} data files: open ${describe(open)}; cold query ${describe(cold)}; warm ${describe(warm)}`);
    } finally {
      await server.close();
    }
  });
});
