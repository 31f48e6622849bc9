import "fake-indexeddb/auto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { FsStore } from "../../src/storage/fs-store.js";
import { HttpStore } from "../../src/storage/http-store.js";
import { IdbStore } from "../../src/storage/idb-store.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { openStore } from "../../src/storage/open-store.js";
import { assertRejects, bytes } from "./storage-contract.js";

const base = await mkdtemp(join(tmpdir(), "quiver-open-"));
afterAll(() => rm(base, { recursive: true, force: true }));

describe("openStore", () => {
  it("memory://name is shared within the realm; memory:// is always fresh", async () => {
    const a = await openStore("memory://open-shared");
    const b = await openStore("memory://open-shared");
    expect(a).toBeInstanceOf(MemoryStore);
    expect(a.uri).toBe("memory://open-shared");
    await a.put("k", bytes(4, 1));
    expect(await b.get("k")).toEqual(bytes(4, 1));
    const c = await openStore("memory://");
    const d = await openStore("memory://");
    await c.put("k", bytes(4, 1));
    expect(await d.head("k")).toBeUndefined();
    expect(await (await openStore("memory://other")).head("k")).toBeUndefined();
  });

  it("passes a quota to a new memory volume", async () => {
    const store = await openStore("memory://open-quota", { memory: { quotaBytes: 3 } });
    await assertRejects(store.put("k", bytes(4, 1)), "QUOTA_EXCEEDED", "put past the quota");
  });

  it("file:// URLs, absolute, ./relative and bare relative paths open the file system", async () => {
    const abs = join(base, "abs");
    for (const [uri, dir] of [
      [abs, abs],
      [pathToFileURL(join(base, "url dir")).href, join(base, "url dir")],
      [`./${relative(process.cwd(), join(base, "rel"))}`, join(base, "rel")],
      [relative(process.cwd(), join(base, "bare")), join(base, "bare")],
    ] as const) {
      const store = await openStore(uri);
      expect(store).toBeInstanceOf(FsStore);
      expect(store.uri).toBe(dir);
      await store.put("k", bytes(2, 1));
      expect(await (await FsStore.open(dir)).get("k")).toEqual(bytes(2, 1));
    }
  });

  it("idb://name opens IndexedDB, and passes its options", async () => {
    const store = await openStore("idb://open-test", { idb: { durability: "relaxed" } });
    expect(store).toBeInstanceOf(IdbStore);
    expect(store.uri).toBe("idb://open-test");
    await store.put("k", bytes(2, 1));
    await store.close();
    await IdbStore.destroy("open-test");
    await assertRejects(openStore("idb://"), "INVALID_ARGUMENT", "idb:// without a name");
  });

  it("https:// and http:// open a read-only HttpStore with the given fetch", async () => {
    const calls: string[] = [];
    const store = await openStore("https://cdn.example.com/db/", {
      http: { fetch: async (input) => (calls.push(String(input)), new Response(bytes(3, 1))) },
    });
    expect(store).toBeInstanceOf(HttpStore);
    expect(store.readOnly).toBe(true);
    expect(store.uri).toBe("https://cdn.example.com/db");
    expect(await store.get("a/b")).toEqual(bytes(3, 1));
    expect(calls).toEqual(["https://cdn.example.com/db/a/b"]);
    expect((await openStore("HTTP://127.0.0.1:9/x")).readOnly).toBe(true);
  });

  it("opfs:// is UNSUPPORTED where there is no OPFS, and checks its path first", async () => {
    await assertRejects(openStore("opfs://notes"), "UNSUPPORTED", "opfs in Node");
    await assertRejects(openStore("opfs://"), "INVALID_ARGUMENT", "opfs without a path");
    await assertRejects(openStore("opfs://a//b"), "INVALID_ARGUMENT", "opfs with an empty segment");
  });

  it("unknown schemes and empty URIs are INVALID_ARGUMENT", async () => {
    for (const uri of ["s3://bucket/x", "gs://b", "ftp://host/x", "", "   ", 7 as unknown as string]) {
      await assertRejects(openStore(uri), "INVALID_ARGUMENT", JSON.stringify(uri));
    }
  });

  it("file paths without Node or Deno are UNSUPPORTED", async () => {
    const g = globalThis as { process?: unknown };
    const saved = g.process;
    g.process = undefined; // what a browser looks like to openStore
    try {
      await assertRejects(openStore("./data"), "UNSUPPORTED", "a path in a browser");
      await assertRejects(openStore("file:///data"), "UNSUPPORTED", "a file URL in a browser");
    } finally {
      g.process = saved;
    }
  });
});
