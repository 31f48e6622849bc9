/**
 * The kernels in real Chromium: loaded on the main thread and in a dedicated module Worker,
 * SIMD selected, search results equal to the plain-TS reference, and IVF_RQ's popcount scan the
 * same in the SIMD and scalar builds.
 */
import { expect, test } from "@playwright/test";

interface CheckReport {
  context: string;
  supportsSimd: boolean;
  flavors: string[];
  failures: string[];
  checks: number;
}

test.beforeEach(async ({ page }) => {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/index.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
});

for (const context of ["mainThread", "worker"] as const) {
  test(`kernels load and search correctly (${context})`, async ({ page }) => {
    const report = await page.evaluate(
      (name) => (globalThis as unknown as { quiverChecks: Record<string, () => Promise<CheckReport>> }).quiverChecks[name]!(),
      context,
    );
    expect(report.supportsSimd).toBe(true);
    expect(report.flavors).toEqual(["simd", "scalar"]);
    expect(report.failures).toEqual([]);
    expect(report.checks).toBe(2 * (3 * 3 * 2 + 2) + 1);
  });
}

test("the wasm is served and fetched as application/wasm", async ({ page }) => {
  const response = await page.request.get("/build/quiver.simd.wasm");
  expect(response.ok()).toBe(true);
  expect(response.headers()["content-type"]).toContain("application/wasm");
});
