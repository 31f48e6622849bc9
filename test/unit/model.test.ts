/**
 * Model-based test: seeded random sequences of table operations — appends, deletes, updates (values
 * and SQL), upserts, compaction with cleanup, index builds, restores, checkouts, bad inputs — run
 * against a real table and against a plain in-memory oracle, with the connection reopened at random
 * between steps. After every step the table must hold exactly the oracle's rows; a rejected
 * operation must leave the version and the rows untouched.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/ann/common.js";
import { connect, Index, isQuiverError, type Connection, type Row, type Table } from "../../src/index.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Model { id: number; cat: string; n: number }
type Oracle = Map<number, Model>;
const CATS = ["a", "b", "c", "d"];
const vectorOf = (m: Pick<Model, "id">): number[] => [m.id % 17, m.id % 13, m.id % 5];
const toRow = (m: Model): Row => ({ id: m.id, cat: m.cat, n: m.n, vector: vectorOf(m) });
const snapshot = (o: Oracle): Oracle => new Map([...o].map(([k, v]) => [k, { ...v }]));

async function contents(t: Table): Promise<Model[]> {
  const rows = await t.query().select(["id", "cat", "n", "vector"]).toArray();
  for (const r of rows) expect(Array.from(r.vector as Float32Array)).toEqual(vectorOf(r as unknown as Model));
  return rows.map((r) => ({ id: r.id as number, cat: r.cat as string, n: r.n as number })).sort((x, y) => x.id - y.id);
}
const expected = (o: Oracle): Model[] => [...o.values()].sort((x, y) => x.id - y.id);

async function rejected(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isQuiverError(e)) return e.code;
    throw e;
  }
  return "accepted";
}

async function runModel(seed: number, steps: number, reconnect: () => Promise<Connection>): Promise<Record<string, number>> {
  const rand = seededRandom(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo));
  const tally: Record<string, number> = {};
  let nextId = 0;
  const fresh = (count: number): Model[] => Array.from({ length: count }, () => ({ id: nextId++, cat: pick(CATS), n: int(0, 100) }));

  let db = await reconnect();
  const first = fresh(20);
  let t = await db.createTable("m", first.map(toRow));
  let oracle: Oracle = new Map(first.map((m) => [m.id, m]));
  const versions = new Map<number, Oracle>([[await t.version(), snapshot(oracle)]]);

  for (let step = 0; step < steps; step++) {
    const op = pick(["add", "add", "delete", "update", "updateSql", "merge", "optimize", "index", "restore", "checkout", "bad", "reopen"] as const);
    tally[op] = (tally[op] ?? 0) + 1;
    const before = await t.version();
    switch (op) {
      case "add": {
        const rows = fresh(int(1, 30));
        await t.add(rows.map(toRow));
        for (const m of rows) oracle.set(m.id, m);
        break;
      }
      case "delete": {
        const lo = int(0, nextId);
        const hi = lo + int(1, 15);
        const cat = pick(CATS);
        const k = int(0, 20);
        // AND binds tighter than OR.
        await t.delete(`id >= ${lo} AND id < ${hi} OR cat = '${cat}' AND n < ${k}`);
        for (const m of [...oracle.values()]) if ((m.id >= lo && m.id < hi) || (m.cat === cat && m.n < k)) oracle.delete(m.id);
        break;
      }
      case "update": {
        const cat = pick(CATS);
        const to = pick(CATS);
        await t.update({ where: `cat = '${cat}' AND n > 50`, values: { cat: to } });
        for (const m of oracle.values()) if (m.cat === cat && m.n > 50) m.cat = to;
        break;
      }
      case "updateSql": {
        const lo = int(0, nextId);
        await t.update({ where: `id >= ${lo} AND id < ${lo + 10}`, valuesSql: { n: "n + 1" } });
        for (const m of oracle.values()) if (m.id >= lo && m.id < lo + 10) m.n += 1;
        break;
      }
      case "merge": {
        const existing = [...oracle.keys()];
        const updates = Array.from({ length: int(1, 6) }, () => ({ id: existing.length > 0 ? pick(existing) : nextId++, cat: pick(CATS), n: int(0, 100) }));
        const byId = new Map(updates.map((m) => [m.id, m]));
        const rows = [...byId.values(), ...fresh(int(0, 4))];
        await t.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows.map(toRow));
        for (const m of rows) oracle.set(m.id, { ...m });
        break;
      }
      case "optimize":
        await t.optimize({ cleanupOlderThan: rand() < 0.5 ? new Date() : undefined, targetRowsPerFragment: pick([1, 64, 1_000_000]) });
        break;
      case "index":
        if (oracle.size >= 16) await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 2 }), replace: true });
        break;
      case "restore": {
        const kept = (await t.listVersions()).map((v) => v.version).filter((v) => versions.has(v));
        const v = pick(kept);
        await t.restore(v);
        oracle = snapshot(versions.get(v)!);
        break;
      }
      case "checkout": {
        const kept = (await t.listVersions()).map((v) => v.version).filter((v) => versions.has(v));
        const v = pick(kept);
        await t.checkout(v);
        expect(await contents(t)).toEqual(expected(versions.get(v)!));
        expect(await rejected(t.add([toRow(fresh(1)[0]!)]))).toBe("READ_ONLY");
        await t.checkoutLatest();
        break;
      }
      case "bad": {
        const attempts: [string, () => Promise<unknown>][] = [
          ["DIMENSION_MISMATCH", () => t.add([{ id: nextId, cat: "a", n: 1, vector: [1, 2] }])],
          ["INVALID_FILTER", () => t.delete("id >>= 3")],
          ["INVALID_FILTER", () => t.update({ where: "nope = 1", values: { n: 1 } })],
          ["UNKNOWN_COLUMN", () => t.update({ where: "id = 1", values: { nope: 1 } })],
          ["INVALID_FILTER", () => t.countRows("cat = ")],
        ];
        const [code, run] = pick(attempts);
        expect(await rejected(run())).toBe(code);
        break;
      }
      case "reopen":
        db = await reconnect();
        t = await db.openTable("m");
        break;
    }
    if (op === "bad" || op === "checkout") expect(await t.version()).toBe(before);
    expect(await contents(t), `seed ${seed}, step ${step} (${op})`).toEqual(expected(oracle));
    expect(await t.countRows(`cat = 'a'`)).toBe([...oracle.values()].filter((m) => m.cat === "a").length);
    versions.set(await t.version(), snapshot(oracle));
  }
  return tally;
}

describe("model-based: random operations against an in-memory oracle", () => {
  for (const seed of [1, 2, 3]) {
    it(`memory, seed ${seed}`, async () => {
      const volume = new MemoryVolume();
      const tally = await runModel(seed, 300, () => connect(new MemoryStore("memory://model", volume)));
      expect(Object.keys(tally).length).toBeGreaterThan(8);
    }, 60_000);
  }
  it("file system, seed 4", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-model-"));
    dirs.push(dir);
    await runModel(4, 200, () => connect(dir));
  }, 60_000);
});
