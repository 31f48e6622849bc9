/**
 * The example projects, built and run as a user would run them: examples/cloudflare-worker bundled
 * as wrangler would and served by the real workerd binary (its Durable Object on local disk), and
 * examples/deno-function run by the real deno binary on a local Deno KV file. Both get the same
 * traffic: 300 notes added two requests at a time (an index is built at 256), then a search and a
 * count, then a restart and the count again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bundleForWorkerd, listenPort } from "./workerd-process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const workerd = join(root, "node_modules/workerd/bin/workerd");
const deno = join(root, "node_modules/deno/deno");
const dirs: string[] = [];
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const NOTES = 300;
const vectorOf = (i: number): number[] => [Math.sin(i), Math.cos(i * 0.7), (i % 11) / 11, 1];

/** Adds the notes two at a time, searches near note 123, counts. */
async function exercise(base: string): Promise<{ versions: number[]; nearest: unknown[]; count: unknown }> {
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const r = await fetch(`${base}${path}`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    const json = (await r.json()) as Record<string, unknown>;
    if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  const versions: number[] = [];
  await post("/notes", { id: 0, text: "note 0", vector: vectorOf(0) });
  for (let i = 1; i < NOTES; i += 2) {
    const pair = await Promise.all([i, i + 1].filter((k) => k < NOTES).map((k) => post("/notes", { id: k, text: `note ${k}`, vector: vectorOf(k) })));
    versions.push(...pair.map((p) => p.version as number));
  }
  const nearest = (await (await fetch(`${base}/search`, { method: "POST", body: JSON.stringify({ vector: vectorOf(123), limit: 3 }) })).json()) as { id: number }[];
  const count = await (await fetch(`${base}/count`)).json();
  return { versions, nearest: nearest.map((r) => r.id), count };
}

function expectNotes(out: Awaited<ReturnType<typeof exercise>>): void {
  // Every add committed its own version, none lost: 1 (create) + 299 adds + 1 index.
  expect(new Set(out.versions).size).toBe(NOTES - 1);
  expect(out.count).toEqual({ count: NOTES, version: NOTES + 1 });
  expect((out.nearest as number[])[0]).toBe(123);
}

describe("examples/cloudflare-worker in workerd", () => {
  it("stores notes in its Durable Object, searches them, and keeps them across a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-example-cf-"));
    dirs.push(dir);
    await bundleForWorkerd(join(root, "examples/cloudflare-worker/src/index.ts"), join(dir, "worker.js"), {
      quiverdb: join(root, "src/index.workerd.ts"),
      "quiverdb/edge": join(root, "src/edge.ts"),
    });
    for (const flavor of ["simd", "scalar"]) copyFileSync(join(root, `build/quiver.${flavor}.wasm`), join(dir, `quiver.${flavor}.wasm`));
    mkdirSync(join(dir, "storage"));
    // What wrangler.toml declares: the NOTES binding to a SQLite-backed Durable Object class.
    writeFileSync(join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker), (name = "disk", disk = (path = "${join(dir, "storage")}", writable = true)) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "quiver.simd.wasm", wasm = embed "quiver.simd.wasm"),
    (name = "quiver.scalar.wasm", wasm = embed "quiver.scalar.wasm"),
  ],
  compatibilityDate = "2025-05-05",
  durableObjectNamespaces = [ (className = "NotesDatabase", uniqueKey = "quiver-example-notes", enableSql = true) ],
  durableObjectStorage = (localDisk = "disk"),
  bindings = [ (name = "NOTES", durableObjectNamespace = "NotesDatabase") ],
);
`);
    const start = async (): Promise<string> => {
      const proc = spawn(workerd, ["serve", "config.capnp", "--control-fd=3"], { cwd: dir, stdio: ["ignore", "ignore", "pipe", "pipe"] });
      procs.push(proc);
      return `http://127.0.0.1:${await listenPort(proc, 20_000)}`;
    };
    const out = await exercise(await start());
    expectNotes(out);
    procs.at(-1)!.kill("SIGKILL");
    const again = await start();
    expect(await (await fetch(`${again}/count`)).json()).toEqual(out.count);
  }, 180_000);
});

describe("examples/deno-function in deno", () => {
  it("stores notes in Deno KV, searches them, and keeps them across a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-example-deno-"));
    dirs.push(dir);
    // The example's deno.json maps "quiverdb" to the npm package; here it maps to these sources.
    writeFileSync(join(dir, "import-map.json"), JSON.stringify({ imports: {
      quiverdb: pathToFileURL(join(root, "src/index.ts")).href,
      "quiverdb/edge": pathToFileURL(join(root, "src/edge.ts")).href,
    } }));
    const start = async (): Promise<string> => {
      const proc = spawn(deno, [
        "run", "--no-lock", "--no-config", `--import-map=${join(dir, "import-map.json")}`, "--node-modules-dir=manual", "--sloppy-imports", "--unstable-kv",
        `--allow-read=${root},${dir}`, `--allow-write=${dir}`, "--allow-net=127.0.0.1", "examples/deno-function/main.ts", join(dir, "notes.kv"), "0", "127.0.0.1",
      ], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } });
      procs.push(proc);
      let stderr = "";
      proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`deno did not listen within 30 s\n${stderr}`)), 30_000);
        proc.once("exit", (code) => reject(new Error(`deno exited with ${code}\n${stderr}`)));
        createInterface({ input: proc.stdout! }).on("line", (line) => {
          if (!line.startsWith("{")) return;
          clearTimeout(timer);
          resolve((JSON.parse(line) as { listening: number }).listening);
        });
      });
      return `http://127.0.0.1:${port}`;
    };
    const out = await exercise(await start());
    expectNotes(out);
    procs.at(-1)!.kill("SIGKILL");
    const again = await start();
    expect(await (await fetch(`${again}/count`)).json()).toEqual(out.count);
  }, 180_000);
});
