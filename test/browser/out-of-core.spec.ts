/**
 * Out of core in real Chromium: a table of 20K × 64 vectors with an IVF_PQ index, reopened cold
 * (after a page reload) from OPFS and IndexedDB, answers an indexed query with refine by reading
 * the index head, a few partitions and the candidates' vector rows — a small fraction of the
 * vector column — with the recall of the same query in memory. In a dedicated worker on OPFS, a
 * refined query reads its candidates' rows in one sync-access-handle pass per fragment file.
 */
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import type { Checks } from "./fixture/out-of-core-main.js";

type OocGlobal = { quiverOutOfCore: Checks };

async function open(page: Page): Promise<void> {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/out-of-core.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
}

function call<N extends keyof Checks>(page: Page, name: N, ...args: Parameters<Checks[N]>): Promise<Awaited<ReturnType<Checks[N]>>> {
  return page.evaluate(([name, args]) => ((globalThis as unknown as OocGlobal).quiverOutOfCore[name] as (...a: unknown[]) => Promise<unknown>)(...args), [name, args] as const) as Promise<
    Awaited<ReturnType<Checks[N]>>
  >;
}

for (const backend of ["opfs", "idb"] as const) {
  test(`${backend}: an indexed search with refine reads a small fraction of the vectors`, async ({ page }) => {
    test.setTimeout(120_000);
    const uri = `${backend}://ooc-${randomUUID()}`;
    await open(page);
    await call(page, "build", uri);
    await page.reload();
    await expect(page.locator("body[data-ready=true]")).toBeAttached();
    const m = await call(page, "measure", uri);
    console.log(`out-of-core (${backend}): index ${m.indexBytes} B of ${m.indexFileBytes} B; data ${m.dataBytes} B of a ${m.vectorColumnBytes} B vector column; ${m.reads} reads; recall@10 vs exact ${m.recall}`);
    expect(m.indexBytes).toBeLessThan(m.indexFileBytes);
    // Footer (16 KiB), the `id` column of the hits (8 B/row) and 40 candidate rows.
    expect(m.dataBytes).toBeLessThan(m.vectorColumnBytes * 0.08);
    expect(m.recall).toBeGreaterThanOrEqual(0.85);
  });
}

test("opfs in a worker: a refined query reads its k × refineFactor candidates in one store read per fragment file", async ({ page }) => {
  test.setTimeout(180_000);
  const uri = `opfs://ooc-reads-${randomUUID()}`;
  await open(page);
  await call(page, "build", uri, 2);
  await page.reload();
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
  const r = await call(page, "refineReadsInWorker", uri, 10);
  const mean = (xs: { data: number; index: number }[]): number => xs.reduce((s, x) => s + x.data + x.index, 0) / xs.length;
  console.log(`refine reads (opfs, worker, sync access ${r.syncAccess}, refine 10): ${mean(r.planned)} store reads per query planned, ${mean(r.single)} one per span; ${r.plannedBytes / r.planned.length} B per query`);
  expect(r.syncAccess).toBe(true);
  expect(r.identical).toBe(true);
  expect(r.hits).toBe(8 * 10);
  for (const q of r.planned) {
    // 100 candidates over 2 files: their vector rows in one read per file, the hits' ids in one more per file.
    expect(q.data).toBeLessThanOrEqual(2 * 2);
    expect(q.index).toBeLessThanOrEqual(1);
  }
  for (const q of r.single) expect(q.data).toBeGreaterThan(50);
  expect(r.plannedBytes).toBe(r.singleBytes);
});
