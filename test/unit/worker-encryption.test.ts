/**
 * Encryption, backups and storage() through a Node worker_threads worker (quiverdb/worker): keys and
 * archives cross the boundary by structured clone, errors keep their codes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectThrough } from "../../src/worker/client.js";
import { makeRows } from "./api-suite.js";
import { startTsWorker } from "./worker-harness.js";

describe("encryption and backups through a worker", () => {
  let worker: Worker;
  const dir = mkdtempSync(join(tmpdir(), "quiver-worker-enc-"));
  beforeAll(() => { worker = startTsWorker(); });
  afterAll(async () => {
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (path: string, key: unknown) =>
    connectThrough(path, { worker, encryption: { key } } as never, () => { throw new Error("the test passes its worker"); });

  it("CryptoKey and passphrase, wrong key, rekey, backup → restore, storage()", async () => {
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    const path = join(dir, "a");
    const db = await open(path, key);
    const t = await db.createTable("t", makeRows(300));
    await t.delete("id < 10");
    const archive = await t.backup();
    expect(archive).toBeInstanceOf(Blob);
    const copy = await db.restoreBackup(archive, { name: "copy" });
    expect(await copy.countRows()).toBe(290);
    expect(await copy.version()).toBe(await t.version());
    const report = await db.storage();
    expect(report.tables.map((x) => x.name)).toEqual(["copy", "t"]);
    expect(await t.rekey({ passphrase: "worker pass" })).toEqual({ version: 3 });
    await db.close();
    await expect(open(path, new Uint8Array(32))).rejects.toMatchObject({ code: "WRONG_KEY" });
    const again = await open(path, { passphrase: "worker pass" });
    expect(await (await again.openTable("t")).countRows()).toBe(290);
    const truncated = new Uint8Array(await archive.arrayBuffer()).subarray(0, 1000);
    // Sealed with the CryptoKey, which this connection does not hold: WRONG_KEY; given it, the cut is CORRUPT_FILE.
    await expect(again.restoreBackup(truncated, { name: "broken" })).rejects.toMatchObject({ code: "WRONG_KEY" });
    await expect(again.restoreBackup(truncated, { name: "broken", encryption: { key } })).rejects.toMatchObject({ code: "CORRUPT_FILE" });
    expect(await again.tableNames()).toEqual(["copy", "t"]);
    await again.close();
  });
});
