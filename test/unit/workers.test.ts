/**
 * Two Node worker_threads appending to one file-system table at once, through the public API. The
 * writers meet at a barrier before every add, so in each round both commit against a stale head and
 * one of them must lose the put-if-absent race on the manifest and rebase: no row may be lost, and
 * each round adds exactly two versions.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/index.js";
import { threadRow } from "./fixtures/thread-rows.js";

const writer = join(import.meta.dirname, "fixtures", "thread-writer.ts");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * Node 20 does not run `--import tsx` hooks for a worker's own entry file (ERR_UNKNOWN_FILE_EXTENSION),
 * so a one-line bootstrap loads the TypeScript writer through tsx's API instead.
 */
const bootstrap = `import("tsx/esm/api").then(({ tsImport }) => tsImport(${JSON.stringify(pathToFileURL(writer).href)}, ${JSON.stringify(import.meta.url)}))`;

/** Starts a writer thread; resolves with the versions its adds committed. */
function runWriter(workerData: Record<string, unknown>): Promise<number[]> {
  const worker = new Worker(bootstrap, { eval: true, workerData });
  return new Promise((resolve, reject) => {
    worker.on("message", (m: { versions: number[] }) => resolve(m.versions));
    worker.on("error", reject);
    worker.on("exit", (code) => reject(new Error(`writer thread exited with code ${code} before reporting`)));
  });
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe("several worker threads on one directory", () => {
  it("two threads appending at once lose no row, one version per add", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-threads-"));
    dirs.push(dir);
    await (await connect(dir)).createTable("t", [threadRow(-1)]);
    const batches = 12;
    const size = 25;
    const barrier = new SharedArrayBuffer(4);
    const [a, b] = await Promise.all([0, 100_000].map((first) => runWriter({ dir, first, batches, size, parties: 2, barrier })));

    // Round r (from 0) holds versions 2 + 2r and 3 + 2r, one per writer, whichever won the race.
    for (let r = 0; r < batches; r++) expect([a![r], b![r]].sort((x, y) => x! - y!)).toEqual([2 + 2 * r, 3 + 2 * r]);
    const t = await (await connect(dir)).openTable("t");
    const rows = await t.query().toArray();
    for (const row of rows) {
      const want = threadRow(row.id as number);
      expect(row.label).toBe(want.label);
      expect(Array.from(row.vector as Float32Array)).toEqual(Array.from(want.vector as Float32Array));
    }
    expect(rows.map((row) => row.id as number).sort((x, y) => x - y)).toEqual([-1, ...range(0, batches * size), ...range(100_000, batches * size)]);
    expect(await t.version()).toBe(1 + 2 * batches);
    expect((await t.listVersions()).map((v) => v.version)).toEqual(range(1, 1 + 2 * batches));
  });
});
