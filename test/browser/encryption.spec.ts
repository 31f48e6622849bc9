/**
 * Encryption at rest, backups and storage limits in real Chromium: IndexedDB and OPFS, with the
 * database on the page's main thread and in a "quiverdb/worker" worker (test/browser/fixture/encryption-main.ts).
 */
import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";

type Checks = Record<string, (...args: unknown[]) => Promise<Record<string, unknown>>>;

async function open(page: Page): Promise<void> {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/encryption.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
}

function call(page: Page, name: string, ...args: unknown[]): Promise<Record<string, unknown>> {
  return page.evaluate(([name, args]) => (globalThis as unknown as { quiverEncryption: Checks }).quiverEncryption[name as string]!(...(args as unknown[])), [name, args] as const);
}

for (const backend of ["idb", "opfs"] as const) {
  for (const context of ["main", "worker"] as const) {
    test.describe(`${backend} (${context})`, () => {
      for (const kind of ["raw", "passphrase", "cryptoKey", "none"] as const) {
        test(`round trip with key ${kind}`, async ({ page }) => {
          await open(page);
          const r = await call(page, "roundTrip", backend, context, kind);
          expect(r).toMatchObject({ same: true, hitsSame: true, count: 444 });
          if (kind === "none") {
            expect(r.plaintextFound).toBe(true); // the check can see plaintext when it is there
          } else {
            expect(r).toMatchObject({ plaintextFound: false, wrong: "WRONG_KEY", noKey: "WRONG_KEY" });
          }
        });
      }

      test("tampering with a manifest, fragment, deletion file or index is CORRUPT_FILE", async ({ page }) => {
        test.setTimeout(60_000);
        await open(page);
        expect(await call(page, "tamper", backend, context)).toEqual({ manifest: "CORRUPT_FILE", fragment: "CORRUPT_FILE", deletion: "CORRUPT_FILE", index: "CORRUPT_FILE" });
      });

      test("rekey to a passphrase; the passphrase alone opens the table", async ({ page }) => {
        await open(page);
        expect(await call(page, "rekey", backend, context)).toEqual({ version: 2, count: 101 });
      });

      test("backup downloads as a file and restores from a File the user picks; a damaged file restores nothing", async ({ page }, info) => {
        await open(page);
        for (const kind of ["none", "passphrase"] as const) {
          const [download, started] = await Promise.all([page.waitForEvent("download"), call(page, "startDownload", backend, context, kind)]);
          expect(download.suggestedFilename()).toBe("notes.qvb");
          const path = info.outputPath(`${kind}.qvb`);
          await download.saveAs(path);
          const saved = await readFile(path);
          expect(saved.length).toBe(started.size);
          await page.setInputFiles("#restore-file", path);
          const restored = await call(page, "restorePicked", backend, context, kind);
          expect(restored).toMatchObject({ version: 3, indexes: 1, tags: { release: { version: 3 } } });
          expect(restored.rows).toBe(started.expected);

          saved[Math.floor(saved.length / 2)]! ^= 0x10;
          await page.setInputFiles("#restore-file", { name: "damaged.qvb", mimeType: "application/octet-stream", buffer: saved });
          expect(await call(page, "restorePicked", backend, context, kind)).toEqual({ error: "CORRUPT_FILE", tables: [] });
        }
      });

      test("storage() reports usage, quota, persistence and bytes per table and version", async ({ page }) => {
        await open(page);
        const r = await call(page, "storageReport", backend, context);
        expect(r.usage).toBeGreaterThan(0);
        expect(r.quota).toBeGreaterThan(r.usage as number);
        expect(typeof r.persistent).toBe("boolean");
        expect(r.persistedType).toBe("boolean");
        const tables = r.tables as { name: string; bytes: number; versions: { version: number; bytes: number }[]; reclaimableBytes: number }[];
        expect(tables.map((t) => t.name)).toEqual(["t"]);
        expect(tables[0]!.versions.map((v) => v.version)).toEqual([1, 2]);
        expect(tables[0]!.reclaimableBytes).toBeGreaterThan(0);
        expect(r.bytes).toBe(tables[0]!.bytes);
      });

      test("a write past storageLimit is QUOTA_EXCEEDED and writes nothing", async ({ page }) => {
        await open(page);
        const r = await call(page, "quota", backend, context);
        expect(r).toMatchObject({ error: { code: "QUOTA_EXCEEDED", details: { limitBytes: 150_000 } }, unchanged: true, count: 100 });
      });

      test("an evicted store: the table is TABLE_NOT_FOUND, never half a table", async ({ page }) => {
        await open(page);
        expect(await call(page, "evict", backend, context)).toEqual({ reopened: "TABLE_NOT_FOUND" });
      });
    });
  }
}
