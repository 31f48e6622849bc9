#!/usr/bin/env node
// `npm test`: builds the WASM kernels if they are stale, runs the Node suites (vitest: unit, Deno,
// workerd) and the Chromium suite (Playwright), then prints one closing line with the totals.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
// Not test-results/: Playwright empties that folder when it starts.
const results = join(root, ".test-reports");
mkdirSync(results, { recursive: true });

function newest(dir) {
  return readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = join(dir, e.name);
    return Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
}

const wasm = ["quiver.simd.wasm", "quiver.scalar.wasm", "quiver.shared.wasm"].map((f) => join(root, "build", f));
const stale = wasm.some((f) => !existsSync(f) || statSync(f).mtimeMs < newest(join(root, "assembly")));
if (stale) {
  const r = spawnSync("npm", ["run", "asbuild"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/**
 * The Chromium the browser suite will launch (the same order as playwright.config.ts): the
 * QUIVER_CHROMIUM (or CHROMIUM_PATH) override, Debian's /usr/bin/chromium, else Playwright's own
 * download. When none exists, install Debian's package if this is a Debian machine and we are root;
 * otherwise stop at once with the commands that fix it, instead of a wall of launch failures.
 */
async function ensureChromium() {
  const override = process.env.QUIVER_CHROMIUM ?? process.env.CHROMIUM_PATH;
  if (override) {
    if (existsSync(override)) return;
    console.error(`QUIVER_CHROMIUM points at ${override}, which does not exist.`);
    process.exit(1);
  }
  if (existsSync("/usr/bin/chromium")) return;
  const { chromium } = await import("playwright-core");
  if (existsSync(chromium.executablePath())) return;
  const root = process.getuid?.() === 0;
  if (root && existsSync("/usr/bin/apt-get")) {
    console.log("::: Chromium is missing: installing Debian's chromium package (apt-get install -y chromium)");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const ok = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env }).status === 0
      && spawnSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env }).status === 0;
    if (ok && existsSync("/usr/bin/chromium")) return;
  }
  console.error([
    "The browser tests need Chromium, and none was found. Do one of these, then run npm test again:",
    "  sudo apt-get install -y chromium                # Debian/Ubuntu: the browser the tests expect",
    "  QUIVER_CHROMIUM=/path/to/chrome npm test        # any Chromium or Chrome you already have",
    "  npx playwright install chromium                 # Playwright's own build",
    "Or run the Node suites alone: npm test -- node",
  ].join("\n"));
  process.exit(1);
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  return r.status ?? 1;
}

const vitestJson = join(results, "vitest.json");
const playwrightJson = join(results, "playwright.json");
const only = process.argv[2];
for (const f of [vitestJson, playwrightJson]) rmSync(f, { force: true });
if (!only || only === "browser") await ensureChromium();
const codes = [];
if (!only || only === "node") {
  codes.push(run("npx", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestJson}`]));
}
if (!only || only === "browser") {
  codes.push(run("npx", ["playwright", "test", "--reporter=list,json"], { PLAYWRIGHT_JSON_OUTPUT_NAME: playwrightJson }));
}

let passed = 0, failed = 0, skipped = 0;
if (existsSync(vitestJson) && (!only || only === "node")) {
  const v = JSON.parse(readFileSync(vitestJson, "utf8"));
  passed += v.numPassedTests; failed += v.numFailedTests; skipped += v.numPendingTests + (v.numTodoTests ?? 0);
}
if (existsSync(playwrightJson) && (!only || only === "browser")) {
  const s = JSON.parse(readFileSync(playwrightJson, "utf8")).stats;
  passed += s.expected + s.flaky; failed += s.unexpected; skipped += s.skipped;
}
const code = codes.find((c) => c !== 0) ?? 0;
if (code !== 0 && failed === 0) failed = 1; // a suite that crashed before reporting still fails the run
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
