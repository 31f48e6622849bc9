/**
 * Soak: what a long-running app does to one table, over and over — open it, search it exactly and
 * through its index, update a row, rebuild the index, optimize, close it — with process RSS, the JS
 * heap and WebAssembly memory sampled. A process whose memory has one owner returns to its
 * baseline; one that leaks grows every cycle.
 *
 *   npm run bench -- soak [cycles=200] [rows=50000] [dim=64]
 *
 * Synthetic vectors (the shape of the data does not matter for memory), in a temporary directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, Index } from "../src/index.js";
import { seededRandom } from "../src/ann/common.js";

const [cycles, rows, dim] = [Number(process.argv[2] ?? 200), Number(process.argv[3] ?? 50_000), Number(process.argv[4] ?? 64)];
const dir = mkdtempSync(join(tmpdir(), "quiver-soak-"));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const rand = seededRandom(1);
const vector = (): Float32Array => Float32Array.from({ length: dim }, () => rand() * 2 - 1);
const mb = (b: number): string => (b / 2 ** 20).toFixed(0);

try {
  const db0 = await connect(dir);
  const batch = 10_000;
  const t0 = await db0.createTable("t", Array.from({ length: batch }, (_, i) => ({ id: i, n: 0, vector: vector() })));
  for (let at = batch; at < rows; at += batch) await t0.add(Array.from({ length: batch }, (_, i) => ({ id: at + i, n: 0, vector: vector() })));
  await t0.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 32 }) });
  await db0.close();
  const q = vector();
  const db = await connect(dir);
  const sample = (cycle: number): Record<string, number | string> => {
    gc();
    const m = process.memoryUsage();
    const s = db.memoryStats();
    return {
      cycle, rssMB: mb(m.rss), heapMB: mb(m.heapUsed), externalMB: mb(m.external + m.arrayBuffers),
      wasmReservedMB: mb(s.wasm.reservedBytes), wasmAllocatedMB: mb(s.wasm.allocatedBytes), cacheMB: mb(s.cache.bytes), cacheEntries: s.cache.entries,
      cacheMBByKind: Object.entries(s.cache.byKind).map(([k, v]) => `${k} ${mb(v.bytes)}`).join(", "),
    };
  };
  const samples = [sample(0)];
  console.log(JSON.stringify(samples[0]));
  for (let c = 1; c <= cycles; c++) {
    const t = await db.openTable("t");
    await t.search(q).limit(10).toArray();
    await t.search(q).bypassVectorIndex().limit(10).toArray();
    await t.update({ where: `id = ${c % rows}`, values: { n: c } });
    if (c % 10 === 0) await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 32 }), replace: true });
    if (c % 25 === 0) await t.optimize({ cleanupOlderThan: new Date() });
    t.close();
    if (c % Math.max(1, Math.floor(cycles / 10)) === 0) {
      samples.push(sample(c));
      console.log(JSON.stringify(samples.at(-1)));
    }
  }
  await db.close();
  gc();
  console.log(JSON.stringify({ closed: true, rssMB: mb(process.memoryUsage().rss), heapMB: mb(process.memoryUsage().heapUsed) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
