/**
 * A Vite app with Vite's default settings (no config file) using the package as a user installs it
 * (dist/ built, packed, installed into a fresh project from the npm cache). Its page opens a database
 * in a worker (`connectWorker()`), builds a German full-text index there and finds a stemmed match;
 * the German stemmer and stop words are fetched when the index is built, and no other language's:
 *
 * 1. `vite build` served as static files: the worker is Vite's default single IIFE, and German
 *    comes from its own file (dist/languages/german.js, emitted by Vite as an asset).
 * 2. `vite` (the dev server): the worker is a module worker, and German comes from @orama's modules.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { LANGUAGES } from "../../src/fts/language-names.js";
import { serveStatic } from "../unit/static-server.js";

const repo = resolve(import.meta.dirname, "../..");
const vite = join(repo, "node_modules/vite/bin/vite.js");
// Vite run as a user runs it: NODE_ENV unset, so `vite build` is a production build and `vite` is
// not. No colours, so the dev server prints its URL plainly (picocolors colours whenever CI is set).
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "NODE_ENV" && k !== "FORCE_COLOR")),
  NO_COLOR: "1",
};

const PAGE = `
import { Index } from "quiverdb";
import { connectWorker } from "quiverdb/worker";
async function run() {
  const db = await connectWorker("memory://");
  const t = await db.createTable("docs", [
    { id: 1, text: "Die Häuser stehen am Fluss" }, { id: 2, text: "Ein Auto fährt schnell" }, { id: 3, text: "Das Haus am See" },
  ]);
  // The test notes the requests made so far, then lets the index be built.
  document.body.dataset.ready = "1";
  await new Promise((go) => { window.buildIndex = go; });
  await t.createIndex("text", { config: Index.fts({ language: "German" }) });
  const ids = (await t.query().fullTextSearch("Haus").select(["id"]).toArray()).map((r) => r.id).sort();
  await db.close();
  return ids;
}
run().then(
  (ids) => { document.body.dataset.result = JSON.stringify(ids); },
  (e) => { document.body.dataset.result = JSON.stringify({ failed: String(e?.stack ?? e) }); },
);
`;

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.error !== undefined || r.status !== 0) throw new Error(`${what} failed: ${String(r.error ?? "")}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs the page up to the index build and past it; returns the result and the URLs requested before and after. */
async function germanSearch(page: Page, url: string): Promise<{ result: unknown; before: string[]; after: string[] }> {
  const requests: string[] = [];
  const errors: string[] = [];
  // The context sees the worker's requests as well as the page's.
  page.context().on("request", (r) => requests.push(new URL(r.url()).pathname));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("body[data-ready], body[data-result]", { state: "attached", timeout: 60_000 });
  const seen = requests.length;
  await page.evaluate(() => (window as unknown as { buildIndex(): void }).buildIndex());
  await page.waitForSelector("body[data-result]", { state: "attached", timeout: 60_000 });
  expect(errors).toEqual([]);
  const result = JSON.parse((await page.evaluate(() => document.body.dataset.result))!) as unknown;
  return { result, before: requests.slice(0, seen), after: requests.slice(seen) };
}

test.describe("a Vite app with default settings", () => {
  test.describe.configure({ mode: "serial", timeout: 120_000 });
  const dir = mkdtempSync(join(tmpdir(), "quiver-vite-app-"));
  const project = join(dir, "app");

  test.beforeAll(() => {
    test.setTimeout(900_000);
    ok(spawnSync("npm", ["run", "--silent", "build:ts"], { cwd: repo, encoding: "utf8", timeout: 600_000 }), "npm run build:ts");
    // The WASM is built by the global setup; dist/ was just compiled, so pack what is there.
    const packed = JSON.parse(ok(spawnSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], { cwd: repo, encoding: "utf8", timeout: 120_000 }), "npm pack")) as { filename: string }[];
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "quiver-vite-app", private: true, type: "module" }));
    ok(spawnSync("npm", ["install", join(dir, packed[0]!.filename), "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: project, encoding: "utf8", timeout: 300_000 }), "npm install");
    writeFileSync(join(project, "index.html"), `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><script type="module" src="./main.js"></script></body></html>`);
    writeFileSync(join(project, "main.js"), PAGE);
  });

  test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("vite build: the IIFE worker fetches German's own file when the index is built", async ({ page }) => {
    ok(spawnSync(process.execPath, [vite, "build", "--logLevel", "warn", "--outDir", "web"], { cwd: project, env, encoding: "utf8", timeout: 120_000 }), "vite build");
    const server = await serveStatic(join(project, "web"));
    try {
      const { result, before, after } = await germanSearch(page, `${server.origin}/`);
      expect(result).toEqual([1, 3]);
      const isLanguage = (p: string): boolean => LANGUAGES.some((l) => p.startsWith(`/assets/${l}-`));
      expect(before.filter((p) => /^\/assets\/worker-/.test(p))).toHaveLength(1);
      expect(before.filter(isLanguage)).toEqual([]);
      expect(after.filter(isLanguage).map((p) => p.replace(/-[\w-]+\.js$/, ".js"))).toEqual(["/assets/german.js"]);
      expect(server.log.filter((r) => r.status === 404)).toEqual([]);
      expect(server.log.filter((r) => isLanguage(r.path))).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  test("vite dev server: the module worker imports German's stemmer and stop words when the index is built", async ({ page }) => {
    // Port 0: the OS picks a free one, and the server prints its URL.
    const server = spawn(process.execPath, [vite, "--port", "0", "--host", "127.0.0.1"], { cwd: project, env, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const url = await new Promise<string>((found, failed) => {
        let out = "";
        const late = setTimeout(() => failed(new Error(`vite printed no URL in 60 s: ${out}`)), 60_000);
        server.stdout!.on("data", (d: Buffer) => {
          // Colour codes stripped in case a terminal setting turns them back on.
          out += d.toString().replace(/\x1b\[[0-9;]*m/g, "");
          const m = /Local:\s+(http:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(late);
            found(m[1]!);
          }
        });
        server.on("exit", (code) => {
          clearTimeout(late);
          failed(new Error(`vite exited (${code}): ${out}`));
        });
      });
      const { result, before, after } = await germanSearch(page, url);
      expect(result).toEqual([1, 3]);
      const orama = (p: string): boolean => /\/@orama\/(stemmers|stopwords)\/dist\/\w+\.js$/.test(p) && !/\/en\.js$/.test(p);
      expect(before.filter(orama)).toEqual([]);
      expect(after.filter(orama).map((p) => p.replace(/^.*\/@orama\//, "")).sort()).toEqual(["stemmers/dist/de.js", "stopwords/dist/de.js"]);
    } finally {
      server.kill();
    }
  });
});
