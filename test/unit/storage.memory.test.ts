import { describe, expect, it } from "vitest";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";
import { assertRejects, blobStoreContract, bytes } from "./storage-contract.js";

describe("MemoryStore contract", () => {
  const volumes = new WeakMap<object, MemoryVolume>();
  for (const c of blobStoreContract({
    make: async () => {
      const volume = new MemoryVolume();
      const store = new MemoryStore("memory://contract", volume);
      volumes.set(store, volume);
      return store;
    },
    reopen: async (store) => new MemoryStore(store.uri, volumes.get(store)!),
  })) {
    it(c.name, c.run);
  }
});

describe("MemoryStore quota", () => {
  it("a write that would pass the quota is QUOTA_EXCEEDED and changes nothing", async () => {
    const store = new MemoryStore("memory://full", { quotaBytes: 1000 });
    await store.put("a", bytes(600, 1));
    await assertRejects(store.put("b", bytes(500, 2)), "QUOTA_EXCEEDED", "put past the quota");
    await assertRejects(store.putIfAbsent("b", bytes(401, 2)), "QUOTA_EXCEEDED", "putIfAbsent past the quota");
    expect(await store.head("b")).toBeUndefined();
    expect(store.usedBytes).toBe(600);
    // Replacing counts the difference, so the same store can still rewrite "a" within the quota.
    await store.put("a", bytes(1000, 3));
    expect(store.usedBytes).toBe(1000);
    await assertRejects(store.put("a", bytes(1001, 3)), "QUOTA_EXCEEDED", "replacement past the quota");
    expect(await store.get("a")).toEqual(bytes(1000, 3));
    await store.delete("a");
    expect(store.usedBytes).toBe(0);
    expect(await store.putIfAbsent("b", bytes(1000, 4))).toBe(true);
  });

  it("the quota error says where and what to do", async () => {
    const store = new MemoryStore("memory://full", { quotaBytes: 1 });
    await expect(store.put("x/y", bytes(2, 1))).rejects.toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { key: "x/y", store: "memory://full" },
      message: expect.stringMatching(/No space left in memory:\/\/full to write "x\/y"/),
    });
  });
});

describe("MemoryStore handles", () => {
  it("handles on one volume share objects but close on their own", async () => {
    const volume = new MemoryVolume();
    const a = new MemoryStore("memory://shared", volume);
    const b = new MemoryStore("memory://shared", volume);
    await a.put("k", bytes(3, 1));
    await a.close();
    expect(await b.get("k")).toEqual(bytes(3, 1));
    await assertRejects(a.get("k"), "CLOSED", "closed handle");
  });
});
