/**
 * Soak (issue 10): what a long-running app does to a table, 1,000 times — open it, search it
 * exactly and through its index, update a row, rebuild the index now and then, optimize, close
 * it — on a 50K-row table, sampling WebAssembly memory (allocated by Quiver), the session cache
 * and the JS heap. Memory must come back to its baseline (± one cache budget) and not grow per cycle.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/ann/common.js";
import { connect, Index } from "../../src/index.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ROWS = 50_000;
const DIM = 32;
const CYCLES = 1000;
const CACHE_BYTES = 32 * 2 ** 20;

describe("soak", () => {
  it(`${CYCLES} open/search/update/reindex/optimize/close cycles keep memory flat`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-soak-"));
    dirs.push(dir);
    const rand = seededRandom(3);
    const vector = (): Float32Array => Float32Array.from({ length: DIM }, () => rand() * 2 - 1);
    const seed = await connect(dir);
    const t0 = await seed.createTable("t", Array.from({ length: ROWS }, (_, i) => ({ id: i, n: 0, vector: vector() })));
    await t0.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 16 }) });
    await seed.close();

    const db = await connect(dir, { cacheBytes: CACHE_BYTES });
    const q = vector();
    const samples: { cycle: number; wasm: number; cache: number; heap: number }[] = [];
    const sample = (cycle: number): void => {
      const s = db.memoryStats();
      samples.push({ cycle, wasm: s.wasm.allocatedBytes, cache: s.cache.bytes, heap: process.memoryUsage().heapUsed });
    };
    for (let c = 1; c <= CYCLES; c++) {
      const t = await db.openTable("t");
      await t.search(q).limit(10).toArray();
      if (c % 5 === 0) await t.search(q).bypassVectorIndex().limit(10).toArray();
      if (c % 10 === 0) await t.update({ where: `id = ${c}`, values: { n: c } });
      if (c % 100 === 0) await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 16 }), replace: true });
      if (c % 250 === 0) await t.optimize({ cleanupOlderThan: new Date() });
      t.close();
      if (c === 1 || c % 100 === 0) sample(c);
    }
    const stats = db.memoryStats();
    await db.close();
    console.log(`soak: ${JSON.stringify({ first: samples[0], peak: samples.reduce((a, b) => (b.wasm > a.wasm ? b : a)), last: samples.at(-1), cache: stats.cache })}`);

    // The cache stays within its budget; leases do not leak.
    for (const s of samples) expect(s.cache).toBeLessThanOrEqual(CACHE_BYTES);
    expect(stats.cache.leasedOutside).toBe(0);
    // WebAssembly memory in use returns to where it was after the first cycle, give or take the
    // cache budget (indexes are cached WASM), and does not climb from the first half to the second.
    const base = samples[0]!.wasm;
    for (const s of samples) expect(s.wasm).toBeLessThanOrEqual(base + CACHE_BYTES);
    const half = (from: number, to: number): number => Math.max(...samples.filter((s) => s.cycle > from && s.cycle <= to).map((s) => s.wasm));
    expect(half(CYCLES / 2, CYCLES)).toBeLessThanOrEqual(half(0, CYCLES / 2) * 1.1 + 1);
  }, 240_000);
});
