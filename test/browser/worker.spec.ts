/**
 * The public Table API in real Chromium: the same cases as the Node suites (test/unit/api-suite.ts),
 * on the page's main thread and through a Web Worker (quiverdb/worker), on IndexedDB and OPFS.
 */
import { expect, test, type Page } from "@playwright/test";
import { apiSuite } from "../unit/api-suite.js";
import type { ApiReport } from "./fixture/api-main.js";

type ApiGlobal = {
  quiverApi: {
    run(backend: string, context: string): Promise<ApiReport>;
    ownWorker(backend: string): Promise<{ ids: number[]; closedCode: string; code: string; isQuiverError: boolean }>;
  };
};

async function open(page: Page): Promise<void> {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/api.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
}

const CASES = apiSuite({ connect: async () => undefined as never }).map((c) => c.name);

for (const backend of ["idb", "opfs"] as const) {
  for (const context of ["main", "worker"] as const) {
    test(`${backend}: the Table API suite (${context === "main" ? "main thread" : "through a Web Worker"})`, async ({ page }) => {
      await open(page);
      const report = await page.evaluate(([b, c]) => (globalThis as unknown as ApiGlobal).quiverApi.run(b, c), [backend, context] as const);
      expect(report.failures).toEqual([]);
      expect(report.passed).toEqual(CASES);
    });
  }

  test(`${backend}: connectWorker() starts its own worker, keeps error codes, and answers CLOSED after close()`, async ({ page }) => {
    await open(page);
    const out = await page.evaluate((b) => (globalThis as unknown as ApiGlobal).quiverApi.ownWorker(b), backend);
    expect(out).toEqual({ ids: [5, 6, 4], closedCode: "CLOSED", code: "DIMENSION_MISMATCH", isQuiverError: true });
  });
}
