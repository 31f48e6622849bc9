import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, isQuiverError, type Row } from "../../src/index.js";
import { EncryptedStore, CHUNK_BYTES, HEADER_BYTES, plainSize, sealedSize } from "../../src/storage/encrypted-store.js";
import { KEY_CHECK_FILE, openKeyring } from "../../src/storage/encryption-key.js";
import { FsStore } from "../../src/storage/fs-store.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";
import { writeHttpListing } from "../../src/storage/http-store.js";
import { serveStatic } from "./static-server.js";
import { assertRejects, blobStoreContract, bytes } from "./storage-contract.js";

const base = await mkdtemp(join(tmpdir(), "quiver-enc-"));
afterAll(() => rm(base, { recursive: true, force: true }));
let counter = 0;

const KEY = bytes(32, 7);
const OTHER = bytes(32, 8);

/** `inner` with its reads reported (a plain delegating object: the stores keep private fields). */
function spied(inner: MemoryStore, onRead: (key: string, length: number) => void): MemoryStore {
  const methods = ["head", "put", "putIfAbsent", "list", "listFolders", "delete", "close"] as const;
  const out = { uri: inner.uri, readOnly: false, inMemory: true } as Record<string, unknown>;
  for (const m of methods) out[m] = (...a: unknown[]) => (inner[m] as (...x: unknown[]) => unknown).apply(inner, a);
  out.get = async (k: string) => { const b = await inner.get(k); onRead(k, b.length); return b; };
  out.getRange = (k: string, o: number, l: number) => { onRead(k, l); return inner.getRange(k, o, l); };
  return out as unknown as MemoryStore;
}

async function encrypted(inner: MemoryStore | FsStore, key: Uint8Array = KEY): Promise<EncryptedStore> {
  return new EncryptedStore(inner, await openKeyring(inner, { key }));
}

describe("EncryptedStore contract over memory", () => {
  const volumes = new WeakMap<object, MemoryVolume>();
  for (const c of blobStoreContract({
    make: async () => {
      const volume = new MemoryVolume();
      const store = await encrypted(new MemoryStore("memory://enc", volume));
      volumes.set(store, volume);
      return store;
    },
    reopen: async (store) => {
      const volume = volumes.get(store)!;
      const again = await encrypted(new MemoryStore(store.uri, volume));
      volumes.set(again, volume);
      return again;
    },
  })) {
    it(c.name, c.run);
  }
});

describe("EncryptedStore contract over the file system", () => {
  for (const c of blobStoreContract({
    make: async () => encrypted(await FsStore.open(join(base, `c${++counter}`))),
    reopen: async (store) => encrypted(await FsStore.open(store.uri)),
  })) {
    it(c.name, c.run);
  }
});

describe("EncryptedStore format", () => {
  it("sealedSize and plainSize are inverses at chunk edges", () => {
    for (const n of [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES, 5 * CHUNK_BYTES + 17]) {
      expect(plainSize(sealedSize(n))).toBe(n);
    }
  });

  it("stores no plaintext, and range reads fetch only the chunks they need", async () => {
    const volume = new MemoryVolume();
    const inner = new MemoryStore("memory://x", volume);
    const reads: [number, number][] = [];
    const spy = spied(inner, (_, l) => reads.push([0, l]));
    const store = new EncryptedStore(spy, await openKeyring(inner, { key: KEY }));
    const data = bytes(10 * CHUNK_BYTES + 100, 3);
    await store.put("a/b", data);
    const raw = await inner.get("a/b");
    expect(raw.length).toBe(sealedSize(data.length));
    // No 16-byte window of the plaintext appears in the stored bytes.
    const needle = Buffer.from(data.subarray(5000, 5016));
    expect(Buffer.from(raw).indexOf(needle)).toBe(-1);
    reads.length = 0;
    const got = await store.getRange("a/b", 4 * CHUNK_BYTES + 10, 100);
    expect(Buffer.from(got).equals(Buffer.from(data.subarray(4 * CHUNK_BYTES + 10, 4 * CHUNK_BYTES + 110)))).toBe(true);
    // The header (cached after the first read) and one sealed chunk.
    expect(reads.reduce((s, [, l]) => s + l, 0)).toBeLessThanOrEqual(HEADER_BYTES + CHUNK_BYTES + 28);
    // Served again from decrypted chunks the store keeps: the same bytes, and a caller's change to
    // what it got does not reach the next reader.
    reads.length = 0;
    got.fill(0);
    const again = await store.getRange("a/b", 4 * CHUNK_BYTES + 10, 100);
    expect(reads).toEqual([]);
    expect(Buffer.from(again).equals(Buffer.from(data.subarray(4 * CHUNK_BYTES + 10, 4 * CHUNK_BYTES + 110)))).toBe(true);
    expect(await store.head("a/b")).toMatchObject({ size: data.length });
    expect((await store.list(""))).toEqual([expect.objectContaining({ key: "a/b", size: data.length })]);
  });

  it("a chunk moved to another place, another object or cut off fails as CORRUPT_FILE", async () => {
    const inner = new MemoryStore("memory://y");
    const store = await encrypted(inner);
    const data = bytes(3 * CHUNK_BYTES, 4);
    await store.put("t.quiver/data/a.qvf", data);
    await store.put("u.quiver/data/a.qvf", data);
    const raw = await inner.get("t.quiver/data/a.qvf");
    // Same bytes under another table's key: the key is bound.
    await inner.put("v.quiver/data/a.qvf", raw);
    await assertRejects(store.get("v.quiver/data/a.qvf"), "CORRUPT_FILE", "moved between tables");
    // Two chunks swapped.
    const swapped = raw.slice();
    const c = CHUNK_BYTES + 28;
    swapped.set(raw.subarray(HEADER_BYTES, HEADER_BYTES + c), HEADER_BYTES + c);
    swapped.set(raw.subarray(HEADER_BYTES + c, HEADER_BYTES + 2 * c), HEADER_BYTES);
    await inner.put("t.quiver/data/a.qvf", swapped);
    await assertRejects(store.get("t.quiver/data/a.qvf"), "CORRUPT_FILE", "chunks swapped");
    await assertRejects(store.getRange("t.quiver/data/a.qvf", 0, 10), "CORRUPT_FILE", "range of a swapped chunk");
    // Truncated to whole chunks, with the length fixed up: the last-chunk flag no longer holds.
    const cut = raw.slice(0, HEADER_BYTES + 2 * c);
    new DataView(cut.buffer).setUint32(16, 2 * CHUNK_BYTES, true);
    await inner.put("t.quiver/data/a.qvf", cut);
    await assertRejects(store.get("t.quiver/data/a.qvf"), "CORRUPT_FILE", "truncated");
    // A chunk of the other file (same key, same position) spliced in: the file id differs.
    const other = await inner.get("u.quiver/data/a.qvf");
    const spliced = raw.slice();
    spliced.set(other.subarray(HEADER_BYTES, HEADER_BYTES + c), HEADER_BYTES);
    await inner.put("t.quiver/data/a.qvf", spliced);
    await assertRejects(store.get("t.quiver/data/a.qvf"), "CORRUPT_FILE", "spliced from another file");
  });
});

function rows(from: number, n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({ id: from + i, text: `row ${from + i}`, vector: [Math.sin(from + i), Math.cos(from + i), (from + i) % 7] }));
}

describe("encrypted tables", () => {
  it("round trip on the file system: create, add, delete, index, search, reopen", async () => {
    const dir = join(base, `t${++counter}`);
    const db = await connect(dir, { encryption: { key: KEY } });
    const t = await db.createTable("docs", rows(0, 300));
    await t.add(rows(300, 100));
    await t.delete("id % 10 = 3");
    await t.createIndex("vector", { config: (await import("../../src/index.js")).Index.ivfFlat({ numPartitions: 4 }) });
    const q = [0.3, 0.9, 2];
    const before = await t.search(q).limit(5).toArray();
    await db.close();

    const again = await connect(dir, { encryption: { key: KEY } });
    const t2 = await again.openTable("docs");
    expect(await t2.countRows()).toBe(360);
    expect((await t2.search(q).limit(5).toArray()).map((r) => r.id)).toEqual(before.map((r) => r.id));
    expect((await t2.query().where("id = 42").toArray())[0]).toMatchObject({ text: "row 42" });
    await again.close();

    // On disk, no file holds the plaintext.
    const plain = await FsStore.open(dir);
    for (const info of await plain.list("docs.quiver/")) {
      expect(Buffer.from(await plain.get(info.key)).includes("row 42")).toBe(false);
    }
    await plain.close();
  });

  it("passphrase: right one opens, wrong one is WRONG_KEY before anything is read; no key is WRONG_KEY too", async () => {
    const volume = new MemoryVolume();
    const db = await connect(new MemoryStore("memory://p", volume), { encryption: { key: { passphrase: "correct horse" } } });
    await db.createTable("t", rows(0, 10));
    await db.close();
    const reads: string[] = [];
    const inner = new MemoryStore("memory://p", volume);
    const spy = spied(inner, (k) => reads.push(k));
    const error = await connect(spy, { encryption: { key: { passphrase: "wrong horse" } } }).catch((e: unknown) => e);
    expect(isQuiverError(error, "WRONG_KEY")).toBe(true);
    expect(reads).toEqual([KEY_CHECK_FILE]);
    await assertRejects(connect(new MemoryStore("memory://p", volume), { encryption: { key: OTHER } }), "WRONG_KEY", "raw key on a passphrase database");
    const plainDb = await connect(new MemoryStore("memory://p", volume));
    await assertRejects(plainDb.openTable("t"), "WRONG_KEY", "no key");
    const ok = await connect(new MemoryStore("memory://p", volume), { encryption: { key: { passphrase: "correct horse" } } });
    expect(await (await ok.openTable("t")).countRows()).toBe(10);
  });

  it("a CryptoKey works; bad keys are INVALID_ARGUMENT; encrypting a plain database is UNSUPPORTED", async () => {
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    const volume = new MemoryVolume();
    const db = await connect(new MemoryStore("memory://k", volume), { encryption: { key } });
    await db.createTable("t", rows(0, 5));
    expect(await (await (await connect(new MemoryStore("memory://k", volume), { encryption: { key } })).openTable("t")).countRows()).toBe(5);
    await assertRejects(connect("memory://", { encryption: { key: bytes(16, 1) } }), "INVALID_ARGUMENT", "16-byte key");
    await assertRejects(connect("memory://", { encryption: { key: { passphrase: "" } } }), "INVALID_ARGUMENT", "empty passphrase");
    const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    await assertRejects(connect("memory://", { encryption: { key: hmac } }), "INVALID_ARGUMENT", "HMAC key");
    const plain = new MemoryVolume();
    await (await connect(new MemoryStore("memory://pl", plain))).createTable("t", rows(0, 2));
    await assertRejects(connect(new MemoryStore("memory://pl", plain), { encryption: { key: KEY } }), "UNSUPPORTED", "plain database");
  });
});

describe("an encrypted table published over HTTP", () => {
  it("opens read-only with the key, reading ranges; without it or with another key it is WRONG_KEY", async () => {
    const dir = join(base, `http${++counter}`);
    const db = await connect(dir, { encryption: { key: KEY } });
    const t = await db.createTable("pub", rows(0, 3000));
    const q = [0.5, 0.5, 1];
    const expected = (await t.search(q).limit(5).toArray()).map((r) => r.id);
    await db.close();
    const raw = await FsStore.open(dir);
    await writeHttpListing(raw);
    const total = (await raw.list("")).reduce((s, i) => s + i.size, 0);
    await raw.close();
    const server = await serveStatic(dir);
    try {
      const remote = await connect(`${server.origin}/`, { encryption: { key: KEY } });
      const pub = await remote.openTable("pub");
      expect(await pub.countRows()).toBe(3000);
      expect((await pub.search(q).limit(5).toArray()).map((r) => r.id)).toEqual(expected);
      // One row by id reads a few chunks, not the table.
      const before = server.bytesSent();
      await pub.query().where("id = 7").select(["id"]).toArray();
      expect(server.bytesSent() - before).toBeLessThan(total);
      await assertRejects(connect(`${server.origin}/`, { encryption: { key: OTHER } }), "WRONG_KEY", "another key over HTTP");
      await assertRejects((await connect(`${server.origin}/`)).openTable("pub"), "WRONG_KEY", "no key over HTTP");
      await remote.close();
    } finally {
      await server.close();
    }
  });
});

/** Flips one byte inside a random chunk of every object under `prefix` in turn; each must read as CORRUPT_FILE (never other rows). */
describe("tampering with each file kind", () => {
  const kinds: [string, RegExp][] = [
    ["manifest", /_versions\/.*\.qvm$/],
    ["fragment", /data\/.*\.qvf$/],
    ["deletion file", /_deletions\/.*\.qvd$/],
    ["index", /_indices\//],
  ];
  for (const [kind, pattern] of kinds) {
    it(`${kind}: a flipped byte in a random chunk is CORRUPT_FILE`, async () => {
      for (let trial = 0; trial < 4; trial++) {
        const volume = new MemoryVolume();
        const db = await connect(new MemoryStore("memory://tamper", volume), { encryption: { key: KEY } });
        const t = await db.createTable("t", rows(0, 2000));
        await t.delete("id < 5");
        const { Index } = await import("../../src/index.js");
        await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 2 }) });
        await db.close();
        const inner = new MemoryStore("memory://tamper", volume);
        // Of the manifests, the newest one: older versions are not read by the queries below.
        const victims = (await inner.list("t.quiver/")).filter((i) => pattern.test(i.key)).slice(kind === "manifest" ? -1 : 0);
        expect(victims.length, kind).toBeGreaterThan(0);
        const victim = victims[Math.floor(Math.random() * victims.length)]!;
        const raw = await inner.get(victim.key);
        const chunks = Math.ceil((raw.length - HEADER_BYTES) / (CHUNK_BYTES + 28));
        const chunk = Math.floor(Math.random() * chunks);
        const start = HEADER_BYTES + chunk * (CHUNK_BYTES + 28);
        const at = start + Math.floor(Math.random() * Math.min(CHUNK_BYTES + 28, raw.length - start));
        raw[at] ^= 1 << Math.floor(Math.random() * 8);
        await inner.put(victim.key, raw);
        const read = async (): Promise<void> => {
          const again = await connect(new MemoryStore("memory://tamper", volume), { encryption: { key: KEY } });
          const table = await again.openTable("t");
          await table.query().toArray();
          await table.search([0.1, 0.2, 3]).limit(10).toArray();
          await table.search([0.1, 0.2, 3]).bypassVectorIndex().limit(10).toArray();
        };
        await assertRejects(read, "CORRUPT_FILE", `${kind} ${victim.key} byte ${at}`);
      }
    });
  }
});

describe("rekey", () => {
  it("rewrites the table under the new key as one commit; the old key alone no longer opens it", async () => {
    const volume = new MemoryVolume();
    const db = await connect(new MemoryStore("memory://rk", volume), { encryption: { key: KEY } });
    const t = await db.createTable("t", rows(0, 100));
    await t.delete("id < 10");
    const before = await t.version();
    const expected = (await t.query().toArray()).map((r) => r.id).sort((a, b) => a - b);
    const result = await t.rekey(OTHER);
    expect(result.version).toBe(before + 1);
    expect((await t.query().toArray()).map((r) => r.id).sort((a, b) => a - b)).toEqual(expected);
    await t.add(rows(500, 1));
    await db.close();

    const fresh = await connect(new MemoryStore("memory://rk", volume), { encryption: { key: OTHER } });
    const t2 = await fresh.openTable("t");
    expect(await t2.countRows()).toBe(91);
    // The version before rekey is under the old key: WRONG_KEY, not wrong rows.
    await assertRejects(async () => { await t2.checkout(before); await t2.query().toArray(); }, "WRONG_KEY", "old version without the old key");
    // With the old key as a previous key, it reads.
    const both = await connect(new MemoryStore("memory://rk", volume), { encryption: { key: OTHER, previousKeys: [KEY] } });
    const t3 = await both.openTable("t");
    await t3.checkout(before);
    expect(await t3.countRows()).toBe(90);
    // Every file the newest version names is under the new key: after cleanup (which reads the old
    // manifests, so it needs the old key too), the new key alone reads everything left.
    await t3.checkoutLatest();
    await t3.optimize({ cleanupOlderThan: new Date(Date.now() + 1000) });
    const keyIdOf = async (k: string): Promise<string> => Buffer.from((await new MemoryStore("memory://rk", volume).get(k)).subarray(24, 32)).toString("hex");
    const ids = new Set(await Promise.all((await new MemoryStore("memory://rk", volume).list("t.quiver/")).map((i) => keyIdOf(i.key))));
    expect(ids.size).toBe(1);
  });

  it("rekey of an unencrypted table is UNSUPPORTED", async () => {
    const db = await connect("memory://");
    const t = await db.createTable("t", rows(0, 3));
    await assertRejects(t.rekey(KEY), "UNSUPPORTED", "plain table");
  });
});
