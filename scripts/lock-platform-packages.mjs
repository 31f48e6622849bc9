// Adds lock entries for other platforms' optional binary packages that this machine's registry mirror does not serve,
// so `npm ci` sees the lock in sync; on linux-x64 npm skips them by os/cpu without fetching.
import { readFileSync, writeFileSync } from "node:fs";
const file = process.argv[2] ?? "package-lock.json";
const lock = JSON.parse(readFileSync(file, "utf8"));
const plat = {
  "@lancedb/lancedb-darwin-arm64": ["darwin", "arm64"], "@lancedb/lancedb-linux-arm64-gnu": ["linux", "arm64", "glibc"],
  "@lancedb/lancedb-linux-arm64-musl": ["linux", "arm64", "musl"], "@lancedb/lancedb-win32-arm64-msvc": ["win32", "arm64"],
  "@lancedb/lancedb-win32-x64-msvc": ["win32", "x64"], "@deno/darwin-arm64": ["darwin", "arm64"], "@deno/darwin-x64": ["darwin", "x64"],
  "@deno/linux-arm64-glibc": ["linux", "arm64", "glibc"], "@deno/win32-arm64": ["win32", "arm64"], "@deno/win32-x64": ["win32", "x64"],
  "@cloudflare/workerd-darwin-64": ["darwin", "x64"], "@cloudflare/workerd-darwin-arm64": ["darwin", "arm64"], "@cloudflare/workerd-windows-64": ["win32", "x64"],
};
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key] || !plat[name]) continue;
    const [os, cpu, libc] = plat[name];
    lock.packages[key] = { version: spec.replace(/^[\^~=]/, ""), cpu: [cpu], dev: entry.dev, optional: true, os: [os], ...(libc && { libc: [libc] }) };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
console.log(`added ${added} entries`);
