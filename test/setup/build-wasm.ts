/**
 * Global setup for vitest and Playwright: builds build/quiver.{simd,scalar}.wasm with
 * `npm run asbuild` when either is missing or older than assembly/ or asconfig.json.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function wasmIsStale(): boolean {
  const outputs = ["build/quiver.simd.wasm", "build/quiver.scalar.wasm", "build/quiver.shared.wasm"].map((p) => join(root, p));
  if (outputs.some((p) => !existsSync(p))) return true;
  const built = Math.min(...outputs.map((p) => statSync(p).mtimeMs));
  const sources = Math.max(newestSource(join(root, "assembly")), statSync(join(root, "asconfig.json")).mtimeMs);
  return sources > built;
}

export default function setup(): void {
  if (!wasmIsStale()) return;
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  execFileSync(npm, ["run", "asbuild"], { cwd: root, stdio: "inherit", timeout: 120_000 });
}
