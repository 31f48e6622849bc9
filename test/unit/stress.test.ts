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
import { checkAcknowledged, seedRows } from "./stress-roles.js";

const script = join(import.meta.dirname, "fixtures", "stress-writer.ts");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const OPS = 60;

interface Started { lines: string[]; exit: Promise<number | null>; proc: ChildProcess }

function start(dir: string, role: string, writer: number): Started {
  const proc = spawn(process.execPath, ["--import", "tsx", script, dir, role, String(writer), String(OPS)], { stdio: [role === "optimize" ? "pipe" : "ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  createInterface({ input: proc.stdout! }).on("line", (l) => lines.push(l));
  const exit = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { lines, exit, proc };
}

describe("stress: writers and cleanup on one table (file system, processes)", () => {
  it("loses no acknowledged append, delete or increment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-stress-"));
    dirs.push(dir);
    const seeded = seedRows([1], OPS);
    await (await connect(dir)).createTable("t", seeded);

    const cleaner = start(dir, "optimize", 4);
    const writers = [start(dir, "append", 0), start(dir, "delete", 1), start(dir, "inc", 2), start(dir, "inc", 3)];
    const codes = await Promise.all(writers.map((w) => w.exit));
    cleaner.proc.stdin!.end();
    const cleanerCode = await cleaner.exit;
    const lines = [...writers, cleaner].flatMap((w) => w.lines);
    expect(lines.filter((l) => l.startsWith("error"))).toEqual([]);
    expect([...codes, cleanerCode]).toEqual([0, 0, 0, 0, 0]);

    const rows = await (await (await connect(dir)).openTable("t")).query().select(["id", "n"]).toArray();
    const outcome = checkAcknowledged(rows, lines, seeded.map((r) => r.id as number));
    expect(outcome).toMatchObject({ duplicated: [], lostAdds: [], unacknowledgedAdds: [], undeleted: [], vanished: [], wrongCounters: [] });
    const { acknowledged } = outcome;
    expect(Math.min(acknowledged.adds, acknowledged.deletes, acknowledged.increments, acknowledged.optimizes)).toBeGreaterThan(0);
  }, 90_000);
});
