#!/usr/bin/env node
// `npm run bench -- <name> [args…]`: builds the WASM kernels if they are stale, then runs
// bench/<name>.ts under tsx with --expose-gc (benchmarks may call gc() between systems). Without a
// name, or with an unknown one, lists the benchmarks: the bench/*.ts files no other bench file
// imports (the imported ones, such as report.ts and datasets.ts, are shared helpers).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const benchDir = join(root, "bench");

function newest(dir) {
  return readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = join(dir, e.name);
    return Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
}

const files = readdirSync(benchDir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
const imported = new Set(
  files.flatMap((f) => [...readFileSync(join(benchDir, f), "utf8").matchAll(/(?:from\s+|import\(\s*)["']\.\/([\w.-]+)\.js["']/g)].map((m) => m[1])),
);
const available = files.map((f) => f.slice(0, -3)).filter((n) => !imported.has(n)).sort();

const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  if (name) console.error(`Unknown benchmark "${name}".`);
  console.error(`Usage: npm run bench -- <name> [args]\nAvailable: ${available.join(", ") || "(none)"}`);
  process.exit(name ? 1 : 0);
}

const wasm = ["quiver.simd.wasm", "quiver.scalar.wasm", "quiver.shared.wasm"].map((f) => join(root, "build", f));
const stale = wasm.some((f) => !existsSync(f) || statSync(f).mtimeMs < newest(join(root, "assembly")));
if (stale) {
  console.error("[bench] WASM kernels are stale: npm run asbuild");
  const r = spawnSync("npm", ["run", "asbuild"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const tsx = join(root, "node_modules", ".bin", "tsx");
const r = spawnSync(tsx, ["--expose-gc", join(benchDir, `${name}.ts`), ...rest], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
