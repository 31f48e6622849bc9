/**
 * Loads the kernels under the real Deno binary (the `deno` npm package) from the TypeScript
 * sources and checks a search result printed by test/runtimes/deno/search.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

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
});
