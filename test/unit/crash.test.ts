import { describe, expect, it } from "vitest";
import { connect, DataTypes, isQuiverError, type Row, type Table } from "../../src/index.js";
import { FaultInjectingStore, type FaultPlan } from "../support/fault-store.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";

/**
 * Crash safety, proven by exhaustion: each operation runs once to count its write steps, then once
 * per step and per failure kind with that step failing. After each, the table is reopened from the
 * underlying store and must hold exactly the rows of the old version or of the new one, and must
 * accept further writes.
 */
function rows(from: number, n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({ id: from + i, price: (from + i) * 10, vector: [from + i, 1] }));
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

interface Case {
  readonly name: string;
  /** Runs the operation against the table opened on the faulty store. */
  readonly run: (db: Awaited<ReturnType<typeof connect>>, t: Table | undefined) => Promise<unknown>;
  /** Sorted ids (with prices) before and after the operation; `null` = the table does not exist. */
  readonly before: string | null;
  readonly after: string;
}

const base = [...range(0, 10), ...range(10, 15)];
const FIELDS = ["id", "price", "vector"];
const snapshot = (ids: number[], price = (id: number): number => id * 10, fields = FIELDS): string =>
  JSON.stringify({ fields, rows: ids.map((id) => [id, price(id)]) });

const CASES: Case[] = [
  { name: "add", run: (_, t) => t!.add(rows(100, 4)), before: snapshot(base), after: snapshot([...base, ...range(100, 104)]) },
  { name: "delete", run: (_, t) => t!.delete("id >= 3 AND id < 12"), before: snapshot(base), after: snapshot([0, 1, 2, 12, 13, 14]) },
  {
    name: "update", run: (_, t) => t!.update({ where: "id < 2 OR id = 14", valuesSql: { price: "price + 1" } }),
    before: snapshot(base), after: snapshot(base, (id) => id * 10 + (id < 2 || id === 14 ? 1 : 0)),
  },
  { name: "overwrite", run: (_, t) => t!.add(rows(50, 3), { mode: "overwrite" }), before: snapshot(base), after: snapshot(range(50, 53)) },
  { name: "restore", run: (_, t) => t!.restore(1), before: snapshot(base), after: snapshot(range(0, 10)) },
  { name: "createTable", run: (db) => db.createTable("fresh", rows(0, 3)), before: null, after: snapshot(range(0, 3)) },
  {
    name: "mergeInsert", run: (_, t) => t!.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([{ id: 1, price: 7, vector: [0, 0] }, { id: 99, price: 990, vector: [0, 0] }]),
    before: snapshot(base), after: snapshot([...base, 99], (id) => (id === 1 ? 7 : id * 10)),
  },
  { name: "addColumns", run: (_, t) => t!.addColumns([{ name: "p2", valueSql: "price * 2" }]), before: snapshot(base), after: snapshot(base, undefined, [...FIELDS, "p2"]) },
  {
    name: "alterColumns", run: (_, t) => t!.alterColumns([{ path: "vector", rename: "v" }, { path: "price", dataType: DataTypes.float32() }]),
    before: snapshot(base), after: snapshot(base, undefined, ["id", "price", "v"]),
  },
  { name: "dropColumns", run: (_, t) => t!.dropColumns(["vector"]), before: snapshot(base), after: snapshot(base, undefined, ["id", "price"]) },
  // Compaction rewrites both fragments into one: same rows, one version more (the table stays readable either way).
  { name: "optimize", run: (_, t) => t!.optimize({ cleanupOlderThan: new Date(Date.now() + 60_000) }), before: snapshot(base), after: snapshot(base) },
];

const PLANS: Omit<FaultPlan, "failAt">[] = [
  { mode: "crash", when: "before" },
  { mode: "crash", when: "after" },
  { mode: "crash", when: "before", torn: true },
  { mode: "error", when: "before" },
  { mode: "error", when: "after" },
];

/** The suite runs twice: on the plain store, and once more with every object encrypted (EncryptedStore above the faults). */
type Mode = "plain" | "encrypted";
const KEY = new Uint8Array(32).fill(42);
const NEW_KEY = new Uint8Array(32).fill(43);
const options = (mode: Mode) => (mode === "encrypted" ? { encryption: { key: KEY } } : {});

/** After a rekey that may or may not have landed: the new key (with the old one for older files), else the old key alone. */
async function connectAfter(store: MemoryStore, mode: Mode): Promise<Awaited<ReturnType<typeof connect>>> {
  if (mode === "plain") return connect(store);
  return connect(store, { encryption: { key: NEW_KEY, previousKeys: [KEY] } }).catch(() => connect(store, options(mode)));
}

async function seed(volume: MemoryVolume, mode: Mode): Promise<void> {
  const db = await connect(new MemoryStore("memory://crash", volume), options(mode));
  const t = await db.createTable("t", rows(0, 10));
  await t.add(rows(10, 5));
}

async function contents(volume: MemoryVolume, table: string, mode: Mode): Promise<string | null> {
  const db = await connectAfter(new MemoryStore("memory://crash", volume), mode);
  if (!(await db.tableNames()).includes(table)) return null;
  const t = await db.openTable(table);
  const fields = (await t.quiverSchema()).fields.map((f) => f.name);
  const got = (await t.query().toArray()).map((r) => [r.id as number, r.price as number] as const).sort((a, b) => a[0] - b[0]);
  // The table must still take writes after the failure.
  await t.add([Object.fromEntries(fields.map((f) => [f, f === "v" || f === "vector" ? [0, 0] : 1]))]);
  expect(await t.countRows()).toBe(got.length + 1);
  return JSON.stringify({ fields, rows: got });
}

async function runCase(c: Case, plan: FaultPlan, mode: Mode): Promise<{ steps: number; outcome: string | null }> {
  const volume = new MemoryVolume();
  await seed(volume, mode);
  const store = new FaultInjectingStore(new MemoryStore("memory://crash", volume), plan);
  const db = await connect(store, options(mode));
  const table = c.name === "createTable" ? undefined : await db.openTable("t");
  try {
    await c.run(db, table);
  } catch (e) {
    if (plan.failAt === undefined) throw e;
    if (!(e instanceof Error) || !/Simulated/.test(e.message)) {
      if (!isQuiverError(e)) throw new Error(`unexpected error ${String(e)}`);
    }
  }
  return { steps: store.steps.length, outcome: await contents(volume, c.name === "createTable" ? "fresh" : "t", mode) };
}

/** Rekey rewrites every file under a new key: the same rows, one version more. */
const REKEY: Case = { name: "rekey", run: (_, t) => t!.rekey(NEW_KEY), before: snapshot(base), after: snapshot(base) };

describe.each(["plain", "encrypted"] as const)("crash safety (%s)", (mode) => {
  for (const c of mode === "encrypted" ? [...CASES, REKEY] : CASES) {
    it(`${c.name}: every write step, every failure kind → old or new version, still writable`, async () => {
      const clean = await runCase(c, {}, mode);
      expect(clean.outcome).toBe(c.after);
      expect(clean.steps).toBeGreaterThan(0);
      let checked = 0;
      const seen = new Set<string>();
      for (let step = 1; step <= clean.steps; step++) {
        for (const plan of PLANS) {
          const { outcome } = await runCase(c, { ...plan, failAt: step }, mode);
          expect([c.before, c.after], `step ${step} ${JSON.stringify(plan)}`).toContain(outcome);
          seen.add(outcome === c.after ? "new" : "old");
          checked++;
        }
      }
      expect(checked).toBe(clean.steps * PLANS.length);
      // Failing the last step "after" it landed shows the new version; failing any step before shows the old.
      if (c.before !== c.after) expect([...seen].sort()).toEqual(["new", "old"]);
    });
  }
});
