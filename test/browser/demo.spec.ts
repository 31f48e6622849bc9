/**
 * The web demo (web-demo/, served by the root vite.config.ts) on real data in Chromium: build the
 * GloVe words table with its IVF_PQ index on the first 20,000 words (?n=20000; "violin" is word
 * 10,028), ask for piano's nearest words, reload and find the table reopened from OPFS, then build
 * SciFact and run a filtered BM25 query.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { expect, test } from "@playwright/test";

const data = process.env.QUIVER_DATA ?? resolve(import.meta.dirname, "../../../shared/data");
const DEMO = "http://localhost:5173/?n=20000";

test.skip(!existsSync(resolve(data, "glove-100d-100k/glove100k_base.fvecs")), `no GloVe data in ${data}`);

test("demo: nearest words on 20K GloVe rows, persisted across a reload; SciFact BM25 with a filter", async ({ page }) => {
  test.setTimeout(120_000);
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(DEMO);
  await expect(page.locator("#status")).toHaveAttribute("data-state", "ready");

  const words = page.locator("#words");
  await expect(words).toHaveAttribute("data-state", "idle");
  await page.click("#words-build");
  await expect(words).toHaveAttribute("data-state", "loading");
  await expect(words).toHaveAttribute("data-state", "ready", { timeout: 90_000 });
  await expect(page.locator("#words-progress")).toHaveJSProperty("value", 1);
  await expect(page.locator("#words-info")).toHaveText(/^built table v\d+ in .* — 20,000 rows$/);

  await page.fill("#words-query", "piano");
  await page.press("#words-query", "Enter");
  await expect(page.locator("#words-results li")).toHaveCount(10);
  await expect(page.locator("#words-results .word")).toContainText(["violin"]);
  await expect(page.locator("#words-results .word").filter({ hasText: /^piano$/ })).toHaveCount(0);

  await page.click("#words-recall");
  await expect(page.locator("#words-timing")).toHaveText(/^recall@10 ≈ (0|1)\.\d{3} over 100 queries/, { timeout: 30_000 });

  await page.reload();
  await expect(words).toHaveAttribute("data-state", "ready");
  await expect(page.locator("#words-info")).toHaveText(/^opened existing table v\d+ in [\d.]+ ms — 20,000 rows$/);
  await page.check("#words-exact");
  await page.fill("#words-query", "piano");
  await page.press("#words-query", "Enter");
  await expect(page.locator("#words-results .word")).toContainText(["violin"]);
  await expect(page.locator("#words-timing")).toContainText("exact scan");

  await page.click("#scifact-build");
  await expect(page.locator("#scifact")).toHaveAttribute("data-state", "ready", { timeout: 60_000 });
  await page.fill("#scifact-query", "vitamin D deficiency");
  await page.fill("#scifact-where", "title ILIKE '%vitamin%'");
  await page.press("#scifact-query", "Enter");
  await expect(page.locator("#scifact-timing")).toHaveText(/^\d+ abstracts by BM25 in .* \(where title ILIKE '%vitamin%'\)$/);
  const titles = await page.locator("#scifact-results strong").allTextContents();
  expect(titles.length).toBeGreaterThan(0);
  for (const t of titles) expect(t.toLowerCase()).toContain("vitamin");

  await page.fill("#scifact-where", "title >");
  await page.press("#scifact-query", "Enter");
  await expect(page.locator("#scifact-timing code")).toHaveText("INVALID_FILTER");

  await page.fill("#scifact-where", "");
  await page.press("#scifact-query", "Enter");
  await expect(page.locator("#scifact-timing")).toHaveText(/^10 abstracts by BM25/);
  await page.screenshot({ path: "test-results/demo.png", fullPage: true });
  expect(pageErrors).toEqual([]);
});
