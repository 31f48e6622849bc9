/**
 * Arrow in and out in real Chromium (test/browser/fixture/arrow-main.ts): createTable from an
 * apache-arrow Table on IndexedDB, toArrow() back after reopening, search toArrow(), IPC round trip,
 * a flechette table in, and a typed error for a bad Arrow write; quiverdb/interop files
 * (test/browser/fixture/interop-main.ts): Parquet and Arrow IPC imports from File/Blob objects.
 */
import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import type { ArrowReport, StreamReport } from "./fixture/arrow-main.js";
import type { InteropReport } from "./fixture/interop-main.js";

test("idb: a table from an Arrow Table reads back as Arrow, searches as Arrow, survives IPC and reopening", async ({ page }) => {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/arrow.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
  const uri = `idb://arrow-${randomUUID()}`;
  const report = await page.evaluate((u) => (globalThis as unknown as { quiverArrow: { run(uri: string): Promise<ArrowReport> } }).quiverArrow.run(u), uri);
  expect(report).toEqual({
    numRows: 500,
    schema: ["id: Int32", "title: Utf8", "vector: FixedSizeList[16]<Float32>"],
    nulls: 10,
    vectorMatches: true,
    nearestId: 42,
    distanceType: "Float32",
    ipcRoundTripEqual: true,
    flechetteRows: 2,
    reopenedRows: 500,
    errorCode: "DIMENSION_MISMATCH",
  });
});

test("streams through quiverdb/worker on OPFS: an import pulled batch by batch, results page by page", async ({ page }) => {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/arrow.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
  const uri = `opfs://stream-${randomUUID()}`;
  const report = await page.evaluate((u) => (globalThis as unknown as { quiverArrow: { stream(uri: string): Promise<StreamReport> } }).quiverArrow.stream(u), uri);
  expect(report.pulled).toBe(5);
  expect(report.rows).toBe(1500);
  expect(report.pages.reduce((a, b) => a + b, 0)).toBe(1400);
  expect(Math.max(...report.pages)).toBeLessThanOrEqual(128);
  expect(report.firstIds[0]).toBe(100);
  expect(report.firstIds).toEqual([...report.firstIds].sort((a, b) => a - b));
  expect(report.afterBreak).toBe(10);
  expect(report.callerArraysIntact).toBe(true);
  expect(report.vectorRoundTrip).toBe(true);
});

test("interop files: a Parquet File into IndexedDB, an Arrow IPC file through OPFS, garbage refused", async ({ page }) => {
  test.setTimeout(60_000); // five imports and two exports; the shared machine can be slow
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/interop.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
  const name = `interop-${randomUUID()}`;
  const report = await page.evaluate((n) => (globalThis as unknown as { quiverInterop: { run(n: string): Promise<InteropReport> } }).quiverInterop.run(n), name);
  expect(report).toEqual({
    parquetRows: 1000,
    parquetProgress: [250, 500, 750, 1000],
    parquetTypes: ["id:int", "name:utf8", "score:float", "big:int", "ts:timestamp", "flag:bool", "tags:list", "vector:vector"],
    nearestId: 567,
    nullNames: 334,
    ipcBytes: expect.any(Number),
    ipcRows: 1000,
    ipcSameRows: true,
    streamRows: 1000,
    garbageCode: "CORRUPT_FILE",
    tablesAfterGarbage: ["ipc", "stream"],
  });
  expect(report.ipcBytes).toBeGreaterThan(1000 * 16);
});
