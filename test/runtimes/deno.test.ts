/**
 * Loads the kernels under the real Deno binary (the `deno` npm package) from the TypeScript
 * sources and checks a search result printed by test/runtimes/deno/search.ts.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { blobStoreContract } from "../unit/storage-contract.js";

/** Cases of the BlobStore contract a writable store with a second handle runs (the runtime reports how many it ran). */
const CONTRACT_CASES = blobStoreContract({ make: async () => undefined as never, reopen: async () => undefined as never }).length;

const root = fileURLToPath(new URL("../..", import.meta.url));
const deno = fileURLToPath(new URL("../../node_modules/deno/deno", import.meta.url));

describe("Deno", () => {
  it("loads SIMD and scalar kernels and searches", () => {
    expect(existsSync(deno), `deno binary at ${deno}`).toBe(true);
    const run = spawnSync(
      deno,
      // --no-lock writes no deno.lock into the repo; --node-modules-dir=manual resolves the package's
      // dependencies (lru-cache, idb, …) from the node_modules npm installed, as an app would.
      ["run", "--no-lock", "--node-modules-dir=manual", "--sloppy-imports", `--allow-read=${root}`, "test/runtimes/deno/search.ts"],
      { cwd: root, encoding: "utf8", timeout: 45_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } },
    );
    expect(run.error).toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
    expect(out.runtime).toBe("deno");
    const expected = { rows: [1, 0, 4], distances: [0.02, 0.82, 1.82] };
    expect(out.results.auto).toEqual({ flavor: "simd", ...expected });
    expect(out.results.scalar).toEqual({ flavor: "scalar", ...expected });
  });

  it("writes a file-system table, reopens it and searches it", () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-deno-"));
    try {
      const run = spawnSync(
        deno,
        ["run", "--no-lock", "--node-modules-dir=manual", "--sloppy-imports", `--allow-read=${root},${dir}`, `--allow-write=${dir}`, "test/runtimes/deno/table.ts", dir],
        { cwd: root, encoding: "utf8", timeout: 45_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } },
      );
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
      expect(out).toEqual({ version: 3, count: 490, nearest: [42, 41, 43], filtered: [41, 43] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("Deno KV (DenoKvStore on Deno.openKv with a local file)", () => {
    const kvRun = (dir: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(
          deno,
          ["run", "--no-lock", "--node-modules-dir=manual", "--sloppy-imports", "--unstable-kv", `--allow-read=${root},${dir}`, `--allow-write=${dir}`, "test/runtimes/deno/kv.ts", ...args],
          { cwd: root, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
        child.on("close", (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
      });
    const last = (out: string): Record<string, unknown> => JSON.parse(out.trim().split("\n").at(-1)!) as Record<string, unknown>;

    it("passes the BlobStore contract", async () => {
      const dir = mkdtempSync(join(tmpdir(), "quiver-denokv-"));
      try {
        const run = await kvRun(dir, "contract", join(dir, "contract.kv"));
        expect(run.status, run.stderr).toBe(0);
        expect(last(run.stdout)).toEqual({ cases: CONTRACT_CASES, failed: [] });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 90_000);

    it("creates, appends to, indexes and searches a table that persists", async () => {
      const dir = mkdtempSync(join(tmpdir(), "quiver-denokv-"));
      try {
        const run = await kvRun(dir, "table", join(dir, "app.kv"));
        expect(run.status, run.stderr).toBe(0);
        expect(last(run.stdout)).toEqual({ version: 4, count: 490, nearest: [42, 263, 484], reopened: [42, 263, 484], filtered: [484, 382], indices: ["IvfFlat"] });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 90_000);

    it("two processes appending at once to one KV lose no row", async () => {
      const dir = mkdtempSync(join(tmpdir(), "quiver-denokv-"));
      const kv = join(dir, "race.kv");
      try {
        expect((await kvRun(dir, "seed", kv)).status).toBe(0);
        const [a, b] = await Promise.all([kvRun(dir, "append", kv, "0", "25"), kvRun(dir, "append", kv, "1000", "25")]);
        expect(a.status, a.stderr).toBe(0);
        expect(b.status, b.stderr).toBe(0);
        const out = last((await kvRun(dir, "inspect", kv)).stdout);
        const want = [-1, ...Array.from({ length: 25 }, (_, i) => i), ...Array.from({ length: 25 }, (_, i) => 1000 + i)];
        expect(out).toEqual({ ids: want, version: 51, count: 51 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
});
