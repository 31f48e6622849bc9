import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connect, isQuiverError, type Row } from "../../src/index.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";
import { writeStream } from "../../src/storage/blob-store.js";
import { FsStore } from "../../src/storage/fs-store.js";
import { QuotaGuardStore } from "../../src/storage/quota.js";
import { bytes } from "./storage-contract.js";

function rows(from: number, n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({ id: from + i, text: `text ${from + i}`.repeat(3), vector: [from + i, 1, 2, 3] }));
}

describe("db.storage()", () => {
  it("reports bytes per table and per version, and what cleanup would free", async () => {
    const volume = new MemoryVolume();
    const db = await connect(new MemoryStore("memory://s", volume));
    const a = await db.createTable("a", rows(0, 1000));
    await a.add(rows(1000, 1000));
    await a.add(rows(2000, 10), { mode: "overwrite" });
    await db.createTable("b", rows(0, 10));
    const report = await db.storage();
    expect(report.usage).toBeUndefined(); // no navigator.storage in Node
    expect(report.tables.map((t) => t.name)).toEqual(["a", "b"]);
    expect(report.bytes).toBe(volume.usedBytes);
    const ta = report.tables[0]!;
    expect(ta.bytes).toBe([...volume.objects].filter(([k]) => k.startsWith("a.quiver/")).reduce((s, [, e]) => s + e.data.length, 0));
    expect(ta.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    // Version 2 holds versions 1's fragment and one more: it costs more than 1; version 3 (10 rows) least.
    expect(ta.versions[1]!.bytes).toBeGreaterThan(ta.versions[0]!.bytes);
    expect(ta.versions[2]!.bytes).toBeLessThan(ta.versions[0]!.bytes);
    expect(ta.reclaimableBytes).toBeGreaterThan(ta.versions[1]!.bytes - 2000);
    const before = volume.usedBytes;
    const stats = await a.optimize({ cleanupOlderThan: new Date(Date.now() + 1000) });
    expect(stats.prune.bytesRemoved).toBeGreaterThan(0);
    // What was reported reclaimable is gone (tombstones replace the two old manifests).
    expect(before - volume.usedBytes).toBeGreaterThanOrEqual(ta.reclaimableBytes - 2 * 2000);
    expect((await db.storage()).tables[0]!.reclaimableBytes).toBe(0);
  });

  it("requestPersistence is false where there is no navigator.storage", async () => {
    const db = await connect("memory://");
    expect(await db.requestPersistence()).toBe(false);
  });
});

describe("storageLimit", () => {
  it("a write that would pass the limit is QUOTA_EXCEEDED before anything is written, naming what cleanup frees", async () => {
    const volume = new MemoryVolume();
    const db = await connect(new MemoryStore("memory://q", volume), { storageLimit: 200_000 });
    const t = await db.createTable("t", rows(0, 1000));
    await t.add(rows(0, 10), { mode: "overwrite" });
    const objects = [...volume.objects.keys()].sort();
    const error = await t.add(rows(5000, 3000)).catch((e: unknown) => e);
    expect(isQuiverError(error, "QUOTA_EXCEEDED")).toBe(true);
    const details = (error as { details: Record<string, number> }).details;
    expect(details.limitBytes).toBe(200_000);
    expect(details.needed).toBeGreaterThan(details.free);
    expect(details.reclaimableBytes).toBeGreaterThan(0);
    expect([...volume.objects.keys()].sort()).toEqual(objects);
    expect(await t.countRows()).toBe(10);
    // Small writes still fit.
    await t.add(rows(100, 5));
    expect(await t.countRows()).toBe(15);
    await expect(connect("memory://", { storageLimit: -1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("the origin's estimate is checked too (an injected estimate standing in for navigator.storage)", async () => {
    const inner = new MemoryStore("memory://o");
    const guard = new QuotaGuardStore(inner, { estimate: async () => ({ usage: 900, quota: 1000 }) });
    await guard.put("a", bytes(100, 1));
    await expect(guard.put("b", bytes(1, 2))).rejects.toMatchObject({ code: "QUOTA_EXCEEDED" });
    expect(await inner.head("b")).toBeUndefined();
  });

  it("a stream of unknown size is checked as it grows: past the room, QUOTA_EXCEEDED and nothing written", async () => {
    const dir = await mkdtemp(join(tmpdir(), "quiver-quota-stream-"));
    try {
      const inner = await FsStore.open(dir);
      const guard = new QuotaGuardStore(inner, { estimate: async () => ({ usage: 0, quota: 1000 }) });
      async function* parts(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < 4; i++) yield bytes(300, i);
      }
      await expect(writeStream(guard, "s", undefined, parts())).rejects.toMatchObject({ code: "QUOTA_EXCEEDED" });
      expect(await inner.head("s")).toBeUndefined();
      expect(await inner.removeTemporaryFiles!("", 0)).toBe(0);
      await writeStream(guard, "s", undefined, (async function* () { yield bytes(900, 1); })());
      expect((await inner.head("s"))?.size).toBe(900);
      await inner.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("storage that vanishes (eviction)", () => {
  for (const encrypted of [false, true]) {
    it(`an open table whose files are gone: reads NOT_FOUND, writes TABLE_NOT_FOUND, never half a table${encrypted ? " (encrypted)" : ""}`, async () => {
      const volume = new MemoryVolume();
      const options = encrypted ? { encryption: { key: bytes(32, 9) } } : {};
      await (await connect(new MemoryStore("memory://ev", volume), options)).createTable("t", rows(0, 100));
      const db = await connect(new MemoryStore("memory://ev", volume), options);
      const t = await db.openTable("t");
      volume.objects.clear(); // what the browser does to a best-effort origin: everything at once
      volume.usedBytes = 0;
      await expect(t.query().toArray()).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(t.add(rows(100, 1))).rejects.toMatchObject({ code: "TABLE_NOT_FOUND" });
      await expect(t.delete("id = 1")).rejects.toMatchObject({ code: expect.stringMatching(/^(TABLE_)?NOT_FOUND$/) });
      expect([...volume.objects.keys()].filter((k) => k.includes("_versions/"))).toEqual([]);
      expect(await db.tableNames()).toEqual([]);
      await expect(db.openTable("t")).rejects.toMatchObject({ code: "TABLE_NOT_FOUND" });
    });
  }
});
