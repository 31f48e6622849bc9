import "fake-indexeddb/auto";
import { afterEach, describe, expect, it } from "vitest";
import { IdbStore } from "../../src/storage/idb-store.js";
import { assertRejects, blobStoreContract, bytes } from "./storage-contract.js";

let counter = 0;
const names: string[] = [];
const freshName = () => {
  const name = `contract-${++counter}`;
  names.push(name);
  return name;
};

afterEach(async () => {
  for (const name of names.splice(0)) await IdbStore.destroy(name);
});

describe("IdbStore contract (fake-indexeddb)", () => {
  for (const c of blobStoreContract({
    make: () => IdbStore.open(freshName()),
    reopen: (store) => IdbStore.open(store.uri.slice("idb://".length)),
  })) {
    it(c.name, c.run);
  }
});

describe("IdbStore", () => {
  it("keeps one database per store name", async () => {
    const a = await IdbStore.open(freshName());
    const b = await IdbStore.open(freshName());
    await a.put("k", bytes(4, 1));
    expect(await b.head("k")).toBeUndefined();
    const databases = (await indexedDB.databases()).map((d) => d.name);
    expect(databases).toEqual(expect.arrayContaining([`quiver:${a.uri.slice(6)}`, `quiver:${b.uri.slice(6)}`]));
    await a.close();
    await b.close();
  });

  it("lists by key range, including prefixes that end in U+FFFF", async () => {
    const store = await IdbStore.open(freshName());
    for (const key of ["a\uffff", "a\uffffb", "a\ufffe", "b", "a\uffff\uffff"]) await store.put(key, bytes(1, 1));
    expect((await store.list("a\uffff")).map((i) => i.key)).toEqual(["a\uffff", "a\uffffb", "a\uffff\uffff"]);
    expect((await store.list("a")).map((i) => i.key)).toEqual(["a\ufffe", "a\uffff", "a\uffffb", "a\uffff\uffff"]);
    await store.close();
  });

  it("maps the browser's QuotaExceededError to QUOTA_EXCEEDED and keeps the old object", async () => {
    const store = await IdbStore.open(freshName());
    await store.put("k", bytes(10, 1));
    // fake-indexeddb never runs out of space: fail the next data write the way a full disk does.
    const { IDBObjectStore } = globalThis as unknown as { IDBObjectStore: { prototype: { put: (...a: unknown[]) => unknown } } };
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    };
    try {
      await assertRejects(store.put("k", bytes(20, 2)), "QUOTA_EXCEEDED", "put on a full store");
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    expect(await store.get("k")).toEqual(bytes(10, 1));
    await store.close();
  });

  it("stores Blobs, and still reads values written as Uint8Array", async () => {
    const name = freshName();
    const store = await IdbStore.open(name);
    await store.put("new", bytes(100, 3));
    const old = bytes(100, 4);
    // What earlier versions wrote: the bytes themselves, not a Blob.
    await new Promise<void>((resolve, reject) => {
      const open = indexedDB.open(`quiver:${name}`);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const tx = open.result.transaction(["data", "meta"], "readwrite");
        tx.objectStore("data").put(old, "old");
        tx.objectStore("meta").put({ size: old.length, modified: Date.now() }, "old");
        tx.oncomplete = () => { open.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
    });
    const raw = await new Promise<unknown>((resolve, reject) => {
      const open = indexedDB.open(`quiver:${name}`);
      open.onsuccess = () => {
        const req = open.result.transaction("data").objectStore("data").get("new");
        req.onsuccess = () => { open.result.close(); resolve(req.result); };
        req.onerror = () => reject(req.error);
      };
    });
    expect(raw).toBeInstanceOf(Blob);
    expect(await store.get("old")).toEqual(old);
    expect(await store.getRange("old", 10, 20)).toEqual(old.slice(10, 30));
    expect(await store.getRange("new", 10, 20)).toEqual(bytes(100, 3).slice(10, 30));
    await assertRejects(store.getRange("old", 90, 20), "CORRUPT_FILE", "a range past the end of an old value");
    await store.close();
  });

  it("steps aside when another connection deletes the database", async () => {
    const name = freshName();
    const store = await IdbStore.open(name);
    await store.put("k", bytes(4, 1));
    await IdbStore.destroy(name); // would block forever if the store kept its connection open
    await assertRejects(store.get("k"), "CLOSED", "get after the database was deleted");
    const again = await IdbStore.open(name);
    expect(await again.head("k")).toBeUndefined();
    await again.close();
  });
});
