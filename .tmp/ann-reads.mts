import { connect, Index } from "/work/main/src/index.js";
import { seededRandom } from "/work/main/src/ann/common.js";
import { MemoryStore, MemoryVolume } from "/work/main/src/storage/memory-store.js";
const vol = new MemoryVolume();
const inner = new MemoryStore("memory://x", vol);
let reads = 0, bytes = 0;
const store = new Proxy(inner, { get(t, p) { if (p === "getRange") return async (k: string, o: number, n: number) => { reads++; bytes += n; return t.getRange(k, o, n); }; if (p === "get") return async (k: string) => { reads++; const b = await t.get(k); bytes += b.length; return b; }; if (p === "inMemory") return false; const v = Reflect.get(t, p, t); return typeof v === "function" ? v.bind(t) : v; } });
const r = seededRandom(3); const vec = () => Float32Array.from({ length: 32 }, () => r() * 2 - 1);
const seed = await connect(store as any);
const t0 = await seed.createTable("soak", Array.from({ length: 50000 }, (_, i) => ({ id: i, n: 0, vector: vec() })));
await t0.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 16 }) });
// keep open
const db = await connect(store as any, { cacheBytes: 32 * 2 ** 20 });
const q = vec();
for (let c = 1; c <= 6; c++) {
  reads = 0; bytes = 0;
  const t = await db.openTable("soak");
  const a = reads, ab = bytes;
  await t.search(q).limit(10).toArray();
  console.log(c, "open reads", a, ab, "ann reads", reads - a, bytes - ab, JSON.stringify(db.memoryStats().cache.byKind));
  t.close();
}
