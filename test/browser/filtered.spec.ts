/**
 * Filtered ANN in real Chromium on OPFS (issue 12): a persisted table with a BTREE on the filter
 * column, reopened after a reload, returns k rows with recall@10 ≥ 0.95 against exact filtered
 * search at selectivities 0.1 %, 1 %, 10 % and 50 %, for IVF_PQ and HNSW_SQ; the plan names the
 * btree and a strategy for each.
 */
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import type { Checks } from "./fixture/filtered-main.js";

type FilteredGlobal = { quiverFiltered: Checks };

async function open(page: Page): Promise<void> {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/filtered.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
}

function call<N extends keyof Checks>(page: Page, name: N, ...args: Parameters<Checks[N]>): Promise<Awaited<ReturnType<Checks[N]>>> {
  return page.evaluate(([name, args]) => ((globalThis as unknown as FilteredGlobal).quiverFiltered[name] as (...a: unknown[]) => Promise<unknown>)(...args), [name, args] as const) as Promise<
    Awaited<ReturnType<Checks[N]>>
  >;
}

for (const kind of ["IVF_PQ", "HNSW_SQ"] as const) {
  test(`opfs: ${kind} filtered search returns k rows at recall ≥ 0.95 at every selectivity`, async ({ page }) => {
    test.setTimeout(180_000);
    const uri = `opfs://filtered-${randomUUID()}`;
    await open(page);
    await call(page, "build", uri, kind);
    await page.reload();
    await expect(page.locator("body[data-ready=true]")).toBeAttached();
    const results = await call(page, "measure", uri, kind);
    for (const r of results) {
      console.log(`${kind} on OPFS, cat < ${r.cats} (${r.cats / 10} %): ${r.rows} rows, recall@10 ${r.recall.toFixed(3)}, strategy ${r.strategy}`);
      expect(r.rows).toBe(10);
      expect(r.recall).toBeGreaterThanOrEqual(0.95);
      expect(r.plan).toContain("cat_idx (BTREE on cat)");
    }
    // Few matching rows are scanned exactly; half the table goes through the index with the filter inside it.
    expect(results[0]!.strategy).toBe("exact-prefiltered");
    expect(results[3]!.strategy).toBe("ann-prefiltered");
  });
}
