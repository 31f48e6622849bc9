/**
 * Runs the kernels inside the real Cloudflare workerd binary (the `workerd` npm package):
 * bundles test/runtimes/workerd/worker.ts with esbuild (the .wasm imports stay external and
 * become workerd `wasm` modules, as wrangler does), starts `workerd serve` on a loopback port
 * chosen by the OS and reported over --control-fd, and checks the JSON each flavor returns.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const workerd = fileURLToPath(new URL("../../node_modules/workerd/bin/workerd", import.meta.url));

const CONFIG = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "quiver.simd.wasm", wasm = embed "quiver.simd.wasm"),
    (name = "quiver.scalar.wasm", wasm = embed "quiver.scalar.wasm"),
  ],
  compatibilityDate = "2024-09-23",
);
`;

/** Resolves with the port from workerd's {"event":"listen"} control message. */
function listenPort(proc: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    proc.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => reject(new Error(`workerd did not start listening within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`workerd exited with ${code} before listening\n${stderr}`));
    });
    createInterface({ input: proc.stdio[3] as Readable }).on("line", (line) => {
      const message = JSON.parse(line) as { event?: string; port?: number };
      if (message.event === "listen" && typeof message.port === "number") {
        clearTimeout(timer);
        resolve(message.port);
      }
    });
  });
}

describe("Cloudflare workerd", () => {
  let dir: string;
  let proc: ChildProcess | undefined;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "quiver-workerd-"));
    await build({
      entryPoints: [join(root, "test/runtimes/workerd/worker.ts")],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      outfile: join(dir, "worker.js"),
      logLevel: "silent",
      external: ["node:*"],
      plugins: [
        {
          name: "wasm-modules",
          setup(b) {
            b.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: `./${basename(args.path)}`, external: true }));
          },
        },
      ],
    });
    for (const flavor of ["simd", "scalar"]) copyFileSync(join(root, `build/quiver.${flavor}.wasm`), join(dir, `quiver.${flavor}.wasm`));
    writeFileSync(join(dir, "config.capnp"), CONFIG);
    proc = spawn(workerd, ["serve", "config.capnp", "--control-fd=3"], { cwd: dir, stdio: ["ignore", "ignore", "pipe", "pipe"] });
    base = `http://127.0.0.1:${await listenPort(proc, 20_000)}`;
  }, 60_000);

  afterAll(() => {
    if (proc && proc.exitCode === null) proc.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["auto", "simd"],
    ["simd", "simd"],
    ["scalar", "scalar"],
  ])("flavor %s loads as %s and searches", async (requested, flavor) => {
    const response = await fetch(`${base}/?flavor=${requested}`, { signal: AbortSignal.timeout(10_000) });
    const body = await response.json();
    expect(body).toEqual({ flavor, rows: [1, 0, 4], distances: [0.02, 0.82, 1.82] });
    expect(response.status).toBe(200);
  });
});
