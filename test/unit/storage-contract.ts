/**
 * The BlobStore contract: what every backend must do, as a list of named cases that any runner can
 * execute. Vitest runs it for memory, fs, IndexedDB (fake-indexeddb) and HTTP; the Chromium suite
 * runs the very same cases in a page and in a worker against IndexedDB and OPFS. So this file
 * imports no test framework and brings its own small assertions.
 */
import { joinParts, writeParts, writeStream, type BlobStore } from "../../src/storage/blob-store.js";

export interface ContractSubject {
  /**
   * A new store. Writable stores start empty (the cases write what they need); read-only ones
   * must already hold exactly `seed`, as a publisher would have written it.
   */
  make(seed: ReadonlyMap<string, Uint8Array>): Promise<BlobStore>;
  readOnly?: boolean;
  /** A second, independent handle on the storage behind `store` (another connection or tab). */
  reopen?(store: BlobStore): Promise<BlobStore>;
}

export interface ContractCase {
  name: string;
  run(): Promise<void>;
}

export function bytes(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

export function assertBytes(actual: unknown, expected: Uint8Array, what: string): void {
  assert(actual instanceof Uint8Array, `${what}: expected a Uint8Array, got ${String(actual)}`);
  assert(actual.length === expected.length, `${what}: expected ${expected.length} bytes, got ${actual.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

export async function assertRejects(work: Promise<unknown> | (() => Promise<unknown>), code: string, what: string): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await (typeof work === "function" ? work() : work);
  } catch (error) {
    const got = (error as { code?: string; name?: string } | null)?.code;
    assert(got === code, `${what}: expected ${code}, got ${got ?? String(error)}`);
    assert((error as Error).name === "QuiverError", `${what}: expected a QuiverError, got ${(error as Error).name}`);
    return;
  }
  throw new Error(`${what}: expected ${code}, but it resolved with ${String(outcome)}`);
}

function sameJson(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  assert(a === e, `${what}:\n  expected ${e}\n  got      ${a}`);
}

const BAD_KEYS: unknown[] = [
  "",
  "/a",
  "a/",
  "a//b",
  "./a",
  "a/./b",
  "a/../b",
  "..",
  "a\\b",
  "a\u0000b",
  "a\nb",
  "a:b",
  "a*b",
  "seg./x",
  "x/seg ",
  ".quiver-tmp-1",
  "d/.quiver-x",
  "k".repeat(1025),
  `a/${"s".repeat(256)}`,
  42,
  null,
  undefined,
];

const LIST_KEYS = ["t/a-b", "t/a.b", "t/a/b", "t/ab", "t/abc/d", "u/x", "tt"];

export function blobStoreContract(subject: ContractSubject): ContractCase[] {
  const cases: ContractCase[] = [];
  const readOnly = subject.readOnly === true;
  const test = (name: string, run: () => Promise<void>) => cases.push({ name, run });

  /** Runs `body` with a store holding `seed`, closing it afterwards. */
  async function withStore(seed: Record<string, Uint8Array>, body: (store: BlobStore) => Promise<void>): Promise<void> {
    const map = new Map(Object.entries(seed));
    const store = await subject.make(map);
    try {
      if (!readOnly) for (const [key, data] of map) await store.put(key, data);
      await body(store);
    } finally {
      await store.close();
    }
  }

  const big = bytes(300_001, 3);

  test("get returns the stored bytes", () =>
    withStore({ "a/b/obj.bin": bytes(1000, 1), top: bytes(10, 2) }, async (store) => {
      assertBytes(await store.get("a/b/obj.bin"), bytes(1000, 1), "nested");
      assertBytes(await store.get("top"), bytes(10, 2), "top level");
      assert(store.readOnly === readOnly, `readOnly is ${store.readOnly}`);
      assert(typeof store.uri === "string" && store.uri.length > 0, "uri is set");
    }));

  test("get hands out a copy the caller may change", () =>
    withStore({ k: bytes(64, 4) }, async (store) => {
      const first = await store.get("k");
      first.fill(0);
      assertBytes(await store.get("k"), bytes(64, 4), "after changing the first result");
      const range = await store.getRange("k", 8, 8);
      range.fill(0);
      assertBytes(await store.getRange("k", 8, 8), bytes(64, 4).slice(8, 16), "after changing a range");
    }));

  test("absent objects: get and getRange are NOT_FOUND, head is undefined", () =>
    withStore({ top: bytes(10, 2), "dir/x": bytes(3, 5) }, async (store) => {
      for (const key of ["missing", "no/such/dir/file", "top/below", "dir"]) {
        await assertRejects(store.get(key), "NOT_FOUND", `get("${key}")`);
        await assertRejects(store.getRange(key, 0, 1), "NOT_FOUND", `getRange("${key}")`);
        assert((await store.head(key)) === undefined, `head("${key}") is undefined`);
      }
    }));

  if (!readOnly) {
    test("getRange after an overwrite or delete through the store sees the change", () =>
      withStore({ k: bytes(5000, 6) }, async (store) => {
        assertBytes(await store.getRange("k", 100, 50), bytes(5000, 6).slice(100, 150), "first read");
        await store.put("k", bytes(4000, 7));
        assertBytes(await store.getRange("k", 100, 50), bytes(4000, 7).slice(100, 150), "after put");
        await store.delete("k");
        await assertRejects(store.getRange("k", 100, 50), "NOT_FOUND", "after delete");
        assert(await store.putIfAbsent("k", bytes(3000, 8)), "putIfAbsent after delete");
        assertBytes(await store.getRange("k", 100, 50), bytes(3000, 8).slice(100, 150), "after putIfAbsent");
      }));
  }

  test("getRange returns exactly the requested bytes", () =>
    withStore({ big }, async (store) => {
      const n = big.length;
      const ranges: [number, number][] = [[0, 1], [5, 100], [n - 10, 10], [n, 0], [0, 0], [0, n], [123_457, 65_536], [n - 1, 1]];
      for (const [offset, length] of ranges) {
        assertBytes(await store.getRange("big", offset, length), big.slice(offset, offset + length), `getRange(${offset}, ${length})`);
      }
    }));

  test("getRange past the end is CORRUPT_FILE, never a short read", () =>
    withStore({ small: bytes(100, 6) }, async (store) => {
      for (const [offset, length] of [[99, 2], [0, 101], [101, 0], [150, 10]] as const) {
        await assertRejects(store.getRange("small", offset, length), "CORRUPT_FILE", `getRange(${offset}, ${length})`);
      }
    }));

  test("getRange rejects offsets and lengths that are not non-negative integers", () =>
    withStore({ small: bytes(100, 6) }, async (store) => {
      for (const [offset, length] of [[-1, 1], [0, -1], [1.5, 1], [0, Number.NaN], [Number.POSITIVE_INFINITY, 1], ["3", 1]] as const) {
        await assertRejects(store.getRange("small", offset as number, length), "INVALID_ARGUMENT", `getRange(${String(offset)}, ${length})`);
      }
    }));

  test("getRanges (where a store has it) returns each range asked for, in order, with getRange's errors", () =>
    withStore({ big, small: bytes(100, 6) }, async (store) => {
      if (store.getRanges === undefined) return;
      const n = big.length;
      // Unsorted, overlapping, repeated, empty and whole-object ranges.
      const ranges = [[n - 10, 10], [5, 100], [0, 1], [50, 100], [5, 100], [n, 0], [0, n], [123_457, 65_536]].map(([offset, length]) => ({ offset: offset!, length: length! }));
      const got = await store.getRanges("big", ranges);
      assert(got.length === ranges.length, `getRanges answered ${got.length} ranges for ${ranges.length}`);
      ranges.forEach((r, i) => assertBytes(got[i], big.slice(r.offset, r.offset + r.length), `getRanges #${i} (${r.offset}, ${r.length})`));
      got[1]!.fill(0);
      assertBytes((await store.getRanges("big", [ranges[4]!]))[0], big.slice(5, 105), "after changing an answer");
      assert((await store.getRanges("big", [])).length === 0, "no ranges, no answers");
      await assertRejects(store.getRanges("small", [{ offset: 0, length: 10 }, { offset: 99, length: 2 }]), "CORRUPT_FILE", "a range past the end");
      await assertRejects(store.getRanges("small", [{ offset: 0, length: 10 }, { offset: -1, length: 2 }]), "INVALID_ARGUMENT", "a negative offset");
      await assertRejects(store.getRanges("absent", [{ offset: 0, length: 1 }]), "NOT_FOUND", "an absent object");
    }));

  test("getRanges into a caller's buffer: the same answers, as consecutive views of it where the store reads in place", () =>
    withStore({ big }, async (store) => {
      if (store.getRanges === undefined) return;
      const ranges = [[70_000, 5_000], [3, 4_093], [200_000, 1]].map(([offset, length]) => ({ offset: offset!, length: length! }));
      const into = new Uint8Array(10_000).fill(0xee);
      for (let round = 0; round < 2; round++) {
        const got = await store.getRanges("big", ranges, into);
        let at = 0;
        ranges.forEach((r, i) => {
          assertBytes(got[i], big.slice(r.offset, r.offset + r.length), `round ${round}, range #${i}`);
          // A store either fills the buffer in order or leaves it alone; never a mix.
          if (got[i]!.buffer === into.buffer) assert(got[i]!.byteOffset === at, `range #${i} at byte ${got[i]!.byteOffset} of the buffer, expected ${at}`);
          at += r.length;
        });
        const inPlace = got.filter((g) => g.buffer === into.buffer).length;
        assert(inPlace === 0 || inPlace === ranges.length, `${inPlace} of ${ranges.length} answers in the buffer`);
        if (inPlace === 0) assert(into.every((b) => b === 0xee), "a store that does not read in place leaves the buffer as it was");
      }
      // Too small for the ranges: the buffer is not used.
      const small = new Uint8Array(100);
      const got = await store.getRanges("big", ranges, small);
      ranges.forEach((r, i) => assertBytes(got[i], big.slice(r.offset, r.offset + r.length), `too small a buffer, range #${i}`));
      assert(got.every((g) => g.buffer !== small.buffer), "a buffer too small for the ranges is left alone");
    }));

  test("head reports the size and a modification time", () =>
    withStore({ "h/one": bytes(1234, 7) }, async (store) => {
      const info = await store.head("h/one");
      assert(info !== undefined, "head found the object");
      assert(info.key === "h/one", `key is ${info.key}`);
      assert(info.size === 1234, `size is ${info.size}`);
      assert(info.modified === undefined || Number.isFinite(info.modified), `modified is ${info.modified}`);
    }));

  test("empty objects exist and read as zero bytes", () =>
    withStore({ empty: new Uint8Array(0) }, async (store) => {
      assertBytes(await store.get("empty"), new Uint8Array(0), "get");
      assertBytes(await store.getRange("empty", 0, 0), new Uint8Array(0), "getRange(0, 0)");
      assert((await store.head("empty"))?.size === 0, "head size is 0");
      await assertRejects(store.getRange("empty", 0, 1), "CORRUPT_FILE", "getRange(0, 1)");
    }));

  test("list returns the keys starting with a prefix, sorted, with sizes", () =>
    withStore(Object.fromEntries(LIST_KEYS.map((k, i) => [k, bytes(i + 1, i)])), async (store) => {
      const size = (key: string) => LIST_KEYS.indexOf(key) + 1;
      const expect = (keys: string[]) => keys.map((key) => ({ key, size: size(key) }));
      const got = async (prefix: string) => (await store.list(prefix)).map(({ key, size }) => ({ key, size }));
      sameJson(await got("t/"), expect(["t/a-b", "t/a.b", "t/a/b", "t/ab", "t/abc/d"]), 'list("t/")');
      sameJson(await got("t/ab"), expect(["t/ab", "t/abc/d"]), 'list("t/ab")');
      sameJson(await got("t/a/"), expect(["t/a/b"]), 'list("t/a/")');
      sameJson(await got("t"), expect(["t/a-b", "t/a.b", "t/a/b", "t/ab", "t/abc/d", "tt"]), 'list("t")');
      sameJson(await got(""), expect(["t/a-b", "t/a.b", "t/a/b", "t/ab", "t/abc/d", "tt", "u/x"]), 'list("")');
      sameJson(await got("nope/"), [], 'list("nope/")');
      sameJson(await got("u/x"), expect(["u/x"]), 'list("u/x")');
      sameJson(await got("u/x/"), [], 'list("u/x/")');
    }));

  test("listFolders names the folders under a prefix that hold objects", () =>
    withStore(Object.fromEntries(LIST_KEYS.map((k, i) => [k, bytes(i + 1, i)])), async (store) => {
      if (store.listFolders === undefined) return;
      sameJson(await store.listFolders(""), ["t", "u"], 'listFolders("")');
      sameJson(await store.listFolders("t/"), ["a", "abc"], 'listFolders("t/")');
      sameJson(await store.listFolders("t/a/"), [], 'listFolders("t/a/")');
      sameJson(await store.listFolders("nope/"), [], 'listFolders("nope/")');
      if (readOnly) return;
      // A folder whose objects are all deleted is gone, even where the backend keeps directories.
      await store.delete("t/abc/d");
      sameJson(await store.listFolders("t/"), ["a"], "listFolders after delete");
    }));

  test("keys with spaces, URL-special and non-ASCII characters round-trip", () =>
    withStore({ "uni/ü ß/日本.bin": bytes(20, 8), "uni/emoji 😀": bytes(5, 9), "uni/100% #1 &a=b+c": bytes(7, 10) }, async (store) => {
      assertBytes(await store.get("uni/ü ß/日本.bin"), bytes(20, 8), "get");
      assertBytes(await store.getRange("uni/emoji 😀", 1, 3), bytes(5, 9).slice(1, 4), "getRange");
      assertBytes(await store.get("uni/100% #1 &a=b+c"), bytes(7, 10), "URL-special characters");
      sameJson((await store.list("uni/")).map((i) => i.key), ["uni/100% #1 &a=b+c", "uni/emoji 😀", "uni/ü ß/日本.bin"], "list");
    }));

  test("invalid keys are INVALID_ARGUMENT for every operation", () =>
    withStore({}, async (store) => {
      for (const key of BAD_KEYS) {
        const k = key as string;
        const what = (op: string) => `${op}(${JSON.stringify(key) ?? String(key)})`;
        await assertRejects(() => store.get(k), "INVALID_ARGUMENT", what("get"));
        await assertRejects(() => store.getRange(k, 0, 1), "INVALID_ARGUMENT", what("getRange"));
        await assertRejects(() => store.head(k), "INVALID_ARGUMENT", what("head"));
        if (!readOnly) {
          await assertRejects(() => store.put(k, bytes(1, 1)), "INVALID_ARGUMENT", what("put"));
          await assertRejects(() => store.putIfAbsent(k, bytes(1, 1)), "INVALID_ARGUMENT", what("putIfAbsent"));
          await assertRejects(() => store.delete(k), "INVALID_ARGUMENT", what("delete"));
        }
      }
      for (const prefix of ["/a", "a\\b", "a\u0001", 5, null]) {
        await assertRejects(() => store.list(prefix as string), "INVALID_ARGUMENT", `list(${JSON.stringify(prefix)})`);
      }
    }));

  test("concurrent reads all return the right bytes", () =>
    withStore({ "c/1": bytes(5000, 11), "c/2": bytes(7000, 12), "c/3": bytes(9000, 13) }, async (store) => {
      const reads = [];
      for (let i = 0; i < 30; i++) {
        const n = (i % 3) + 1;
        const want = bytes([5000, 7000, 9000][n - 1]!, 10 + n);
        reads.push(
          i % 2 === 0
            ? store.get(`c/${n}`).then((got) => assertBytes(got, want, `get c/${n}`))
            : store.getRange(`c/${n}`, i, 100).then((got) => assertBytes(got, want.slice(i, i + 100), `getRange c/${n}`)),
        );
      }
      await Promise.all(reads);
    }));

  test("a closed store is CLOSED", async () => {
    const map = new Map([["k", bytes(4, 1)]]);
    const store = await subject.make(map);
    if (!readOnly) await store.put("k", bytes(4, 1));
    await store.close();
    await assertRejects(() => store.get("k"), "CLOSED", "get");
    await assertRejects(() => store.getRange("k", 0, 1), "CLOSED", "getRange");
    await assertRejects(() => store.head("k"), "CLOSED", "head");
    await assertRejects(() => store.list(""), "CLOSED", "list");
    await assertRejects(() => store.put("k", bytes(1, 1)), "CLOSED", "put");
    await assertRejects(() => store.putIfAbsent("j", bytes(1, 1)), "CLOSED", "putIfAbsent");
    await assertRejects(() => store.delete("k"), "CLOSED", "delete");
  });

  if (readOnly) {
    test("writes are UNSUPPORTED on a read-only store", () =>
      withStore({ k: bytes(4, 1) }, async (store) => {
        await assertRejects(() => store.put("k", bytes(1, 1)), "UNSUPPORTED", "put");
        await assertRejects(() => store.putIfAbsent("new", bytes(1, 1)), "UNSUPPORTED", "putIfAbsent");
        await assertRejects(() => store.delete("k"), "UNSUPPORTED", "delete");
        assertBytes(await store.get("k"), bytes(4, 1), "object unchanged");
      }));
    return cases;
  }

  test("put replaces an object", () =>
    withStore({}, async (store) => {
      await store.put("r/obj", bytes(500, 1));
      await store.put("r/obj", bytes(20, 2));
      assertBytes(await store.get("r/obj"), bytes(20, 2), "after replacing with fewer bytes");
      assert((await store.head("r/obj"))?.size === 20, "head size follows");
      await store.put("r/obj", bytes(900, 3));
      assertBytes(await store.get("r/obj"), bytes(900, 3), "after replacing with more bytes");
      sameJson((await store.list("r/")).map((i) => [i.key, i.size]), [["r/obj", 900]], "one object listed");
    }));

  test("put keeps its own copy of the bytes", () =>
    withStore({}, async (store) => {
      const data = bytes(256, 5);
      const pending = store.put("copy", data);
      data.fill(7); // before the write finished
      await pending;
      data.fill(9);
      assertBytes(await store.get("copy"), bytes(256, 5), "stored bytes");
      const other = bytes(256, 6);
      const pendingIfAbsent = store.putIfAbsent("copy2", other);
      other.fill(1);
      assert(await pendingIfAbsent, "putIfAbsent wrote");
      assertBytes(await store.get("copy2"), bytes(256, 6), "putIfAbsent's stored bytes");
    }));

  test("put stores only the bytes of a view, not its whole buffer", () =>
    withStore({}, async (store) => {
      const whole = bytes(1000, 7);
      await store.put("view", whole.subarray(100, 150));
      assertBytes(await store.get("view"), whole.slice(100, 150), "get");
      assert((await store.head("view"))?.size === 50, "head size is the view's");
      assert(await store.putIfAbsent("view2", whole.subarray(900)), "putIfAbsent wrote");
      assertBytes(await store.get("view2"), whole.slice(900), "putIfAbsent of a view");
    }));

  test("an object written in parts (putParts, or put of them joined) reads back as the parts joined", () =>
    withStore({}, async (store) => {
      const whole = bytes(90_000, 11);
      // Uneven parts, one empty, one a view into the middle of a bigger buffer.
      const parts = [whole.subarray(0, 5000), new Uint8Array(0), whole.subarray(5000, 5001), whole.subarray(5001)];
      await writeParts(store, "parts/obj", parts);
      assertBytes(await store.get("parts/obj"), whole, "get");
      assert((await store.head("parts/obj"))?.size === whole.length, "head size is the parts' total");
      assertBytes(await store.getRange("parts/obj", 4990, 20), whole.slice(4990, 5010), "a range across the parts' seams");
      await writeParts(store, "parts/obj", [bytes(10, 12), bytes(20, 13)]);
      assertBytes(await store.get("parts/obj"), joinParts([bytes(10, 12), bytes(20, 13)]), "replaced by a second write");
    }));

  test("an object written as a stream (putStream, or put of it gathered) reads back whole, though every part reuses one buffer", () =>
    withStore({}, async (store) => {
      const whole = bytes(70_000, 14);
      // The producer hands out one 8,192-byte buffer again and again, as an index file's writer does.
      async function* reused(source: Uint8Array): AsyncGenerator<Uint8Array> {
        const buffer = new Uint8Array(8192);
        for (let at = 0; at < source.length; at += buffer.length) {
          const n = Math.min(buffer.length, source.length - at);
          buffer.set(source.subarray(at, at + n));
          yield buffer.subarray(0, n);
          buffer.fill(0xee);
        }
      }
      await writeStream(store, "stream/obj", whole.length, reused(whole));
      assertBytes(await store.get("stream/obj"), whole, "get");
      assert((await store.head("stream/obj"))?.size === whole.length, "head size is the stream's");
      assertBytes(await store.getRange("stream/obj", 8180, 30), whole.slice(8180, 8210), "a range across two parts");
      await assertRejects(writeStream(store, "stream/short", whole.length + 1, reused(whole)), "INVALID_ARGUMENT", "a stream shorter than its size");
      await assertRejects(writeStream(store, "stream/long", whole.length - 1, reused(whole)), "INVALID_ARGUMENT", "a stream longer than its size");
      assert((await store.head("stream/short")) === undefined && (await store.head("stream/long")) === undefined, "a stream of the wrong size writes nothing");
      await writeStream(store, "stream/obj", 0, reused(new Uint8Array(0)));
      assert((await store.head("stream/obj"))?.size === 0, "replaced by an empty stream");
    }));

  test("a stream of unknown size writes what its parts add up to, and a stream that fails writes nothing", () =>
    withStore({}, async (store) => {
      const whole = bytes(70_000, 15);
      async function* pieces(failAt = Infinity): AsyncGenerator<Uint8Array> {
        for (let at = 0; at < whole.length; at += 9000) {
          if (at >= failAt) throw new Error("the source failed");
          yield whole.subarray(at, Math.min(whole.length, at + 9000));
        }
      }
      await writeStream(store, "stream/any", undefined, pieces());
      assertBytes(await store.get("stream/any"), whole, "get");
      assert((await store.head("stream/any"))?.size === whole.length, "head size is what the parts add up to");
      let failed = false;
      await writeStream(store, "stream/failed", undefined, pieces(30_000)).catch(() => { failed = true; });
      assert(failed, "the source's failure is the write's");
      await writeStream(store, "stream/any", undefined, pieces(30_000)).catch(() => undefined);
      assert((await store.head("stream/failed")) === undefined, "a failed stream leaves no object");
      assertBytes(await store.get("stream/any"), whole, "a failed stream leaves the object it would have replaced");
      if (store.removeTemporaryFiles) assert((await store.removeTemporaryFiles("", 0)) === 0, "a failed stream leaves no temporary file");
    }));

  test("put and putIfAbsent reject data that is not a Uint8Array", () =>
    withStore({}, async (store) => {
      for (const data of [[1, 2, 3], "abc", new ArrayBuffer(3), null, new Float32Array(2)] as unknown[]) {
        const what = Object.prototype.toString.call(data);
        await assertRejects(() => store.put("bad", data as Uint8Array), "INVALID_ARGUMENT", `put(${what})`);
        await assertRejects(() => store.putIfAbsent("bad", data as Uint8Array), "INVALID_ARGUMENT", `putIfAbsent(${what})`);
      }
      assert((await store.head("bad")) === undefined, "nothing was written");
    }));

  test("putIfAbsent writes only when the key is free", () =>
    withStore({}, async (store) => {
      assert((await store.putIfAbsent("v/1.manifest", bytes(30, 1))) === true, "first putIfAbsent wins");
      assert((await store.putIfAbsent("v/1.manifest", bytes(40, 2))) === false, "second putIfAbsent loses");
      assertBytes(await store.get("v/1.manifest"), bytes(30, 1), "the first bytes stay");
      await store.delete("v/1.manifest");
      assert((await store.putIfAbsent("v/1.manifest", bytes(50, 3))) === true, "free again after delete");
      assertBytes(await store.get("v/1.manifest"), bytes(50, 3), "the new bytes");
      await store.put("v/2.manifest", bytes(5, 4));
      assert((await store.putIfAbsent("v/2.manifest", bytes(6, 5))) === false, "an object written by put counts");
    }));

  test("20 concurrent putIfAbsent on one key: exactly one wins, and its bytes are stored", () =>
    withStore({}, async (store) => {
      const payloads = Array.from({ length: 20 }, (_, i) => bytes(1000 + i, 100 + i));
      const results = await Promise.all(payloads.map((p) => store.putIfAbsent("race/head", p)));
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      assert(winners.length === 1, `expected one winner, got ${winners.length} (${winners.join(", ")})`);
      assertBytes(await store.get("race/head"), payloads[winners[0]!]!, "stored bytes are the winner's");
      sameJson((await store.list("race/")).map((i) => i.key), ["race/head"], "nothing else appeared");
    }));

  test("concurrent puts of different keys all land", () =>
    withStore({}, async (store) => {
      const keys = Array.from({ length: 25 }, (_, i) => `many/d${i % 5}/f${i}`);
      await Promise.all(keys.map((key, i) => store.put(key, bytes(100 + i, i))));
      sameJson((await store.list("many/")).map((i) => i.key), [...keys].sort(), "listed");
      for (const [i, key] of keys.entries()) assertBytes(await store.get(key), bytes(100 + i, i), key);
    }));

  test("delete removes an object; deleting what is absent is fine", () =>
    withStore({ "d/a": bytes(10, 1), "d/b": bytes(10, 2) }, async (store) => {
      await store.delete("d/a");
      await assertRejects(store.get("d/a"), "NOT_FOUND", "get after delete");
      assert((await store.head("d/a")) === undefined, "head after delete");
      sameJson((await store.list("d/")).map((i) => i.key), ["d/b"], "list after delete");
      await store.delete("d/a");
      await store.delete("never/there");
      await store.delete("d"); // a "directory" of keys is not an object
      assertBytes(await store.get("d/b"), bytes(10, 2), "neighbour untouched");
    }));

  test("readers see the old object or the new one, never a mix", () =>
    withStore({}, async (store) => {
      const before = new Uint8Array(200_000).fill(1);
      const after = new Uint8Array(150_000).fill(2);
      await store.put("swap", before);
      const reads: Promise<Uint8Array>[] = [];
      const write = store.put("swap", after);
      for (let i = 0; i < 10; i++) reads.push(store.get("swap"));
      await write;
      for (const [i, got] of (await Promise.all(reads)).entries()) {
        const same = (x: Uint8Array) => got.length === x.length && got.every((b) => b === x[0]);
        assert(same(before) || same(after), `read ${i}: ${got.length} bytes that are neither the old object nor the new one`);
      }
      assertBytes(await store.get("swap"), after, "after the write");
    }));

  test("a 4 MiB object round-trips, whole and in ranges", () =>
    withStore({}, async (store) => {
      const large = bytes(4 * 1024 * 1024 + 3, 21);
      await store.put("large/obj", large);
      assertBytes(await store.get("large/obj"), large, "get");
      assertBytes(await store.getRange("large/obj", 3_000_000, 1_000_000), large.slice(3_000_000, 4_000_000), "getRange");
      assert((await store.head("large/obj"))?.size === large.length, "head size");
    }));

  if (subject.reopen) {
    const reopen = subject.reopen;
    test("writes are visible through a second handle, and outlive the first", () =>
      withStore({}, async (store) => {
        const other = await reopen(store);
        try {
          await store.put("p/a", bytes(100, 1));
          assert(await store.putIfAbsent("p/b", bytes(200, 2)), "putIfAbsent wrote");
          assertBytes(await other.get("p/a"), bytes(100, 1), "second handle sees put");
          assert((await other.putIfAbsent("p/b", bytes(1, 1))) === false, "second handle sees putIfAbsent");
          await store.close();
          assertBytes(await other.getRange("p/b", 50, 50), bytes(200, 2).slice(50, 100), "after the first handle closed");
          sameJson((await other.list("p/")).map((i) => [i.key, i.size]), [["p/a", 100], ["p/b", 200]], "list");
        } finally {
          await other.close();
        }
      }));
  }

  return cases;
}
