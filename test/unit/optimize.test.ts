// optimize(): compaction, index folding and pruning (src/table/optimize.ts and Table.optimize).
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { connect, Index, isQuiverError } from "../../src/index.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "quiver-optimize-"));
  dirs.push(d);
  return d;
}

const rows = (n: number, from = 0): Record<string, unknown>[] =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, text: `note ${from + i} ${i % 2 ? "cat" : "dog"}`, vector: [(from + i) % 7, (from + i) % 11, (from + i) % 13, 1] }));

describe("optimize", () => {
  for (const config of [Index.ivfPq({ numPartitions: 4, numSubVectors: 2 }), Index.hnswSq(), Index.ivfFlat({ numPartitions: 2 })]) {
    it(`succeeds and prunes when every row of a ${config.type}-indexed table is deleted`, async () => {
      const t = await (await connect(tempDir())).createTable("t", rows(300));
      await t.createIndex("vector", { config });
      await t.createIndex("text", { config: Index.fts() });
      await t.delete("true");
      const stats = await t.optimize({ cleanupOlderThan: new Date() });
      expect(stats.prune.oldVersionsRemoved).toBeGreaterThan(0);
      expect((await t.listVersions()).length).toBe(1);
      expect((await t.listIndices()).map((i) => i.name)).toEqual(["text_idx"]);
      expect(await t.countRows()).toBe(0);
      // Still usable: a second optimize, new rows, exact search, a new index.
      await t.optimize({ cleanupOlderThan: new Date() });
      await t.add(rows(50, 1000));
      expect((await t.search([1, 1, 1, 1]).limit(3).toArray()).length).toBe(3);
      expect((await t.search("cat", "fts").limit(3).toArray()).length).toBe(3);
      await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 2 }) });
      expect((await t.search([1, 1, 1, 1]).limit(3).toArray()).length).toBe(3);
    });
  }

  it("a bad argument writes nothing", async () => {
    const t = await (await connect("memory://")).createTable("t", rows(10));
    for (let i = 0; i < 3; i++) await t.add(rows(5, 100 + i * 5));
    await t.delete("id < 3");
    const version = await t.version();
    for (const bad of [{ cleanupOlderThan: new Date("nope") }, { cleanupOlderThan: "yesterday" as unknown as Date }, { targetRowsPerFragment: 0 }]) {
      const err = await t.optimize(bad).then(() => null, (e) => e);
      expect(isQuiverError(err) && err.code).toBe("INVALID_ARGUMENT");
      expect(await t.version()).toBe(version);
    }
  });

  it("removes temporary files crashed writers left, once they are an hour old (optimize and open)", async () => {
    const dir = tempDir();
    const db = await connect(dir);
    const t = await db.createTable("t", rows(10));
    const stale = (name: string): string => {
      const path = join(dir, "t.quiver", "data", name);
      writeFileSync(path, "half a fragment");
      const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000;
      utimesSync(path, twoHoursAgo, twoHoursAgo);
      return path;
    };
    const old = stale(".quiver-tmp-crashed-1");
    const young = join(dir, "t.quiver", "data", ".quiver-tmp-in-flight");
    writeFileSync(young, "a write in progress");
    const stats = await t.optimize();
    expect(stats.prune.temporaryFilesRemoved).toBe(1);
    expect([existsSync(old), existsSync(young)]).toEqual([false, true]);

    const again = stale(".quiver-tmp-crashed-2");
    await (await connect(dir)).openTable("t");
    await vi.waitFor(() => expect(existsSync(again)).toBe(false));
    expect(existsSync(young)).toBe(true);
  });
});
