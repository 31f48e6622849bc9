import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { connect, Index, type Connection, type Row, type Table } from "../../src/index.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";
import { assertRejects, bytes } from "./storage-contract.js";

const base = await mkdtemp(join(tmpdir(), "quiver-backup-"));
afterAll(() => rm(base, { recursive: true, force: true }));
let counter = 0;

function rows(from: number, n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({ id: from + i, text: `note ${from + i}`, vector: [Math.sin(from + i), Math.cos(from + i), (from + i) % 5] }));
}

/** Every live row, sorted by id, with vectors as plain arrays: what "equal row for row" compares. */
async function dump(t: Table): Promise<Row[]> {
  const all = await t.query().toArray();
  return all.map((r): Row => ({ ...r, vector: Array.from(r.vector as Float32Array) })).sort((a, b) => (a.id as number) - (b.id as number));
}

async function sample(db: Connection): Promise<Table> {
  const t = await db.createTable("notes", rows(0, 500));
  await t.add(rows(500, 200));
  await t.delete("id % 7 = 0");
  await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 4 }) });
  await (await t.tags()).create("v-index", await t.version());
  return t;
}

describe("backup and restore", () => {
  it("restores row for row at the same version, with its index and tags", async () => {
    const db = await connect(join(base, `d${++counter}`));
    const t = await sample(db);
    const archive = await t.backup();
    expect(archive).toBeInstanceOf(Blob);
    const target = await connect(join(base, `d${++counter}`));
    const r = await target.restoreBackup(archive, { name: "copy" });
    expect(await r.version()).toBe(await t.version());
    expect(await dump(r)).toEqual(await dump(t));
    expect((await r.listIndices()).map((i) => i.indexType)).toEqual(["IvfFlat"]);
    expect(await (await r.tags()).list()).toEqual({ "v-index": { version: await t.version() } });
    const q = [0.2, 0.8, 3];
    expect((await r.search(q).limit(5).toArray()).map((x) => x.id)).toEqual((await t.search(q).limit(5).toArray()).map((x) => x.id));
    // The restored table takes writes.
    await r.add(rows(9000, 1));
    expect(await r.countRows()).toBe((await t.countRows()) + 1);
  });

  it("backs up an older version; without indexes the restored table has none", async () => {
    const db = await connect("memory://");
    const t = await sample(db);
    await t.checkout(2);
    const expected = await dump(t);
    await t.checkoutLatest();
    const archive = await t.backup({ version: 2 });
    const slim = await t.backup({ includeIndexes: false });
    const r = await db.restoreBackup(archive, { name: "v2" });
    expect(await r.version()).toBe(2);
    expect(await dump(r)).toEqual(expected);
    const noIndex = await db.restoreBackup(slim, { name: "slim" });
    expect(await noIndex.listIndices()).toEqual([]);
    expect(await dump(noIndex)).toEqual(await dump(t));
    expect(slim.size).toBeLessThan((await t.backup()).size);
    await assertRejects(db.restoreBackup(archive, { name: "notes" }), "TABLE_EXISTS", "restore over a table");
  });

  it("a corrupted or truncated archive is CORRUPT_FILE and creates nothing", async () => {
    const db = await connect("memory://");
    const t = await sample(db);
    const good = new Uint8Array(await (await t.backup()).arrayBuffer());
    const volume = new MemoryVolume();
    const target = await connect(new MemoryStore("memory://target", volume));
    for (let trial = 0; trial < 12; trial++) {
      const bad = good.slice();
      const at = Math.floor(Math.random() * bad.length);
      bad[at] ^= 1 << Math.floor(Math.random() * 8);
      await assertRejects(target.restoreBackup(bad, { name: "x" }), "CORRUPT_FILE", `flipped byte ${at}`);
      const cut = Math.floor(Math.random() * good.length);
      await assertRejects(target.restoreBackup(good.subarray(0, cut), { name: "x" }), "CORRUPT_FILE", `truncated at ${cut}`);
    }
    await assertRejects(target.restoreBackup(bytes(100, 1), { name: "x" }), "CORRUPT_FILE", "not an archive");
    expect(volume.objects.size).toBe(0);
    expect(await target.tableNames()).toEqual([]);
    // The intact archive still restores, from a stream too.
    const r = await target.restoreBackup(new Blob([good]).stream(), { name: "x" });
    expect(await dump(r)).toEqual(await dump(t));
  });

  it("an encrypted table backs up encrypted, and restores with its passphrase into another database", async () => {
    const key = { passphrase: "open sesame" };
    const db = await connect(join(base, `e${++counter}`), { encryption: { key } });
    const t = await sample(db);
    const archive = new Uint8Array(await (await t.backup()).arrayBuffer());
    expect(String.fromCharCode(...archive.subarray(0, 4))).toBe("QVBX");
    expect(Buffer.from(archive).includes("note 42")).toBe(false);
    // Another encrypted database (its own salt) with the same passphrase.
    const other = await connect(join(base, `e${++counter}`), { encryption: { key } });
    expect(await dump(await other.restoreBackup(archive, { name: "n" }))).toEqual(await dump(t));
    // A plain database, given the passphrase for the archive: restores in the clear.
    const plain = await connect("memory://");
    expect(await dump(await plain.restoreBackup(archive, { name: "n", encryption: { key } }))).toEqual(await dump(t));
    await assertRejects(plain.restoreBackup(archive, { name: "m" }), "WRONG_KEY", "no key for a sealed archive");
    await assertRejects(plain.restoreBackup(archive, { name: "m", encryption: { key: { passphrase: "nope" } } }), "WRONG_KEY", "wrong passphrase");
    const bad = archive.slice();
    bad[bad.length - 100] ^= 4;
    await assertRejects(other.restoreBackup(bad, { name: "m" }), "CORRUPT_FILE", "tampered sealed archive");
    expect(await other.tableNames()).toEqual(["n"]);
  });
});

describe("npx quiverdb backup|restore", () => {
  const run = promisify(execFile);
  const cli = resolve(__dirname, "../../src/cli/main.ts");
  const tsx = resolve(__dirname, "../../node_modules/.bin/tsx");

  it("backs a table up to a file and restores it into another directory, encrypted too", async () => {
    const source = join(base, `cli${++counter}`);
    const db = await connect(source, { encryption: { key: { passphrase: "cli pass" } } });
    const t = await sample(db);
    const expected = await dump(t);
    await db.close();
    const file = join(base, `cli${counter}.qvb`);
    const env = { ...process.env, QUIVER_PASS: "cli pass" };
    const out = await run(tsx, [cli, "backup", source, "notes", file, "--passphrase-env", "QUIVER_PASS"], { env });
    expect(out.stdout).toMatch(/backed up notes/);
    const target = join(base, `cli${++counter}`);
    const restored = await run(tsx, [cli, "restore", target, file, "--name", "again", "--passphrase-env", "QUIVER_PASS"], { env });
    expect(restored.stdout).toMatch(/restored again at version 4: 600 rows/);
    const check = await connect(target, { encryption: { key: { passphrase: "cli pass" } } });
    expect(await dump(await check.openTable("again"))).toEqual(expected);
    await check.close();
    // A damaged file: exit code 1, CORRUPT_FILE on stderr, nothing created.
    const bytesOnDisk = await readFile(file);
    bytesOnDisk[bytesOnDisk.length - 50] ^= 1;
    await writeFile(file, bytesOnDisk);
    const failed = await run(tsx, [cli, "restore", target, file, "--name", "broken", "--passphrase-env", "QUIVER_PASS"], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringMatching(/CORRUPT_FILE/) });
    const after = await connect(target, { encryption: { key: { passphrase: "cli pass" } } });
    expect(await after.tableNames()).toEqual(["again"]);
    await after.close();
  }, 60_000);
});
