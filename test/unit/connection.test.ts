// Connection (src/connection.ts): what listing tables costs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/index.js";
import type { BlobStore } from "../../src/storage/blob-store.js";
import { FsStore } from "../../src/storage/fs-store.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Records the prefixes `list` was called with. */
function recording(inner: BlobStore): { store: BlobStore; listed: string[] } {
  const listed: string[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "list") return (prefix: string) => { listed.push(prefix); return target.list(prefix); };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { store, listed };
}

describe("tableNames", () => {
  it("reads the root folder and each table's versions, not every file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-names-"));
    dirs.push(dir);
    const { store, listed } = recording(await FsStore.open(dir));
    const db = await connect(store);
    for (const name of ["b", "a", "c"]) {
      const t = await db.createTable(name, [{ id: 1, vector: [1, 2] }]);
      for (let i = 0; i < 5; i++) await t.add([{ id: i, vector: [i, i] }]);
    }
    await db.dropTable("c");
    listed.length = 0;
    expect(await db.tableNames()).toEqual(["a", "b"]);
    expect(listed.sort()).toEqual(["a.quiver/_versions/", "b.quiver/_versions/"]);
  });
});

describe("wasmMemoryLimit", () => {
  it("an allocation past the limit is OUT_OF_MEMORY naming it, and the connection stays usable", async () => {
    const db = await connect("memory://", { wasmMemoryLimit: 2 ** 20 });
    // 5,000 × 64 float32 = 1.28 MB of vectors: an exact scan uploads them whole.
    const t = await db.createTable("t", Array.from({ length: 5000 }, (_, i) => ({ id: i, vector: Array.from({ length: 64 }, (_, j) => (i * j) % 7) })));
    const err = await t.search(Array.from({ length: 64 }, () => 1)).limit(3).toArray().then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: "OUT_OF_MEMORY", details: { limitBytes: 2 ** 20 } });
    expect(db.memoryStats().wasm.allocatedBytes).toBeLessThanOrEqual(2 ** 20);
    expect(await t.countRows("id < 10")).toBe(10);
    await db.close();
    await expect(connect("memory://", { wasmMemoryLimit: 5 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
