/**
 * Remote tables in real Chromium: a published IVF_PQ table is served from another origin by a
 * local server that answers multi-range requests; the page searches it with refine. The answers
 * must equal the local table's, the candidates' rows must come in a few multi-range requests per
 * fragment (the browser sends a CORS preflight for them first), and a server that does not answer
 * preflights must still give the same answers through single-range reads. Over HTTP/1.1 Chromium
 * opens 6 connections per host: with `maxConnections: 6` a table of 20 data files reads its index
 * head before the data files' footers read ahead, instead of behind all of them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { publishTable } from "../../src/cli/publish.js";
import { connect } from "../../src/connection.js";
import { Index } from "../../src/indexes/config.js";
import { roundTrips, serveStatic, type StaticServer } from "../unit/static-server.js";
import type { Checks, RemoteAnswer } from "./fixture/remote-main.js";

const ROWS = 10_000;
const PER_FRAGMENT = 5_000;
const DIM = 64;
const NPROBES = 8;
const REFINE = 10;

function vectors(n: number, seed: number): number[][] {
  let s = seed >>> 0;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: n }, () => Array.from({ length: DIM }, rand));
}

async function search(page: Page, url: string, queries: number[][], maxConnections?: number): Promise<RemoteAnswer> {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/remote.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
  return page.evaluate(
    ([url, queries, nprobes, refine, max]) => (globalThis as unknown as { quiverRemote: Checks }).quiverRemote.search(url, queries, nprobes, refine, max ?? undefined),
    [url, queries, NPROBES, REFINE, maxConnections ?? null] as const,
  );
}

test.describe("remote tables in Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-remote-browser-"));
  const queries = vectors(3, 99);
  let want: RemoteAnswer["hits"];

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    const db = await connect(join(dir, "src"));
    const all = vectors(ROWS, 5);
    const table = await db.createTable("docs", all.slice(0, PER_FRAGMENT).map((v, id) => ({ id, vector: Float32Array.from(v) })));
    await table.add(all.slice(PER_FRAGMENT).map((v, i) => ({ id: PER_FRAGMENT + i, vector: Float32Array.from(v) })));
    await table.createIndex("vector", { config: Index.ivfPq({ numPartitions: 32, numSubVectors: 8 }) });
    want = [];
    for (const q of queries) {
      const rows = await table.search(Float32Array.from(q)).nprobes(NPROBES).refineFactor(REFINE).select(["id"]).limit(10).toArray();
      want.push(rows.map((r) => ({ id: r.id as number, distance: r._distance as number })));
    }
    await db.close();
    await publishTable(join(dir, "src"), "docs", join(dir, "site"));
  });

  test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const cors of ["full", "simple"] as const) {
    test(`refine reads candidates in few requests; same answers as the local table (server CORS: ${cors})`, async ({ page }) => {
      test.setTimeout(120_000);
      let server: StaticServer | undefined;
      try {
        server = await serveStatic(join(dir, "site"), { cors });
        const got = await search(page, server.origin, queries);
        expect(got.hits.map((h) => h.map((x) => x.id))).toEqual(want.map((h) => h.map((x) => x.id)));
        got.hits.forEach((h, i) => h.forEach((x, j) => expect(x.distance).toBeCloseTo(want[i]![j]!.distance, 4)));
        expect(got.rangeEntries).toBeGreaterThan(0);
        const data = server.log.filter((r) => r.method === "GET" && r.path.includes("/data/"));
        const multi = data.filter((r) => r.range?.includes(",") && r.status === 206);
        console.log(`remote in Chromium (cors ${cors}): ${server.log.length} requests, ${data.length} to data files, ${multi.length} multi-range, ${server.log.filter((r) => r.method === "OPTIONS").length} preflights`);
        if (cors === "full") {
          expect(multi.length).toBeGreaterThan(0);
          // 3 queries × 100 candidates over 2 fragments: footers, checksum tables, candidates and ids.
          expect(data.length).toBeLessThanOrEqual(3 * 2 * 2 + 2 * 3);
        } else {
          // Preflights fail, so every range is read alone: many more requests, the same answers.
          expect(multi).toHaveLength(0);
          expect(data.length).toBeGreaterThan(3 * 2 * 2 + 2 * 3);
        }
      } finally {
        await server?.close();
      }
    });
  }
});

test.describe("a remote table of 20 data files through Chromium's 6 connections per host", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-remote-browser-20-"));
  const FILES = 20;
  const queries = vectors(1, 77);
  let want: number[];

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    const db = await connect(join(dir, "src"));
    const all = vectors(FILES * 1000, 6);
    let table;
    for (let f = 0; f < FILES; f++) {
      const rows = all.slice(f * 1000, (f + 1) * 1000).map((v, i) => ({ id: f * 1000 + i, vector: Float32Array.from(v) }));
      table = table === undefined ? await db.createTable("docs", rows) : (await table.add(rows), table);
    }
    await table!.createIndex("vector", { config: Index.ivfPq({ numPartitions: 32, numSubVectors: 8 }) });
    want = (await table!.search(Float32Array.from(queries[0]!)).nprobes(NPROBES).refineFactor(REFINE).select(["id"]).limit(10).toArray()).map((r) => r.id as number);
    await db.close();
    await publishTable(join(dir, "src"), "docs", join(dir, "site"));
  });

  test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("with maxConnections 6 the index head waits behind one wave of footers at most; without, as the browser dispatches (logged)", async ({ page }) => {
    test.setTimeout(120_000);
    // Long enough that the requests of one wave are never taken for a chain.
    const server = await serveStatic(join(dir, "site"), { cors: "full", latencyMs: 250 });
    try {
      const waitedBehind: Record<string, number> = {};
      for (const max of [0, 6]) {
        const from = server.log.length;
        const got = await search(page, server.origin, queries, max);
        expect(got.hits[0]!.map((h) => h.id)).toEqual(want);
        const log = server.log.slice(from).filter((r) => r.method === "GET");
        const head = log.find((r) => r.path.includes("/_indices/"))!;
        waitedBehind[max] = log.filter((r) => r.path.includes("/data/") && r.end <= head.start).length;
        console.log(`Chromium, 20 data files, maxConnections ${max}: ${log.length} GETs, ${roundTrips(log)} round trips with the open, head behind ${waitedBehind[max]} footers`);
      }
      // The budget's guarantee. Without one, how many footers go first depends on the order the
      // browser dispatches requests (the head is asked for first, so usually none): logged, not asserted.
      expect(waitedBehind[6]).toBeLessThanOrEqual(6);
    } finally {
      await server.close();
    }
  });
});
