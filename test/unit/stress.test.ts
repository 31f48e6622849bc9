/**
 * Several processes write one table on the file system while another runs
 * `optimize({ cleanupOlderThan: new Date() })` in a loop (the README's own example); afterwards
 * every acknowledged write is visible exactly once: appended rows present once, deleted rows gone,
 * counters equal to the increments acknowledged. Bounded: a few hundred commits, well under 60 s.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/index.js";

const script = join(import.meta.dirname, "fixtures", "stress-writer.ts");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const COUNTERS = [10_000, 10_001, 10_002];
const OPS = 60;

interface Started { lines: string[]; exit: Promise<number | null>; proc: ChildProcess }

function start(dir: string, role: string, writer: number): Started {
  const proc = spawn(process.execPath, ["--import", "tsx", script, dir, role, String(writer), String(OPS)], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  createInterface({ input: proc.stdout! }).on("line", (l) => lines.push(l));
  const exit = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { lines, exit, proc };
}

describe("stress: writers and cleanup on one table (file system, processes)", () => {
  it("loses no acknowledged append, delete or increment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-stress-"));
    dirs.push(dir);
    const seeded = Array.from({ length: OPS }, (_, i) => 1000 + i); // the deleter (writer 1) owns these
    const row = (id: number): Record<string, unknown> => ({ id, n: 0, vector: [id, 1, -id] });
    await (await connect(dir)).createTable("t", [...seeded, ...COUNTERS].map(row));

    const cleaner = start(dir, "optimize", 4);
    const writers = [start(dir, "append", 0), start(dir, "delete", 1), start(dir, "inc", 2), start(dir, "inc", 3)];
    const codes = await Promise.all(writers.map((w) => w.exit));
    cleaner.proc.stdin!.end();
    const cleanerCode = await cleaner.exit;
    const all = [...writers, cleaner].flatMap((w) => w.lines);
    expect(all.filter((l) => l.startsWith("error"))).toEqual([]);
    expect([...codes, cleanerCode]).toEqual([0, 0, 0, 0, 0]);
    expect(cleaner.lines.length).toBeGreaterThan(0);

    const added = all.filter((l) => l.startsWith("add ")).flatMap((l) => l.slice(4).split(" ").map(Number));
    const deleted = new Set(all.filter((l) => l.startsWith("del ")).map((l) => Number(l.slice(4))));
    const incs = new Map(COUNTERS.map((c) => [c, all.filter((l) => l === `inc ${c}`).length]));
    expect(deleted.size).toBeGreaterThan(0);
    expect([...incs.values()].reduce((a, b) => a + b)).toBeGreaterThan(0);

    const t = await (await connect(dir)).openTable("t");
    const rows = await t.query().select(["id", "n"]).toArray();
    const count = new Map<number, number>();
    for (const r of rows) count.set(r.id as number, (count.get(r.id as number) ?? 0) + 1);
    expect([...count.entries()].filter(([, c]) => c > 1)).toEqual([]);
    expect(rows.map((r) => r.id as number).filter((id) => id >= 1_000_000).sort((a, b) => a - b)).toEqual([...added].sort((a, b) => a - b));
    expect(seeded.filter((id) => count.has(id))).toEqual(seeded.filter((id) => !deleted.has(id)));
    for (const c of COUNTERS) expect({ id: c, n: rows.find((r) => r.id === c)?.n }).toEqual({ id: c, n: incs.get(c) });
  }, 90_000);
});
