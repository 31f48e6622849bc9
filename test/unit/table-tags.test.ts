import { describe, expect, it } from "vitest";
import { connect, isQuiverError, MemoryStore } from "../../src/index.js";

describe("tag files", () => {
  it("turn every single-bit flip into CORRUPT_FILE and still read tags written before they carried a checksum", async () => {
    const store = new MemoryStore();
    const db = await connect(store);
    const t = await db.createTable("t", [{ id: 1 }]);
    await t.add([{ id: 2 }]);
    const tags = await t.tags();
    await tags.create("v1", 1);
    const key = "t.quiver/_refs/tags/v1.json";
    const file = await store.get(key);
    const missed: string[] = [];
    for (let at = 0; at < file.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const damaged = file.slice();
        damaged[at]! ^= 1 << bit;
        await store.put(key, damaged);
        try {
          missed.push(`byte ${at} bit ${bit}: read as version ${await tags.getVersion("v1")}`);
        } catch (e) {
          if (!isQuiverError(e, "CORRUPT_FILE")) missed.push(`byte ${at} bit ${bit}: ${String(e)}`);
        }
      }
    }
    expect(missed).toEqual([]);
    await store.put(key, new TextEncoder().encode('{"version":2}'));
    expect(await tags.getVersion("v1")).toBe(2);
    expect(await tags.list()).toEqual({ v1: { version: 2 } });
    await db.close();
  });
});
