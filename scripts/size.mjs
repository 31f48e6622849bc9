#!/usr/bin/env node
// `npm run size`: how many bytes a browser downloads for Quiver's core. Bundles the package entry
// ("quiverdb" = src/index.ts) for the browser with esbuild, minified, with code splitting as an
// app bundler would do it, and gzips the result. The core is the entry chunk with everything it
// imports statically, plus the SIMD kernels (.wasm); chunks behind dynamic imports (stemmers and
// stop words of other languages, IndexedDB's wrapper, …) load only when used and are listed apart.
// transformers.js and Apache Arrow are optional peers, never part of the core.
// With dist/ built it also reports the worker script of a Vite app (see viteWorker below).
// `--json` prints the figures as JSON (used by test/unit/package.test.ts); `--vite` adds the Vite figures to it.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const GOAL = 100 * 1024;
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

async function bundle(entry) {
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    metafile: true,
    outdir: join(root, ".size-out"),
    external: ["apache-arrow", "@huggingface/transformers", "node:*"],
    logLevel: "error",
  });
  const files = new Map(result.outputFiles.map((f) => [relative(join(root, ".size-out"), f.path), f.contents]));
  const outputs = Object.fromEntries(Object.entries(result.metafile.outputs).map(([p, o]) => [relative(".size-out", p), o]));
  // Dynamically imported modules are entry points too in esbuild's metafile; pick ours by path.
  const main = Object.keys(outputs).find((p) => outputs[p].entryPoint === entry && p.endsWith(".js"));
  // The entry and the chunks it imports statically load together; dynamic imports load on use.
  const eager = new Set();
  const visit = (p) => {
    if (eager.has(p)) return;
    eager.add(p);
    for (const i of outputs[p].imports) if (i.kind === "import-statement" && !i.external) visit(relative(".size-out", i.path));
  };
  visit(main);
  const sum = (paths, f) => paths.reduce((s, p) => s + f(files.get(p)), 0);
  const jsFiles = [...files.keys()].filter((p) => p.endsWith(".js"));
  const lazy = jsFiles.filter((p) => !eager.has(p));
  return {
    min: sum([...eager], (b) => b.length),
    gzip: sum([...eager], gz),
    lazyChunks: lazy.length,
    lazyGzip: sum(lazy, gz),
  };
}

const wasm = (flavor) => {
  const bytes = readFileSync(join(root, "build", `quiver.${flavor}.wasm`));
  return { raw: bytes.length, gzip: gz(bytes) };
};

const js = await bundle("src/index.ts");
const workerClient = await bundle("src/worker/index.ts");
const workerScript = await bundle("src/worker/worker.ts");
const simd = wasm("simd");
const scalar = wasm("scalar");
const core = js.gzip + simd.gzip;
const report = {
  coreGzip: core,
  goalGzip: GOAL,
  js,
  wasm: { simd, scalar },
  worker: { client: workerClient, script: workerScript },
};

/**
 * The worker a Vite app gets from `connectWorker()`, built by Vite from the built package
 * (dist/; `npm run build:ts` first) with its default worker format (a single IIFE, which inlines
 * every dynamic import it follows) and with `worker.format: "es"` (dynamic imports stay chunks).
 * Reports the worker script alone and, for "es", with every chunk it can load; other languages'
 * files stay out of both (dist/languages/*.js, emitted as assets). Two Vite builds (seconds): part of
 * the printed report when dist/ is built, and of `--json` only with `--vite`.
 */
async function viteWorker(format) {
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { build: viteBuild } = await import("vite");
  const { viteWorkerSizes } = await import("./vite-worker-size.mjs");
  const { LANGUAGES } = await import(join(root, "dist/fts/language-names.js"));
  const dir = mkdtempSync(join(tmpdir(), "quiver-size-vite-"));
  try {
    writeFileSync(join(dir, "index.html"), `<!doctype html><script type="module" src="./main.js"></script>`);
    writeFileSync(join(dir, "main.js"), `import { connectWorker } from "quiverdb/worker";\nconsole.log(await (await connectWorker("memory://")).tableNames());\n`);
    await viteBuild({
      configFile: false, root: dir, logLevel: "silent",
      resolve: { alias: [{ find: /^quiverdb\/worker$/, replacement: join(root, "dist/worker/index.js") }, { find: /^quiverdb$/, replacement: join(root, "dist/index.js") }] },
      build: { outDir: join(dir, "dist"), emptyOutDir: true },
      ...(format ? { worker: { format } } : {}),
    });
    return viteWorkerSizes(join(dir, "dist", "assets"), LANGUAGES);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const built = existsSync(join(root, "dist/languages/german.js")) && existsSync(join(root, "dist/worker/index.js"));
if (process.argv.includes("--vite") && !built) throw new Error("npm run size -- --vite measures the built package: run npm run build:ts first.");
if (built && (process.argv.includes("--vite") || !process.argv.includes("--json"))) {
  const [defaults, es] = [await viteWorker(undefined), await viteWorker("es")];
  report.worker.vite = { defaultsGzip: defaults.worker, esGzip: es.worker, esReachableGzip: es.reachable, esChunks: es.chunks, languageFiles: defaults.languageFiles, languageGzip: defaults.languageGzip };
}

if (process.argv.includes("--json")) {
  console.log(JSON.stringify(report));
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`quiverdb core (browser, minified, gzip -9; without transformers.js and Arrow)`);
  console.log(`  JS   entry + static imports  ${kb(js.min).padStart(9)} min  ${kb(js.gzip).padStart(9)} gzip`);
  console.log(`  WASM quiver.simd.wasm        ${kb(simd.raw).padStart(9)} raw  ${kb(simd.gzip).padStart(9)} gzip`);
  console.log(`  core total                                  ${kb(core).padStart(9)} gzip  (goal ≤ ${kb(GOAL)}: ${core <= GOAL ? "met" : "NOT met"})`);
  console.log(`  loaded on demand: ${js.lazyChunks} chunks, ${kb(js.lazyGzip)} gzip (other languages' stemmers/stop words, idb, …)`);
  console.log(`  scalar fallback quiver.scalar.wasm ${kb(scalar.gzip)} gzip (instead of SIMD, on engines without it)`);
  console.log(`  quiverdb/worker: client ${kb(workerClient.gzip)} gzip on the page, worker script ${kb(workerScript.gzip)} gzip (+ the same WASM)`);
  if (report.worker.vite) {
    const v = report.worker.vite;
    console.log(`  in a Vite app: worker script ${kb(v.defaultsGzip)} gzip with Vite's default worker format (IIFE: all of Quiver's worker code in one file)`);
    console.log(`    with worker.format "es": ${kb(v.esGzip)} gzip up front, ${kb(v.esReachableGzip)} gzip with all ${v.esChunks - 1} chunks it loads on demand`);
    console.log(`    either way apart, on first use: ${v.languageFiles} language files, ${kb(v.languageGzip)} gzip in all; apache-arrow stays on the page`);
  } else console.log(`  (with dist/ built, npm run build:ts, this also reports the worker script a Vite app gets)`);
}
