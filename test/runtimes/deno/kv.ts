// Run by test/runtimes/deno.test.ts under the real Deno binary (with --unstable-kv): Quiver on
// Deno KV through DenoKvStore. Arguments: <mode> <kv file> [...].
//   contract           the BlobStore contract (test/unit/storage-contract.ts) against a fresh KV
//   table              create, append, delete, index and search a table; reopen and search again
//   append <from> <n>  append rows from..from+n one commit each (run twice at once: no row lost)
//   inspect            every id in the table, its version and row count
import { connect, Index } from "../../../src/index.js";
import { DenoKvStore } from "../../../src/edge.js";
import { blobStoreContract } from "../../unit/storage-contract.js";

const Deno = (globalThis as unknown as { Deno: { args: string[]; openKv(path: string): Promise<never> } }).Deno;
const [mode, path, ...rest] = Deno.args as [string, string, ...string[]];
const vector = (i: number): number[] => [i % 17, (i * 7) % 13, 1, (i % 5) / 5];

if (mode === "contract") {
  const kv = await Deno.openKv(path);
  let n = 0;
  const cases = blobStoreContract({
    make: async () => new DenoKvStore(kv, `contract-${n++}`, { chunkBytes: 1024 * 4 }),
    reopen: async (store) => new DenoKvStore(kv, store.uri.slice("denokv://".length), { chunkBytes: 1024 * 4 }),
  });
  const failed: string[] = [];
  for (const c of cases) {
    try {
      await c.run();
    } catch (e) {
      failed.push(`${c.name}: ${(e as Error).message}`);
    }
  }
  (kv as { close(): void }).close();
  console.log(JSON.stringify({ cases: cases.length, failed }));
} else {
  const db = await connect(new DenoKvStore(await Deno.openKv(path), "app", { closeKv: true }));
  if (mode === "table") {
    const t = await db.createTable("docs", Array.from({ length: 300 }, (_, i) => ({ id: i, tag: i % 2 === 0 ? "even" : "odd", vector: vector(i) })));
    await t.add(Array.from({ length: 200 }, (_, i) => ({ id: 300 + i, tag: "late", vector: vector(300 + i) })));
    await t.delete("id < 10");
    await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 4 }) });
    const nearest = (await t.search(vector(42)).select(["id"]).limit(3).toArray()).map((r) => r.id);
    await db.close();
    const again = await connect(new DenoKvStore(await Deno.openKv(path), "app", { closeKv: true }));
    const t2 = await again.openTable("docs");
    console.log(JSON.stringify({
      version: await t2.version(), count: await t2.countRows(), nearest, reopened: (await t2.search(vector(42)).select(["id"]).limit(3).toArray()).map((r) => r.id),
      filtered: (await t2.search(vector(42)).where("tag = 'late'").select(["id"]).limit(2).toArray()).map((r) => r.id),
      indices: (await t2.listIndices()).map((i) => i.indexType),
    }));
    await again.close();
  } else if (mode === "append") {
    const [from, n] = rest.map(Number) as [number, number];
    const t = await db.openTable("race");
    for (let i = from; i < from + n; i++) await t.add([{ id: i, vector: vector(i) }]);
    await db.close();
    console.log(JSON.stringify({ done: n }));
  } else if (mode === "seed") {
    await db.createTable("race", [{ id: -1, vector: vector(0) }]);
    await db.close();
    console.log(JSON.stringify({ seeded: true }));
  } else if (mode === "inspect") {
    const t = await db.openTable("race");
    const ids = (await t.query().select(["id"]).toArray()).map((r) => r.id as number).sort((a, b) => a - b);
    console.log(JSON.stringify({ ids, version: await t.version(), count: await t.countRows() }));
    await db.close();
  }
}
