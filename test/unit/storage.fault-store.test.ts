import { describe, expect, it } from "vitest";
import { createError, isQuiverError } from "../../src/errors.js";
import { FaultInjectingStore, SimulatedFault, isSimulatedCrash } from "../support/fault-store.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { bytes } from "./storage-contract.js";

/** Three write steps: put a, putIfAbsent b, delete a. */
async function operation(store: FaultInjectingStore | MemoryStore): Promise<void> {
  await store.put("a", bytes(10, 1));
  await store.putIfAbsent("b", bytes(6, 2));
  await store.delete("a");
}

describe("FaultInjectingStore", () => {
  it("counts write steps and passes everything through without a plan", async () => {
    const inner = new MemoryStore();
    const store = new FaultInjectingStore(inner);
    await operation(store);
    expect(await store.get("b")).toEqual(bytes(6, 2));
    expect(await store.list("")).toHaveLength(1);
    expect(store.steps).toEqual([
      { index: 1, operation: "put", key: "a" },
      { index: 2, operation: "putIfAbsent", key: "b" },
      { index: 3, operation: "delete", key: "a" },
    ]);
    expect(store.uri).toBe(inner.uri);
  });

  it("an I/O error at step N fails that step only; the store goes on working", async () => {
    for (const failAt of [1, 2, 3]) {
      const inner = new MemoryStore();
      const store = new FaultInjectingStore(inner, { failAt });
      const error = await operation(store).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SimulatedFault);
      expect(error).toMatchObject({ kind: "io", step: { index: failAt } });
      expect(isSimulatedCrash(error)).toBe(false);
      // Nothing of the failing step happened.
      const keys = (await inner.list("")).map((i) => i.key);
      expect(keys).toEqual([[], ["a"], ["a", "b"]][failAt - 1]);
      await operation(store); // later steps are not failed
      expect(store.crashed).toBe(false);
    }
  });

  it("a crash at step N fails that step and every call after it", async () => {
    const inner = new MemoryStore();
    const store = new FaultInjectingStore(inner, { failAt: 2, mode: "crash" });
    const error = await operation(store).catch((e: unknown) => e);
    expect(isSimulatedCrash(error)).toBe(true);
    expect(store.crashed).toBe(true);
    for (const call of [() => store.get("a"), () => store.list(""), () => store.head("a"), () => store.put("c", bytes(1, 1)), () => store.getRange("a", 0, 1)]) {
      await expect(call()).rejects.toBe(error);
    }
    expect((await inner.list("")).map((i) => i.key)).toEqual(["a"]);
    await store.close();
    await expect(inner.get("a")).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("when: after carries the step out before failing", async () => {
    const inner = new MemoryStore();
    const store = new FaultInjectingStore(inner, { failAt: 2, mode: "crash", when: "after" });
    await expect(operation(store)).rejects.toBeInstanceOf(SimulatedFault);
    expect((await inner.list("")).map((i) => i.key)).toEqual(["a", "b"]);
  });

  it("torn leaves the first half of a crashed put under the key", async () => {
    const inner = new MemoryStore();
    await inner.put("a", bytes(4, 9));
    const store = new FaultInjectingStore(inner, { failAt: 1, mode: "crash", torn: true });
    await expect(operation(store)).rejects.toBeInstanceOf(SimulatedFault);
    expect(await inner.get("a")).toEqual(bytes(10, 1).slice(0, 5));
  });

  it("an I/O error step can throw a chosen error, such as QUOTA_EXCEEDED", async () => {
    const store = new FaultInjectingStore(new MemoryStore(), {
      failAt: 1,
      error: (step) => createError("QUOTA_EXCEEDED", `full at ${step.key}`),
    });
    const error = await operation(store).catch((e: unknown) => e);
    expect(isQuiverError(error, "QUOTA_EXCEEDED")).toBe(true);
  });
});
