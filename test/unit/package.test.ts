/**
 * The npm package as a user gets it: compile dist/ (`npm run build:ts`; the WASM is built by the
 * global setup, and rebuilding it here would race with suites reading it), `npm pack`, install the
 * tarball into a fresh project from the npm cache, then use it from Node (in-thread and through
 * quiverdb/worker), from TypeScript (declarations), and from a page built by Vite and loaded in
 * Chromium. Also reports the core size (scripts/size.mjs) and holds it to the 100 KB goal.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LANGUAGES } from "../../src/fts/language-names.js";
import { viteWorkerSizes } from "../../scripts/vite-worker-size.mjs";
import { serveStatic } from "./static-server.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const chromiumPath = process.env.QUIVER_CHROMIUM ?? process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * The environment without the npm_* variables of the `npm test` that may be running us, and without
 * Vitest's NODE_ENV=test: `vite build` makes a production build (the "production" export condition)
 * only when NODE_ENV is unset or "production", as in a user's shell.
 */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k !== "NODE_ENV" && (!k.startsWith("npm_") || ["npm_config_cache", "npm_config_registry", "npm_config_userconfig"].includes(k))),
);

function run(cmd: string, args: string[], cwd: string, timeout = 120_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", timeout, env: { ...env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" } });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  expect(r.error, `${what}: ${String(r.error)}`).toBeUndefined();
  expect(r.status, `${what} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const ROWS = `Array.from({ length: 100 }, (_, i) => ({ id: i, tag: i % 2 ? "odd" : "even", vector: [i, i % 7, 1] }))`;
const EXPECTED = { inThread: [10, 12, 8], worker: [10, 12, 8], error: [true, "DIMENSION_MISMATCH"] };
// German stemming finds "Häuser" for "Haus" (English stemming would not).
const GERMAN_DOCS = `[{ id: 1, text: "Die Häuser stehen am Fluss" }, { id: 2, text: "Ein Auto fährt schnell" }, { id: 3, text: "Das Haus am See" }]`;

const NODE_CHECK = `
import { connect, QuiverError } from "quiverdb";
import { connectWorker } from "quiverdb/worker";
const rows = ${ROWS};
const out = {};
const db = await connect("memory://");
const t = await db.createTable("t", rows);
out.inThread = (await t.search([10.2, 3, 1]).where("tag = 'even'").select(["id"]).limit(3).toArray()).map((r) => r.id);
const wdb = await connectWorker("memory://");
const wt = await wdb.createTable("t", rows);
out.worker = (await wt.search([10.2, 3, 1]).where("tag = 'even'").select(["id"]).limit(3).toArray()).map((r) => r.id);
out.error = await wt.search([1]).toArray().catch((e) => [e instanceof QuiverError, e.code]);
await wdb.close();
console.log(JSON.stringify(out));
`;

const PAGE_CHECK = `
import { connect, Index, QuiverError } from "quiverdb";
import { connectWorker } from "quiverdb/worker";
const rows = ${ROWS};
async function run() {
  const out = {};
  const db = await connect("idb://package-main");
  const t = await db.createTable("t", rows, { mode: "overwrite" });
  out.inThread = (await t.search([10.2, 3, 1]).where("tag = 'even'").select(["id"]).limit(3).toArray()).map((r) => r.id);
  await db.close();
  const wdb = await connectWorker("opfs://package-worker");
  const wt = await wdb.createTable("t", rows, { mode: "overwrite" });
  out.worker = (await wt.search([10.2, 3, 1]).where("tag = 'even'").select(["id"]).limit(3).toArray()).map((r) => r.id);
  out.error = await wt.search([1]).toArray().catch((e) => [e instanceof QuiverError, e.code]);
  // The test counts the requests made from here on: the German stemmer's file, and only it.
  document.body.dataset.ready = "german";
  await new Promise((go) => { window.startGerman = go; });
  const gt = await wdb.createTable("german", ${GERMAN_DOCS}, { mode: "overwrite" });
  await gt.createIndex("text", { config: Index.fts({ language: "German" }) });
  out.german = (await gt.query().fullTextSearch("Haus").select(["id"]).toArray()).map((r) => r.id).sort();
  await wdb.close();
  return out;
}
run().then(
  (out) => { document.body.dataset.result = JSON.stringify(out); },
  (e) => { document.body.dataset.result = JSON.stringify({ failed: String(e?.stack ?? e) }); },
);
`;

const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><script type="module" src="./main.js"></script></body></html>`;

const TYPES_CHECK = `
import { connect, QuiverError, type Row } from "quiverdb";
import { connectWorker, type RemoteTable } from "quiverdb/worker";
import { DurableObjectStore, DenoKvStore, type DurableObjectStorageLike } from "quiverdb/edge";
import { exportTable, importTable, type ImportProgress } from "quiverdb/interop";
declare const storage: DurableObjectStorageLike;
const edge = [new DurableObjectStore(storage, "notes"), DenoKvStore];
const db = await connect("memory://");
const rows: Row[] = await (await db.createTable("t", [{ x: 1 }])).query().limit(1).toArray();
const remote: RemoteTable = await (await connectWorker("memory://")).openTable("t");
const n: number = await remote.countRows("x > 0");
// @ts-expect-error countRows takes a SQL string: if the declarations were missing, this would not be an error
await remote.countRows(42);
// Code ported from LanceDB: its own interfaces as rows, and result fields read without casts.
interface Note { id: number; text: string; vector: number[] }
const notes: Note[] = [{ id: 1, text: "a", vector: [1, 2] }];
const nt = await db.createTable("notes", notes);
await nt.add(notes);
const firstId: number = (await nt.search([1, 2]).limit(1).toArray())[0].id;
const imported = await importTable(db, "f", new Blob([]), { onProgress: (p: ImportProgress) => p.bytesRead });
const exported: { rows: number } = await exportTable(imported, new WritableStream<Uint8Array>(), { format: "stream" });
export const used: unknown[] = [rows, n, QuiverError, edge, firstId, exported];
`;

describe("the npm package", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-package-"));
  const project = join(dir, "app");
  let files: string[] = [];
  let unavailable: string | undefined;

  beforeAll(() => {
    ok(run("npm", ["run", "--silent", "build:ts"], root), "npm run build:ts");
    // npm pack runs prepack (the full build) again: minutes on a loaded machine.
    const packed = JSON.parse(ok(run("npm", ["pack", "--json", "--pack-destination", dir], root, 400_000), "npm pack")) as { filename: string; files: { path: string }[] }[];
    files = packed[0]!.files.map((f) => f.path);
    const tarball = join(dir, packed[0]!.filename);
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "quiver-package-check", private: true, type: "module" }));
    // From the npm cache only (npm ci filled it); if a dependency is missing there, let npm fetch it.
    let install = run("npm", ["install", tarball, "--offline", "--ignore-scripts"], project);
    if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) install = run("npm", ["install", tarball, "--prefer-offline", "--ignore-scripts"], project);
    if (install.status !== 0) unavailable = `npm could not install the tarball's dependencies (npm cache and registry): ${install.stderr.slice(-500)}`;
  }, 700_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("packs ESM, type declarations, source maps with their sources and both WASM builds, and no sources or tests", () => {
    for (const f of [
      "package.json", "README.md", "build/quiver.simd.wasm", "build/quiver.scalar.wasm",
      "dist/index.js", "dist/index.d.ts", "dist/index.workerd.js", "dist/kernels/loader.js",
      "dist/worker/index.js", "dist/worker/index.d.ts", "dist/worker/index.node.js", "dist/worker/worker.js", "dist/worker/node-worker.js",
      "dist/interop.js", "dist/interop.d.ts", "dist/cli/main.js",
      "dist/langchain/index.js", "dist/langchain/index.d.ts",
      "dist/fts/language-imports.js", "dist/fts/language-files.js", "dist/languages/german.js", "dist/languages/german.js.map",
    ]) expect(files, f).toContain(f);
    expect(files.filter((f) => /^(src|test|assembly|bench|scripts)\//.test(f))).toEqual([]);
    // Every script's source map ships with it, holding its sources (a bundler's dev server finds
    // what each //# sourceMappingURL names, with nothing else to fetch).
    const scripts = files.filter((f) => f.endsWith(".js"));
    expect(scripts.filter((f) => !files.includes(`${f}.map`))).toEqual([]);
    for (const f of ["dist/index.js.map", "dist/table.js.map"]) {
      const map = JSON.parse(readFileSync(join(root, f), "utf8")) as { sources: string[]; sourcesContent?: string[] };
      expect(map.sourcesContent?.length, f).toBe(map.sources.length);
      expect(map.sourcesContent!.every((c) => typeof c === "string" && c.length > 0), f).toBe(true);
    }
  });

  it("runs a query from Node, in-thread and through quiverdb/worker", (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    writeFileSync(join(project, "check.mjs"), NODE_CHECK);
    const out = ok(run(process.execPath, ["check.mjs"], project, 30_000), "node check.mjs");
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual(EXPECTED);
  });

  it("type-checks a browser-only TypeScript user of every entry against the declarations, without Node's types", (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    writeFileSync(join(project, "check.ts"), TYPES_CHECK);
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
      // A browser-only project: no Node types, and the package's declarations checked too.
      compilerOptions: { target: "es2022", module: "esnext", moduleResolution: "bundler", strict: true, noEmit: true, skipLibCheck: false, types: [], lib: ["es2022", "dom"] },
      files: ["check.ts"],
    }));
    ok(run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], project, 60_000), "tsc");
  });

  it("npx quiverdb: the bin exports and imports an Arrow file, and says how to install LanceDB when it is missing", (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    writeFileSync(join(project, "make.mjs"), `import { connect } from "quiverdb";\nconst db = await connect("./db");\nawait db.createTable("t", ${ROWS});\nawait db.close();\n`);
    ok(run(process.execPath, ["make.mjs"], project, 30_000), "node make.mjs");
    const bin = join(project, "node_modules", ".bin", "quiverdb");
    expect(ok(run(bin, ["export", "./db", "t", "t.arrow", "--quiet"], project, 30_000), "quiverdb export")).toMatch(/100 rows/);
    expect(ok(run(bin, ["import", "t.arrow", "copy", "./db2", "--quiet"], project, 30_000), "quiverdb import")).toMatch(/100 rows/);
    const lance = run(bin, ["import", "./db", "t", "./db3"], project, 30_000);
    expect(lance.status).toBe(1);
    expect(lance.stderr).toContain("npm install @lancedb/lancedb");
  });

  it("runs a query in Chromium from a page built by Vite, in-thread and through a Web Worker", async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    writeFileSync(join(project, "index.html"), PAGE_HTML);
    writeFileSync(join(project, "main.js"), PAGE_CHECK);
    ok(run(process.execPath, [join(root, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn", "--outDir", "web"], project, 60_000), "vite build");
    const server = await serveStatic(join(project, "web"));
    const browser = await chromium.launch({
      executablePath: existsSync(chromiumPath) ? chromiumPath : undefined,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${server.origin}/`);
      await page.waitForSelector("body[data-ready], body[data-result]", { state: "attached", timeout: 30_000 });
      const isLanguageFile = (path: string): boolean => LANGUAGES.some((l) => path.startsWith(`/assets/${l}-`));
      expect(server.log.filter((r) => isLanguageFile(r.path))).toEqual([]);
      const before = server.log.length;
      await page.evaluate(() => (window as unknown as { startGerman(): void }).startGerman());
      await page.waitForSelector("body[data-result]", { state: "attached", timeout: 30_000 });
      expect(JSON.parse((await page.evaluate(() => document.body.dataset.result))!)).toEqual({ ...EXPECTED, german: [1, 3] });
      expect(errors).toEqual([]);
      // Vite's default worker (IIFE) fetched German's own file when the index was built, and no other language's.
      const languages = server.log.slice(before).filter((r) => isLanguageFile(r.path));
      expect(languages.map((r) => [r.path.replace(/-[\w-]+\.js$/, ".js"), r.status])).toEqual([["/assets/german.js", 200]]);
      // The kernels came from the bundle's own asset (once for the page, once for the worker).
      const wasm = server.log.filter((r) => r.path.endsWith(".wasm"));
      expect(wasm.map((r) => r.status)).toEqual([200, 200]);
      expect(new Set(wasm.map((r) => r.path)).size).toBe(1);
      expect(server.log.filter((r) => r.status === 404)).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });

  it("under Vite's default worker format (IIFE), the worker holds Quiver's worker code only: languages in their own files, apache-arrow on the page", (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const vite = join(root, "node_modules/vite/bin/vite.js");
    // The same page built twice from the installed package: with Vite's defaults, and with ES-format workers.
    writeFileSync(join(project, "index.html"), PAGE_HTML);
    writeFileSync(join(project, "main.js"), PAGE_CHECK);
    writeFileSync(join(project, "vite.es.config.mjs"), `export default { worker: { format: "es" } };\n`);
    ok(run(process.execPath, [vite, "build", "--logLevel", "warn", "--outDir", "size-iife"], project, 120_000), "vite build");
    ok(run(process.execPath, [vite, "build", "--logLevel", "warn", "--outDir", "size-es", "--config", "vite.es.config.mjs"], project, 120_000), "vite build (worker.format es)");
    const iife = viteWorkerSizes(join(project, "size-iife", "assets"), LANGUAGES);
    const es = viteWorkerSizes(join(project, "size-es", "assets"), LANGUAGES);
    const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
    console.log(`Vite worker, gzip: IIFE (defaults) ${kb(iife.worker)}; ES ${kb(es.worker)} up front, ${kb(es.reachable)} with its ${es.chunks - 1} chunks; ${iife.languageFiles} language files ${kb(iife.languageGzip)}`);
    // Every language is a file of its own in both builds, and none of their code is in the IIFE worker.
    expect(iife.languageFiles).toBe(LANGUAGES.length);
    expect(es.languageFiles).toBe(LANGUAGES.length);
    const worker = readFileSync(join(project, "size-iife", "assets", iife.workerFile), "utf8");
    expect(worker).not.toContain(`"welche","welchem"`); // German stop words
    expect(worker).not.toContain("ARROW1"); // apache-arrow's IPC magic
    // What the IIFE worker downloads at once is what the ES worker downloads across all its chunks,
    // far below the 256 KB it was when languages and apache-arrow were inlined.
    expect(iife.worker).toBeLessThanOrEqual(es.reachable * 1.05);
    expect(iife.worker).toBeLessThan(180 * 1024);
  });

  it("keeps the core (JS + WASM, minified, gzip) within 100 KB", () => {
    const report = JSON.parse(ok(run(process.execPath, ["scripts/size.mjs", "--json"], root, 60_000), "npm run size")) as {
      coreGzip: number; goalGzip: number; js: { gzip: number }; wasm: { simd: { gzip: number } };
    };
    console.log(`core size: ${(report.coreGzip / 1024).toFixed(1)} KB gzip (JS ${(report.js.gzip / 1024).toFixed(1)} KB + WASM ${(report.wasm.simd.gzip / 1024).toFixed(1)} KB)`);
    expect(report.coreGzip).toBe(report.js.gzip + report.wasm.simd.gzip);
    expect(report.js.gzip).toBeGreaterThan(10_000);
    expect(report.coreGzip).toBeLessThanOrEqual(report.goalGzip);
  });
});
