import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/index.js";

const writer = join(import.meta.dirname, "fixtures", "writer.ts");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function start(dir: string, first: number, batches: number, size: number): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", writer, dir, String(first), String(batches), String(size)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
}

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => p.once("exit", (code) => resolve(code)));
}

async function rowsAreIntact(dir: string): Promise<number[]> {
  const t = await (await connect(dir)).openTable("t");
  const rows = await t.query().toArray();
  for (const r of rows) {
    const id = r.id as number;
    expect(r.label).toBe(`row-${id}`);
    expect(Array.from(r.vector as Float32Array)).toEqual([id, id % 7, -id]);
  }
  return rows.map((r) => r.id as number).sort((a, b) => a - b);
}

describe("several processes on one directory", () => {
  it("a writer killed mid-ingest leaves the last committed version intact and the table writable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-kill-"));
    dirs.push(dir);
    const p = start(dir, 0, 10_000, 200);
    let committed = 0;
    for await (const line of createInterface({ input: p.stdout! })) {
      committed = Number(line.split(" ")[2]);
      // Kill without warning once a few versions exist; the next add is then in flight.
      if (committed >= 2000) { p.kill("SIGKILL"); break; }
    }
    await exited(p);
    const ids = await rowsAreIntact(dir);
    expect(ids.length).toBeGreaterThanOrEqual(committed + 1);
    expect((ids.length - 1) % 200).toBe(0);
    expect(ids).toEqual([-1, ...Array.from({ length: ids.length - 1 }, (_, i) => i)]);
    const t = await (await connect(dir)).openTable("t");
    await t.add([{ id: 1e6, label: "row-1000000", vector: [1e6, 1e6 % 7, -1e6] }]);
    expect(await t.countRows()).toBe(ids.length + 1);
  });

  it("two processes appending at once lose no row", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-race-"));
    dirs.push(dir);
    await (await connect(dir)).createTable("t", [{ id: -1, label: "row--1", vector: [-1, -1 % 7, 1] }]);
    const a = start(dir, 0, 15, 10);
    const b = start(dir, 1000, 15, 10);
    const codes = await Promise.all([exited(a), exited(b)]);
    expect(codes).toEqual([0, 0]);
    const ids = await rowsAreIntact(dir);
    expect(ids.length).toBe(301);
    const t = await (await connect(dir)).openTable("t");
    expect((await t.listVersions()).length).toBe(31);
  });
});
