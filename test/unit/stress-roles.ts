/**
 * The writers of the stress tests, shared by Node processes (test/unit/stress.test.ts) and Chromium
 * pages and workers (test/browser/stress.spec.ts). Each role works on table `t` through one handle
 * opened at the start (so it goes stale as the others commit) and reports every acknowledged write
 * through `ack`; `checkAcknowledged` then compares the table with what was acknowledged.
 *
 *   append    adds 1–4 rows with fresh ids                              → "add <id> <id> …"
 *   delete    deletes one of its own seeded ids; appends every third op → "del <id>", "add …"
 *   inc       n = n + 1 on one counter row                              → "inc <id>"
 *   optimize  optimize({ cleanupOlderThan: new Date() }) until stopped  → "opt <version>"
 *             (every fourth run also compacts)
 *
 * COMMIT_CONFLICT is an allowed answer (nothing changed); any other error is thrown.
 */
import { isQuiverError, type Row, type Table } from "../../src/index.js";

export const COUNTERS = [10_000, 10_001, 10_002];
export type Role = "append" | "delete" | "inc" | "optimize";

export const stressRow = (id: number): Row => ({ id, n: 0, vector: [id, 1, -id] });
/** Ids a deleter (writer number `writer`) owns and deletes, seeded before the writers start. */
export const ownedIds = (writer: number, ops: number): number[] => Array.from({ length: ops }, (_, i) => writer * 1000 + i);
/** Rows to create the table with, for `deleters` (writer numbers). */
export const seedRows = (deleters: readonly number[], ops: number): Row[] => [...deleters.flatMap((w) => ownedIds(w, ops)), ...COUNTERS].map(stressRow);

async function attempt(fn: () => Promise<void>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    if (isQuiverError(e) && e.code === "COMMIT_CONFLICT") return false;
    throw e;
  }
}

export async function runRole(t: Table, role: Role, writer: number, ops: number, ack: (line: string) => void, stopped: () => boolean = () => true): Promise<void> {
  let next = (writer + 1) * 1_000_000;
  let seq = 0;
  const add = async (): Promise<void> => {
    const ids = Array.from({ length: 1 + (seq++ % 4) }, () => next++);
    if (await attempt(async () => { await t.add(ids.map(stressRow)); })) ack(`add ${ids.join(" ")}`);
  };
  if (role === "optimize") {
    // Mostly pruning alone (a target of one row compacts nothing, so it never conflicts); every
    // fourth run compacts too.
    for (let run = 0; run === 0 || !stopped(); run++) {
      const options = { cleanupOlderThan: new Date(), targetRowsPerFragment: run % 4 === 3 ? 1_000_000 : 1 };
      await attempt(async () => { await t.optimize(options); ack(`opt ${await t.version()}`); });
    }
    return;
  }
  const own = ownedIds(writer, ops);
  for (let op = 0; op < ops; op++) {
    if (role === "append") await add();
    else if (role === "delete") {
      const id = own[op]!;
      if (await attempt(async () => { await t.delete(`id = ${id}`); })) ack(`del ${id}`);
      if (op % 3 === 0) await add();
    } else {
      const id = COUNTERS[(op + writer) % COUNTERS.length]!;
      if (await attempt(async () => { await t.update({ where: `id = ${id}`, valuesSql: { n: "n + 1" } }); })) ack(`inc ${id}`);
    }
  }
}

export interface StressOutcome {
  /** Ids found more than once. */
  duplicated: number[];
  /** Acknowledged appended ids that are missing, and appended ids present but never acknowledged. */
  lostAdds: number[];
  unacknowledgedAdds: number[];
  /** Acknowledged deleted ids still present, and seeded ids gone without an acknowledged delete. */
  undeleted: number[];
  vanished: number[];
  /** Counters whose value differs from the increments acknowledged: [id, value, acknowledged]. */
  wrongCounters: [number, number | undefined, number][];
  acknowledged: { adds: number; deletes: number; increments: number; optimizes: number };
}

/** Compares the rows of the table (`id`, `n`) with the acknowledged lines of every writer. */
export function checkAcknowledged(rows: readonly Row[], lines: readonly string[], seeded: readonly number[]): StressOutcome {
  const added = lines.filter((l) => l.startsWith("add ")).flatMap((l) => l.slice(4).split(" ").map(Number));
  const deleted = new Set(lines.filter((l) => l.startsWith("del ")).map((l) => Number(l.slice(4))));
  const count = new Map<number, number>();
  for (const r of rows) count.set(r.id as number, (count.get(r.id as number) ?? 0) + 1);
  const addedSet = new Set(added);
  const present = [...count.keys()];
  return {
    duplicated: present.filter((id) => count.get(id)! > 1),
    lostAdds: added.filter((id) => !count.has(id)),
    unacknowledgedAdds: present.filter((id) => id >= 1_000_000 && !addedSet.has(id)),
    undeleted: [...deleted].filter((id) => count.has(id)),
    vanished: seeded.filter((id) => !COUNTERS.includes(id) && !deleted.has(id) && !count.has(id)),
    wrongCounters: COUNTERS.map((c): [number, number | undefined, number] => [c, rows.find((r) => r.id === c)?.n as number | undefined, lines.filter((l) => l === `inc ${c}`).length])
      .filter(([, n, acked]) => n !== acked),
    acknowledged: {
      adds: added.length, deletes: deleted.size,
      increments: lines.filter((l) => l.startsWith("inc ")).length, optimizes: lines.filter((l) => l.startsWith("opt ")).length,
    },
  };
}
