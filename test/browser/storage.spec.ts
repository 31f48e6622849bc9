/**
 * Storage in real Chromium: the BlobStore contract against IndexedDB and OPFS on the main thread
 * and in a dedicated worker (where OPFS uses sync access handles), two pages of one origin racing
 * putIfAbsent, and data surviving a reload.
 */
import { expect, test, type Page } from "@playwright/test";
import { blobStoreContract } from "../unit/storage-contract.js";
import type { Checks, ContractReport } from "./fixture/storage-checks.js";

type Context = "main" | "worker";
type StorageGlobal = {
  quiverStorage: { main: Checks; inWorker: (name: keyof Checks, ...args: unknown[]) => Promise<unknown> };
};

async function open(page: Page): Promise<void> {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/storage.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
}

function call<N extends keyof Checks>(page: Page, context: Context, name: N, ...args: Parameters<Checks[N]>): Promise<Awaited<ReturnType<Checks[N]>>> {
  return page.evaluate(
    ([context, name, args]) => {
      const s = (globalThis as unknown as StorageGlobal).quiverStorage;
      return context === "main" ? (s.main[name] as (...a: unknown[]) => Promise<unknown>)(...args) : s.inWorker(name, ...args);
    },
    [context, name, args] as const,
  ) as Promise<Awaited<ReturnType<Checks[N]>>>;
}

// The number of cases a writable store with a second handle runs; a report must account for each.
const CASES = blobStoreContract({ make: async () => undefined as never, reopen: async () => undefined as never }).length;

for (const backend of ["idb", "opfs"] as const) {
  for (const context of ["main", "worker"] as const) {
    test(`${backend} passes the BlobStore contract (${context})`, async ({ page }) => {
      await open(page);
      const report: ContractReport = await call(page, context, "runContract", backend);
      expect(report.failures).toEqual([]);
      expect(report.passed).toHaveLength(CASES);
      expect(report.context).toBe(context);
      if (backend === "opfs") expect(report.syncAccess).toBe(context === "worker");
    });

    test(`${backend}: two pages racing putIfAbsent on the same keys, one winner each (${context})`, async ({ context: browser }) => {
      const pages = [await browser.newPage(), await browser.newPage()];
      await Promise.all(pages.map(open));
      const uri = `${backend}://race-${context}`;
      const count = 30;
      const [a, b] = await Promise.all(pages.map((page, i) => call(page, context, "putIfAbsentMany", uri, count, "AB"[i]!)));
      expect([...a!, ...b!].sort()).toEqual(Array.from({ length: count }, (_, i) => `race/${i}.manifest`).sort());
      expect(a!.filter((key) => b!.includes(key))).toEqual([]);
      for (const [tag, won] of [["A", a!], ["B", b!]] as const) {
        for (const key of won.slice(0, 5)) expect(await call(pages[1]!, "main", "get", uri, key)).toBe(tag.repeat(100));
      }
    });
  }

  test(`${backend}: data survives a page reload`, async ({ page }) => {
    await open(page);
    const uri = `${backend}://reload`;
    await call(page, "main", "put", uri, "t.quiver/data/0.frag", "from the main thread");
    await call(page, "worker", "put", uri, "t.quiver/data/1.frag", "from a worker");
    await page.reload();
    await expect(page.locator("body[data-ready=true]")).toBeAttached();
    expect(await call(page, "main", "get", uri, "t.quiver/data/0.frag")).toBe("from the main thread");
    expect(await call(page, "main", "get", uri, "t.quiver/data/1.frag")).toBe("from a worker");
    expect(await call(page, "worker", "get", uri, "t.quiver/data/0.frag")).toBe("from the main thread");
  });
}

test("openStore in a browser: file paths are UNSUPPORTED, unknown schemes INVALID_ARGUMENT", async ({ page }) => {
  await open(page);
  expect(await call(page, "main", "openStoreCode", "./data")).toBe("UNSUPPORTED");
  expect(await call(page, "main", "openStoreCode", "file:///data")).toBe("UNSUPPORTED");
  expect(await call(page, "main", "openStoreCode", "s3://bucket")).toBe("INVALID_ARGUMENT");
  expect(await call(page, "main", "openStoreCode", "memory://x")).toBe("ok");
  expect(await call(page, "worker", "openStoreCode", "opfs://x")).toBe("ok");
});
