/**
 * Arrow in and out in real Chromium (test/browser/fixture/arrow-main.ts): createTable from an
 * apache-arrow Table on IndexedDB, toArrow() back after reopening, search toArrow(), IPC round trip,
 * a flechette table in, and a typed error for a bad Arrow write.
 */
import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import type { ArrowReport } from "./fixture/arrow-main.js";

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
