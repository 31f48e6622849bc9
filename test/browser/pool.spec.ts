/**
 * The scan pool in real Chromium over message passing (the test server is not cross-origin
 * isolated, so shared memory is unavailable and "auto" must pick messages): two module workers,
 * results identical to the page's single-thread Kernels.searchBatch, ties included; with one
 * worker stalled, the other takes every chunk (work stealing) and the answers stay identical; and
 * a worker that cannot start reported as QuiverError CLOSED.
 */
import { expect, test } from "@playwright/test";
import type { PoolReport } from "./fixture/pool-main.js";

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
  expect(report.stalledChunks).toEqual([report.stalledExpectedChunks, 0]);
  expect(report.deadWorkerCode).toBe("CLOSED");
  expect(report.deadWorkerMessage).toMatch(/could not start/);
});
