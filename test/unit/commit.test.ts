// The commit protocol (src/dataset/dataset.ts) against cleanup (src/table/optimize.ts): a writer whose
// handle is behind the head must never commit into a version number cleanup has pruned.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, isQuiverError, type Connection, type Row } from "../../src/index.js";
import type { BlobInfo, BlobStore } from "../../src/storage/blob-store.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const row = (id: number, n = 0): Row => ({ id, n, vector: [id, 1, -id] });
const range = (from: number, count: number): Row[] => Array.from({ length: count }, (_, i) => row(from + i));

/** Two connections to one database, as two processes or tabs would have. */
type Pair = () => Promise<[Connection, Connection]>;
const backends: [string, Pair][] = [
  ["memory", async () => {
    const volume = new MemoryVolume();
    return [await connect(new MemoryStore("memory://a", volume)), await connect(new MemoryStore("memory://a", volume))];
  }],
  ["file system", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-commit-"));
    dirs.push(dir);
    return [await connect(dir), await connect(dir)];
  }],
];

async function ids(db: Connection): Promise<number[]> {
  const t = await db.openTable("t");
  return (await t.query().select(["id"]).toArray()).map((r) => r.id as number).sort((a, b) => a - b);
}

describe.each(backends)("commits after cleanup (%s)", (_, pair) => {
  it("a stale appender commits after the head, never into a pruned version", async () => {
    const [one, two] = await pair();
    await one.createTable("t", range(0, 3));
    const stale = await one.openTable("t");
    const busy = await two.openTable("t");
    for (let i = 0; i < 5; i++) await busy.add(range(100 + i * 10, 2));
    await busy.optimize({ cleanupOlderThan: new Date() });
    const head = (await (await two.openTable("t")).version());

    const { version } = await stale.add([row(999)]);
    expect(version).toBe(head + 1);
    expect(await ids(two)).toContain(999);
    expect((await ids(two)).length).toBe(3 + 10 + 1);
  });

  it("a stale delete and update after cleanup are not undone", async () => {
    const [one, two] = await pair();
    await one.createTable("t", range(0, 10));
    const stale = await one.openTable("t");
    const busy = await two.openTable("t");
    for (let i = 0; i < 4; i++) await busy.add(range(100 + i * 10, 3));
    // Prune without compacting, so fragment 0 stays as the stale handle read it.
    await busy.optimize({ cleanupOlderThan: new Date(), targetRowsPerFragment: 1 });

    await stale.delete("id = 1");
    await stale.update({ where: "id = 3", values: { n: 7 } });
    const rows = await (await two.openTable("t")).query().toArray();
    expect(rows.length).toBe(10 - 1 + 12);
    expect(rows.some((r) => r.id === 1)).toBe(false);
    expect(rows.find((r) => r.id === 3)!.n).toBe(7);

    // Compaction rewrites fragment 0: a delete from a handle that read it before must fail.
    const behind = await one.openTable("t");
    await busy.optimize({ cleanupOlderThan: new Date() });
    const err = await behind.delete("id = 4").then(() => null, (e) => e);
    expect(isQuiverError(err) && err.code).toBe("COMMIT_CONFLICT");
    expect(await ids(two)).toContain(4);
  });

  it("version numbers are never reused: pruned versions keep their keys", async () => {
    const [one] = await pair();
    const t = await one.createTable("t", range(0, 2));
    for (let i = 0; i < 3; i++) await t.add(range(10 + i, 1));
    const stats = await t.optimize({ cleanupOlderThan: new Date() });
    expect(stats.prune.oldVersionsRemoved).toBeGreaterThan(0);
    expect((await t.listVersions()).map((v) => v.version)).toEqual([await t.version()]);
    const err = await t.checkout(1).then(() => null, (e) => e);
    expect(isQuiverError(err) && err.code).toBe("NOT_FOUND");
    expect(String(err.message)).toMatch(/cleaned up/);
  });
});

/** Counts reads of version files (manifests and tombstones); can run a rival commit before each commit. */
class CountingStore implements BlobStore {
  versionReads = 0;
  /** Runs before a manifest's putIfAbsent while `rivalCommits` > 0. */
  rival?: () => Promise<void>;
  rivalCommits = 0;
  constructor(private readonly inner: BlobStore) {}
  get uri(): string { return this.inner.uri; }
  get readOnly(): boolean { return this.inner.readOnly; }
  get inMemory(): boolean | undefined { return this.inner.inMemory; }
  get(key: string): Promise<Uint8Array> {
    if (key.includes("/_versions/")) this.versionReads++;
    return this.inner.get(key);
  }
  getRange(key: string, offset: number, length: number): Promise<Uint8Array> { return this.inner.getRange(key, offset, length); }
  head(key: string): Promise<BlobInfo | undefined> { return this.inner.head(key); }
  put(key: string, data: Uint8Array): Promise<void> { return this.inner.put(key, data); }
  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    if (key.includes("/_versions/") && this.rival && this.rivalCommits > 0) {
      this.rivalCommits--;
      await this.rival();
    }
    return this.inner.putIfAbsent(key, data);
  }
  list(prefix: string): Promise<BlobInfo[]> { return this.inner.list(prefix); }
  delete(key: string): Promise<void> { return this.inner.delete(key); }
  close(): Promise<void> { return this.inner.close(); }
}

describe("appends under contention", () => {
  it("a far-behind appender commits, reading each newer version once", async () => {
    const volume = new MemoryVolume();
    const counting = new CountingStore(new MemoryStore("memory://c", volume));
    const slow = await connect(counting);
    const fast = await connect(new MemoryStore("memory://c", volume));
    await slow.createTable("t", range(0, 1));
    const behind = await slow.openTable("t");
    const ahead = await fast.openTable("t");
    for (let i = 0; i < 120; i++) await ahead.add([row(10 + i)]);
    counting.versionReads = 0;
    const { version } = await behind.add([row(5000)]);
    expect(version).toBe(122);
    // 120 skipped versions: each operation record read once, plus the new head's manifest.
    expect(counting.versionReads).toBeLessThanOrEqual(122);
    expect((await ids(fast)).length).toBe(122);
  });

  it("an appender that loses the race 40 times in a row still commits, reading each version once", async () => {
    const volume = new MemoryVolume();
    const counting = new CountingStore(new MemoryStore("memory://l", volume));
    const loser = await connect(counting);
    const winner = await connect(new MemoryStore("memory://l", volume));
    await loser.createTable("t", range(0, 1));
    const t = await loser.openTable("t");
    const rival = await winner.openTable("t");
    let next = 100;
    counting.rival = async () => { await rival.add([row(next++)]); };
    counting.rivalCommits = 40;
    counting.versionReads = 0;
    const { version } = await t.add([row(5000)]);
    expect(version).toBe(42);
    expect(counting.versionReads).toBeLessThanOrEqual(2 * 40);
    expect((await ids(winner)).length).toBe(42);
  });

  it("appenders racing on one store all commit", async () => {
    const volume = new MemoryVolume();
    const dbs = await Promise.all(Array.from({ length: 6 }, () => connect(new MemoryStore("memory://r", volume))));
    await dbs[0]!.createTable("t", range(0, 1));
    const tables = await Promise.all(dbs.map((d) => d.openTable("t")));
    // Each handle stays at version 1 while the others commit: every add after the first races.
    await Promise.all(tables.map(async (t, w) => {
      for (let i = 0; i < 15; i++) await t.add([row(1000 * (w + 1) + i)]);
    }));
    expect((await ids(dbs[0]!)).length).toBe(1 + 6 * 15);
  });
});

describe("the version floor: cleanup frees old version numbers safely", () => {
  async function busyTable(commits: number): Promise<{ volume: MemoryVolume; db: () => Promise<Connection> }> {
    const volume = new MemoryVolume();
    const db = (): Promise<Connection> => connect(new MemoryStore("memory://f", volume));
    const t = await (await db()).createTable("t", range(0, 3));
    for (let i = 0; i < commits; i++) await t.add([row(100 + i)]);
    return { volume, db };
  }
  const versionKeys = (volume: MemoryVolume): string[] => [...volume.objects.keys()].filter((k) => k.includes("/_versions/"));

  it("keeps only the newest tombstones, and a writer far behind still appends exactly once", async () => {
    const { volume, db } = await busyTable(5);
    const stale = await (await db()).openTable("t"); // at version 6
    const other = await (await db()).openTable("t");
    for (let i = 0; i < 250; i++) await other.add([row(1000 + i)]);
    await other.optimize({ cleanupOlderThan: new Date() });
    expect(versionKeys(volume).length).toBeLessThanOrEqual(102);

    // Its next version number (7) was freed: the put succeeds, is found below the floor, taken back.
    const { version } = await stale.add([row(5000)]);
    expect(version).toBe((await other.version()) + 1);
    const fresh = await (await db()).openTable("t");
    expect(await fresh.version()).toBe(version);
    const ids = (await fresh.query().select(["id"]).toArray()).map((r) => r.id as number);
    expect(ids.filter((id) => id === 5000)).toEqual([5000]);
    expect(ids.length).toBe(3 + 5 + 250 + 1);
    expect(versionKeys(volume).some((k) => k.endsWith(`${String(7).padStart(20, "0")}.qvm`))).toBe(false);
  });

  it("a delete far behind the floor fails with COMMIT_CONFLICT and changes nothing", async () => {
    const { db } = await busyTable(5);
    const stale = await (await db()).openTable("t");
    const other = await (await db()).openTable("t");
    for (let i = 0; i < 150; i++) await other.add([row(1000 + i)]);
    await other.optimize({ cleanupOlderThan: new Date(), targetRowsPerFragment: 1 });
    const before = await other.version();
    const err = await stale.delete("id = 1").then(() => null, (e) => e);
    expect(isQuiverError(err) && err.code).toBe("COMMIT_CONFLICT");
    const fresh = await (await db()).openTable("t");
    expect(await fresh.version()).toBe(before);
    expect(await fresh.countRows("id = 1")).toBe(1);
  });

  it("an append far behind an overwrite that cleanup forgot fails with COMMIT_CONFLICT", async () => {
    const { db } = await busyTable(2);
    const stale = await (await db()).openTable("t");
    const other = await (await db()).openTable("t");
    await other.add(range(500, 2), { mode: "overwrite" });
    for (let i = 0; i < 150; i++) await other.add([row(1000 + i)]);
    await other.optimize({ cleanupOlderThan: new Date(), targetRowsPerFragment: 1 });
    const err = await stale.add([row(5000)]).then(() => null, (e) => e);
    expect(isQuiverError(err) && err.code).toBe("COMMIT_CONFLICT");
    expect(await (await (await db()).openTable("t")).countRows("id = 5000")).toBe(0);
  });

  it("a reader far behind the floor refreshes to the newest version", async () => {
    const { db } = await busyTable(3);
    const reader = await (await db()).openTable("t");
    const other = await (await db()).openTable("t");
    for (let i = 0; i < 150; i++) await other.add([row(1000 + i)]);
    await other.optimize({ cleanupOlderThan: new Date(), targetRowsPerFragment: 1 });
    await reader.checkoutLatest();
    expect(await reader.version()).toBe(await other.version());
    expect(await reader.countRows()).toBe(3 + 3 + 150);
  });

  it("a tagged version below the floor stays readable, and a handle on it finds the head", async () => {
    const { db } = await busyTable(3);
    const other = await (await db()).openTable("t");
    await (await other.tags()).create("keep", 2);
    const pinned = await (await db()).openTable("t");
    await pinned.checkout("keep");
    for (let i = 0; i < 150; i++) await other.add([row(1000 + i)]);
    await other.optimize({ cleanupOlderThan: new Date(), targetRowsPerFragment: 1 });
    expect(await pinned.countRows()).toBe(4);
    await pinned.checkoutLatest();
    expect(await pinned.countRows()).toBe(3 + 3 + 150);
    expect((await other.listVersions()).map((v) => v.version)).toEqual([2, await other.version()]);
  });
});
