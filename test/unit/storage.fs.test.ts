import { fork } from "node:child_process";
import * as realFs from "node:fs/promises";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FsStore } from "../../src/storage/fs-store.js";
import { assertRejects, blobStoreContract, bytes } from "./storage-contract.js";

const base = await mkdtemp(join(tmpdir(), "quiver-fs-"));
afterAll(() => rm(base, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(base, `s${++counter}`);

/** Every file under `dir`, relative, including temporary ones. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe("FsStore contract", () => {
  for (const c of blobStoreContract({
    make: () => FsStore.open(freshDir()),
    reopen: (store) => FsStore.open(store.uri),
  })) {
    it(c.name, c.run);
  }
});

describe("FsStore", () => {
  it("maps keys to files under the root and leaves no temporary files", async () => {
    const dir = freshDir();
    const store = await FsStore.open(dir);
    expect(store.uri).toBe(dir);
    await store.put("t.quiver/data/0.frag", bytes(10, 1));
    expect(await store.putIfAbsent("t.quiver/_versions/1.manifest", bytes(5, 2))).toBe(true);
    expect(await store.putIfAbsent("t.quiver/_versions/1.manifest", bytes(5, 3))).toBe(false);
    expect(await filesUnder(dir)).toEqual(["t.quiver/_versions/1.manifest", "t.quiver/data/0.frag"]);
    expect(await realFs.readFile(join(dir, "t.quiver/data/0.frag"))).toEqual(Buffer.from(bytes(10, 1)));
  });

  it("does not list temporary files a crashed writer left, and removes old ones", async () => {
    const dir = freshDir();
    const store = await FsStore.open(dir);
    await store.put("a/b", bytes(3, 1));
    await writeFile(join(dir, "a", ".quiver-tmp-crashed"), bytes(3, 2));
    await writeFile(join(dir, ".quiver-tmp-top"), bytes(3, 2));
    expect((await store.list("")).map((i) => i.key)).toEqual(["a/b"]);
    expect(await store.removeTemporaryFiles("", 60_000)).toBe(0); // too young
    expect(await store.removeTemporaryFiles("a/", -1)).toBe(1); // only under the prefix
    expect(await store.removeTemporaryFiles("missing/", -1)).toBe(0);
    expect(await store.removeTemporaryFiles("", -1)).toBe(1);
    expect(await filesUnder(dir)).toEqual(["a/b"]);
  });

  it("a key cannot be an object and a directory at once", async () => {
    const store = await FsStore.open(freshDir());
    await store.put("x/y", bytes(1, 1));
    await assertRejects(store.put("x", bytes(1, 1)), "INVALID_ARGUMENT", "put over a directory");
    await assertRejects(store.putIfAbsent("x", bytes(1, 1)), "INVALID_ARGUMENT", "putIfAbsent over a directory");
    await assertRejects(store.put("x/y/z", bytes(1, 1)), "INVALID_ARGUMENT", "put below an object");
    expect(await filesUnder(store.uri)).toEqual(["x/y"]);
  });

  it("relative roots resolve against the working directory", async () => {
    const store = await FsStore.open(join(base, "rel", "..", "rel2"));
    expect(store.uri).toBe(join(base, "rel2"));
  });

  for (const code of ["ENOSPC", "EDQUOT"]) {
    it(`${code} is QUOTA_EXCEEDED and leaves the old object and no temporary file`, async () => {
      const full = Object.assign(new Error(`${code}: no space left on device, write`), { code });
      // node:fs/promises whose file handles fail on write, as on a full disk.
      const fileSystem = {
        ...realFs,
        open: async (...args: Parameters<typeof realFs.open>) => {
          const handle = await realFs.open(...args);
          return new Proxy(handle, {
            get: (target, prop) => {
              if (prop === "write") return () => Promise.reject(full);
              const value: unknown = Reflect.get(target, prop);
              return typeof value === "function" ? value.bind(target) : value;
            },
          });
        },
      } as typeof realFs;
      const dir = freshDir();
      await (await FsStore.open(dir)).put("k", bytes(10, 1));
      const store = await FsStore.open(dir, { fileSystem });
      await assertRejects(store.put("k", bytes(20, 2)), "QUOTA_EXCEEDED", "put");
      await assertRejects(store.putIfAbsent("j", bytes(20, 2)), "QUOTA_EXCEEDED", "putIfAbsent");
      expect(await store.get("k")).toEqual(bytes(10, 1));
      expect(await filesUnder(dir)).toEqual(["k"]);
    });
  }

  it("two processes racing putIfAbsent on the same keys: each key has exactly one winner", async () => {
    const root = freshDir();
    const count = 40;
    const racers = ["A", "B"].map((name) =>
      fork(new URL("./storage-fs-racer.ts", import.meta.url).pathname, [root, name, String(count)], {
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    const message = (child: (typeof racers)[number]) =>
      new Promise<{ ready?: boolean; won?: string[] }>((resolve, reject) => {
        child.once("message", resolve);
        child.once("exit", (code) => reject(new Error(`racer exited with ${code} before answering`)));
      });
    await Promise.all(racers.map(message)); // both ready
    const answers = racers.map(message);
    for (const r of racers) r.send("go");
    const [a, b] = (await Promise.all(answers)).map((m) => m.won!);
    expect([...a!, ...b!].sort()).toEqual(Array.from({ length: count }, (_, i) => `race/${i}.manifest`).sort());
    expect(a!.filter((key) => b!.includes(key))).toEqual([]);
    const store = await FsStore.open(root);
    for (const key of a!) expect(new TextDecoder().decode(await store.get(key))).toBe("A".repeat(1000));
    for (const key of b!) expect(new TextDecoder().decode(await store.get(key))).toBe("B".repeat(1000));
    expect((await filesUnder(root)).length).toBe(count);
  });
});
