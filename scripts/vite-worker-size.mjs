// What the worker of a Vite app downloads: used by `npm run size -- --vite` and test/unit/package.test.ts.
// `viteWorkerSizes(dir)` reads a `vite build` output (dist/assets): the worker script a page got
// from connectWorker(), the chunks it can load (ES format: its own imports, followed), and the
// per-language files (dist/languages/*.js of the package, emitted by Vite as assets).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

/**
 * `assets`: a Vite build's assets folder; `languages`: the language names (LANGUAGES). Returns gzip
 * bytes: `worker` (the worker script alone), `reachable` (it and every chunk it imports, statically
 * or on demand), and the language files found among the assets, with whether the worker holds
 * any of their code.
 */
export function viteWorkerSizes(assets, languages) {
  const files = readdirSync(assets);
  const read = (f) => readFileSync(join(assets, f));
  const entry = files.find((f) => /^worker-[\w-]+\.js$/.test(f));
  if (entry === undefined) throw new Error(`no worker-*.js in ${assets}: ${files.join(", ")}`);
  const chunks = new Set();
  const visit = (f) => {
    if (chunks.has(f)) return;
    chunks.add(f);
    for (const m of read(f).toString("utf8").matchAll(/(?:import\(|from|import)\s*["'`]\.\/([\w.-]+\.js)["'`]/g)) if (files.includes(m[1])) visit(m[1]);
  };
  visit(entry);
  const languageFiles = files.filter((f) => languages.some((l) => f.startsWith(`${l}-`) && f.endsWith(".js")));
  return {
    workerFile: entry,
    worker: gz(read(entry)),
    reachable: [...chunks].reduce((s, f) => s + gz(read(f)), 0),
    chunks: chunks.size,
    languageFiles: languageFiles.length,
    languageGzip: languageFiles.reduce((s, f) => s + gz(read(f)), 0),
  };
}
