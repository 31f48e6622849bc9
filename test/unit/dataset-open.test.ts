// Opening a table (src/dataset/dataset.ts): the newest readable version, when a listing names more.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/index.js";
import { FsStore } from "../../src/storage/fs-store.js";
import { LISTING_KEY, writeHttpListing } from "../../src/storage/http-store.js";
import { manifestKey } from "../../src/storage/manifest.js";
import { serveStatic } from "./static-server.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("opening the newest readable version", () => {
  it("over HTTP, a listing that names a manifest the server lacks falls back to the newest one it has", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-open-"));
    dirs.push(dir);
    const t = await (await connect(dir)).createTable("t", [{ id: 1, vector: [1, 2] }]);
    await t.add([{ id: 2, vector: [3, 4] }]);
    await t.add([{ id: 3, vector: [5, 6] }]);
    await writeHttpListing(await FsStore.open(dir));
    // A publisher that uploaded the listing before the files: it names version 4, which is not there.
    const listingPath = join(dir, LISTING_KEY);
    const listing = JSON.parse(readFileSync(listingPath, "utf8")) as { key: string; size: number }[];
    listing.push({ key: manifestKey("t", 4), size: 500 });
    writeFileSync(listingPath, JSON.stringify(listing));

    const server = await serveStatic(dir);
    try {
      const remote = await (await connect(server.origin)).openTable("t");
      expect(await remote.version()).toBe(3);
      expect(await remote.countRows()).toBe(3);
      expect((await remote.listVersions()).map((v) => v.version)).toEqual([1, 2, 3]);
    } finally {
      await server.close();
    }
  });
});
