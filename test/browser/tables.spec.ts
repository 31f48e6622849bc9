/**
 * Tables through the public API in real Chromium, on IndexedDB and OPFS: a table built on the main
 * thread or in a dedicated worker reads back the same after a real page reload (rows, searches,
 * version, older versions); two pages, or two workers, appending at once lose no row; a reader holding
 * a checked-out version does not see a writer's commits until checkoutLatest().
 */
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import type { Checks } from "./fixture/tables-checks.js";

/** Where a check runs: the page's main thread, or the page's dedicated worker number n. */
type Where = "main" | number;
type TablesGlobal = {
  quiverTables: { main: Checks; inWorker: (index: number, name: keyof Checks, ...args: unknown[]) => Promise<unknown> };
};

async function open(page: Page): Promise<void> {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/tables.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
}

function call<N extends keyof Checks>(page: Page, where: Where, name: N, ...args: Parameters<Checks[N]>): Promise<Awaited<ReturnType<Checks[N]>>> {
  return page.evaluate(
    ([where, name, args]) => {
      const t = (globalThis as unknown as TablesGlobal).quiverTables;
      return where === "main" ? (t.main[name] as (...a: unknown[]) => Promise<unknown>)(...args) : t.inWorker(where, name, ...args);
    },
    [where, name, args] as const,
  ) as Promise<Awaited<ReturnType<Checks[N]>>>;
}

/** A database no other test (or earlier run) has touched. */
const freshUri = (backend: string, what: string): string => `${backend}://tables-${what}-${randomUUID()}`;

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

/** Round r of two writers meeting at a barrier before each add commits versions 2 + 2r and 3 + 2r. */
function expectRounds(a: number[], b: number[]): void {
  expect(a).toHaveLength(10);
  expect(b).toHaveLength(10);
  for (let r = 0; r < 10; r++) expect([a[r]!, b[r]!].sort((x, y) => x - y)).toEqual([2 + 2 * r, 3 + 2 * r]);
}

// What `build` leaves: ids 0..2299, minus the deleted ones, plus 5000..5039.
const BUILT_IDS = [...range(0, 2300).filter((id) => !(id % 17 === 0 || (id >= 100 && id < 150))), ...range(5000, 40)];

for (const backend of ["idb", "opfs"] as const) {
  for (const where of ["main", 0] as const) {
    const label = where === "main" ? "main thread" : "worker";
    test(`${backend}: a table written on the ${label} reads back the same after a reload`, async ({ page }) => {
      await open(page);
      const uri = freshUri(backend, "reload");
      const built = await call(page, where, "build", uri);
      const r = built.report;
      expect(r.context).toBe(where === "main" ? "main" : "worker");
      expect(r.version).toBe(6);
      expect(r.versions).toEqual([1, 2, 3, 4, 5, 6]);
      expect(r.operations).toEqual(["create", "append", "delete", "update", "update", "append"]);
      expect(r.rows).toBe(BUILT_IDS.length);
      expect(built.countRows).toBe(BUILT_IDS.length);
      expect(r.filteredCount).toBe(BUILT_IDS.filter((id) => id % 5 === 2).length);
      expect(r.search).toHaveLength(10);
      expect(r.search[0]!.id).toBe(7); // updated to the query vector itself
      expect(r.search[0]!.distance).toBeCloseTo(0, 5);
      expect(r.filteredSearch).toHaveLength(10);
      for (const h of r.filteredSearch) expect(h.id % 5 === 2 && h.id < 1500).toBe(true);
      expect(built.history.map((h) => h.version)).toEqual([1, 2, 3, 4, 5, 6]);
      const afterDelete = BUILT_IDS.length - 40;
      expect(built.history.map((h) => h.rows)).toEqual([2000, 2300, afterDelete, afterDelete, afterDelete, BUILT_IDS.length]);
      expect(new Set(built.history.map((h) => h.digest)).size).toBe(6);

      await page.reload();
      await expect(page.locator("body[data-ready=true]")).toBeAttached();
      const older = [1, 3, 5];
      for (const reader of [where, where === "main" ? 0 : "main"] as const) {
        const again = await call(page, reader, "reopen", uri, older);
        expect({ ...again.report, context: r.context }).toEqual(r);
        expect(again.checkedOut).toEqual(older.map((v) => built.history[v - 1]));
        expect(again.afterCheckoutLatest).toEqual(built.history[5]);
      }
    });
  }

  test(`${backend}: two pages appending to one table at once lose no row`, async ({ context }) => {
    const pages = [await context.newPage(), await context.newPage()];
    await Promise.all(pages.map(open));
    const uri = freshUri(backend, "pages");
    expect(await call(pages[0]!, "main", "createSeed", uri, "race")).toBe(1);
    const [a, b] = await Promise.all(pages.map((page, i) => call(page, "main", "appendMany", uri, "race", i * 10_000, 10, 20, 2)));
    expectRounds(a!.versions, b!.versions);
    const outcome = await call(pages[1]!, "main", "inspectRace", uri, "race");
    expect(outcome.damaged).toEqual([]);
    expect(outcome.ids).toEqual([-1, ...range(0, 200), ...range(10_000, 200)]);
    expect(outcome.version).toBe(21);
    expect(outcome.versions).toEqual(range(1, 21));
  });

  test(`${backend}: a reader on a checked-out version does not see a writer's commits until checkoutLatest()`, async ({ context }) => {
    const [writer, reader] = [await context.newPage(), await context.newPage()];
    await Promise.all([writer, reader].map(open));
    const uri = freshUri(backend, "reader");
    const built = await call(writer, "main", "build", uri);
    const pinned = await call(reader, "main", "readerPin", uri, "items");
    expect(pinned).toEqual(built.history[5]);
    const before = await call(reader, "main", "readerRead");

    const written = await call(writer, "main", "writeMore", uri, "items");
    expect(written.version).toBe(9);
    expect(written.digest).not.toBe(pinned.digest);

    const during = await call(reader, "main", "readerRead");
    expect(during).toEqual(before);
    expect({ version: during.version, rows: during.rows, digest: during.digest }).toEqual(pinned);
    expect(await call(reader, "main", "readerLatest")).toEqual(written);
  });
}

test("opfs: two dedicated workers of one page appending to one table at once lose no row", async ({ page }) => {
  await open(page);
  const uri = freshUri("opfs", "workers");
  expect(await call(page, 0, "createSeed", uri, "race")).toBe(1);
  const [a, b] = await Promise.all([0, 1].map((w) => call(page, w, "appendMany", uri, "race", w * 10_000, 10, 20, 2)));
  expect(a!.context).toBe("worker");
  expectRounds(a!.versions, b!.versions);
  const outcome = await call(page, "main", "inspectRace", uri, "race");
  expect(outcome.damaged).toEqual([]);
  expect(outcome.ids).toEqual([-1, ...range(0, 200), ...range(10_000, 200)]);
  expect(outcome.version).toBe(21);
  expect(outcome.versions).toEqual(range(1, 21));
});

for (const kind of ["hnsw", "ivfPq"] as const) {
  test(`an in-thread ${kind} build yields: the page paints while it runs`, async ({ page }) => {
    test.setTimeout(60_000);
    await open(page);
    const r = await call(page, "main", "buildWhilePainting", kind, 20_000);
    console.log(`in-thread ${kind} build of 20K × 64: ${JSON.stringify(r)}`);
    expect(r.progressEvents).toBeGreaterThan(2);
    // A build that never yields paints at most once, after it ends.
    expect(r.frames).toBeGreaterThan(5);
  });
}

test("soak in a tab: 1,000 open/search/update/reindex/optimize/close cycles on IndexedDB keep memory flat", async ({ page }) => {
  test.setTimeout(300_000);
  await open(page);
  const cacheBytes = 32 * 2 ** 20;
  const r = await call(page, "main", "soak", freshUri("idb", "soak"), 50_000, 1000, cacheBytes);
  const first = r.samples[0]!;
  const last = r.samples.at(-1)!;
  const peak = r.samples.reduce((a, b) => (b.wasm > a.wasm ? b : a));
  console.log(`Chromium soak (idb, 50K × 32, ${r.samples.at(-1)!.cycle} cycles, ${Math.round(r.ms / 1000)} s): ${JSON.stringify({ first, peak, last, msByStep: r.msByStep })}`);
  for (const s of r.samples) expect(s.cache).toBeLessThanOrEqual(cacheBytes);
  expect(r.leasedOutside).toBe(0);
  // WebAssembly memory in use stays within one cache budget of the first cycle's, and does not
  // climb from the first half of the run to the second.
  for (const s of r.samples) expect(s.wasm).toBeLessThanOrEqual(first.wasm + cacheBytes);
  const half = r.samples.filter((s) => s.cycle >= 500);
  const firstHalfPeak = Math.max(...r.samples.filter((s) => s.cycle < 500).map((s) => s.wasm));
  expect(Math.max(...half.map((s) => s.wasm))).toBeLessThanOrEqual(firstHalfPeak + cacheBytes / 4);
  // The JS heap (Chromium's performance.memory, where it reports) does not grow per cycle.
  if (last.heap > 0) {
    const heapFirstHalf = Math.max(...r.samples.filter((s) => s.cycle < 500).map((s) => s.heap));
    expect(Math.max(...half.map((s) => s.heap))).toBeLessThanOrEqual(heapFirstHalf + 64 * 2 ** 20);
  }
});
