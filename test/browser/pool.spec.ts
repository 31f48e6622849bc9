/**
 * The scan pool in real Chromium over message passing (the test server is not cross-origin
 * isolated, so shared memory is unavailable and "auto" must pick messages): two module workers,
 * results identical to the page's single-thread Kernels.searchBatch, ties included; with one
 * worker stalled, the other takes every chunk (work stealing) and the answers stay identical; and
 * a worker that cannot start reported as QuiverError CLOSED. Index builds on the same kind of pool
 * (message passing: no SharedArrayBuffer here) give the one-thread k-means and index files, byte
 * for byte, with the rows sent once and only centroids per k-means iteration.
 */
import { expect, test } from "@playwright/test";
import type { BuildReport, PoolReport } from "./fixture/pool-main.js";

test("scan pool: message transport in Chromium equals the single-thread scan", async ({ page }) => {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/pool.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
  const report = await page.evaluate(() => (globalThis as unknown as { quiverPool: { run: () => Promise<PoolReport> } }).quiverPool.run());
  expect(report.crossOriginIsolated).toBe(false);
  expect(report.autoTransport).toBe("message");
  expect(report.sharedCode).toBe("UNSUPPORTED");
  expect(report.mismatches).toEqual([]);
  expect(report.comparisons).toBe(3 * 4 * 4);
  expect(report.stalledMismatches).toEqual([]);
  expect(report.stalledExpectedChunks).toBeGreaterThan(8);
  expect(report.stalledChunks).toEqual([report.stalledExpectedChunks, 0]);
  expect(report.deadWorkerCode).toBe("CLOSED");
  expect(report.deadWorkerMessage).toMatch(/could not start/);
});

test("index builds over message passing in Chromium equal the single-thread build", async ({ page }) => {
  test.setTimeout(120_000);
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/pool.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
  const report = await page.evaluate(() => (globalThis as unknown as { quiverPool: { build: () => Promise<BuildReport> } }).quiverPool.build());
  expect(report.transport).toBe("message");
  expect(report.kmeansIdentical).toBe(true);
  const steps = report.kmeansIterations + 1;
  // The rows crossed once; each step sent the two workers the centroids (50 × 32 f32) and got back
  // 8 bytes (assignment, distance) per row.
  expect(report.kmeansTraffic).toEqual({ rowBytes: report.kmeansRowBytes, inputBytes: steps * 2 * 50 * 32 * 4, outputBytes: steps * 6000 * 8, requests: 2 + 2 * steps });
  // IVF_PQ 8 and 4 bits, IVF_SQ, IVF_FLAT; l2 and cosine each.
  expect(report.files).toBe(8);
  expect(report.fileMismatches).toEqual([]);
  expect(report.buildParts.every((c) => c > 0)).toBe(true);
  // Four IVF_PQ builds (8 and 4 bits, l2 and cosine) encoded all 6000 rows on the workers, half each.
  expect(report.pqEncodedRows).toEqual([4 * 3000, 4 * 3000]);
  // Progress kept coming while the workers ran: every k-means iteration, every PQ sub-space, the encoding.
  expect(report.progress.kmeans).toBeGreaterThanOrEqual(2);
  expect(report.progress["train-pq"]).toBe(8);
  expect(report.progress.encode).toBeGreaterThanOrEqual(1);
});
