// The web demo (web-demo/): `npm run demo` serves it, `npm run demo:build` writes web-demo/dist.
// Vitest reads vitest.config.ts and the browser tests use test/browser/vite.config.ts, so neither sees this file.
import { createHash } from "node:crypto";
import { createReadStream, readdirSync, statSync } from "node:fs";
import { extname, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Connect, type Plugin } from "vite";

const repo = fileURLToPath(new URL(".", import.meta.url));
const demo = resolve(repo, "web-demo");
// The shared data folder stays outside the repository; it is served, never copied in.
const data = resolve(process.env.QUIVER_DATA ?? resolve(repo, "..", "shared", "data"));

const TYPES: Record<string, string> = {
  ".txt": "text/plain; charset=utf-8",
  ".jsonl": "application/x-ndjson; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
};

/** GET/HEAD /data/<path> → <data>/<path>, for the demo's real data sets (dev server and preview). */
const serveData: Connect.NextHandleFunction = (req, res, next) => {
  const path = decodeURIComponent((req.url ?? "").split("?")[0]!);
  if (!path.startsWith("/data/") || (req.method !== "GET" && req.method !== "HEAD")) return next();
  const file = resolve(data, "." + path.slice("/data".length));
  const inside = relative(data, file);
  if (inside === "" || inside.startsWith("..") || inside.split(sep).includes("..")) return next();
  let size: number;
  try {
    const s = statSync(file);
    if (!s.isFile()) return next();
    size = s.size;
  } catch {
    res.statusCode = 404;
    res.end(`not found in the data folder (${data}); set QUIVER_DATA to the shared data folder`);
    return;
  }
  res.setHeader("Content-Type", TYPES[extname(file)] ?? "application/octet-stream");
  res.setHeader("Content-Length", String(size));
  res.setHeader("Cache-Control", "no-cache");
  if (req.method === "HEAD") return void res.end();
  createReadStream(file).pipe(res);
};

function dataFolder(): Plugin {
  return {
    name: "quiver-demo-data",
    configureServer: (server) => void server.middlewares.use(serveData),
    configurePreviewServer: (server) => void server.middlewares.use(serveData),
  };
}

/**
 * Writes precache.json into the build: every file the service worker (public/sw.js) must cache at
 * install so the demo opens offline — the built scripts, styles, WebAssembly and public files —
 * and a version made from their contents, so a new build replaces the old cache.
 */
function precacheManifest(): Plugin {
  return {
    name: "quiver-demo-precache",
    apply: "build",
    generateBundle(_options, bundle) {
      const publicFiles = readdirSync(resolve(demo, "public")).filter((f) => f !== "sw.js");
      // transformers.js and its ONNX runtime (27 MB) serve the MiniLM encoder, which needs the network
      // anyway (it downloads its model); they are cached when first used, not at install.
      const online = /(^|\/)(transformers\.web|ort-wasm)/;
      const files = [...Object.keys(bundle), ...publicFiles].filter((f) => !f.endsWith(".map") && !online.test(f)).sort();
      const hash = createHash("sha256");
      for (const f of Object.keys(bundle).sort()) {
        const item = bundle[f]!;
        hash.update(f).update(item.type === "chunk" ? item.code : typeof item.source === "string" ? item.source : Buffer.from(item.source));
      }
      const urls = ["/", ...files.filter((f) => f !== "index.html").map((f) => `/${f}`)];
      // Files of this build cached only when first used; the worker keeps them and drops older builds'.
      const lazy = Object.keys(bundle).filter((f) => online.test(f)).map((f) => `/${f}`);
      this.emitFile({ type: "asset", fileName: "precache.json", source: JSON.stringify({ version: hash.digest("hex").slice(0, 16), urls, lazy }, null, 1) });
    },
  };
}

export default defineConfig({
  root: demo,
  clearScreen: false,
  plugins: [dataFolder(), precacheManifest()],
  // The demo imports the public entries by their package names; in this repository they are sources.
  resolve: {
    alias: [
      { find: /^quiverdb$/, replacement: resolve(repo, "src/index.ts") },
      { find: /^quiverdb\/worker$/, replacement: resolve(repo, "src/worker/index.ts") },
      { find: /^quiverdb\/worker\/serve$/, replacement: resolve(repo, "src/worker/serve.ts") },
      { find: /^#fts-language-loader$/, replacement: resolve(repo, "src/fts/language-imports.ts") },
      // @energetic-ai/embeddings (the Universal Sentence Encoder's tokenizer and wrapper) imports
      // TensorFlow.js from @energetic-ai/core, a Node-only bundle; browsers get TensorFlow.js itself.
      { find: /^@energetic-ai\/core$/, replacement: resolve(demo, "lib/tf.ts") },
    ],
  },
  server: {
    port: 5173,
    strictPort: true,
    fs: { allow: [repo, data] },
    // The browser test turns HMR off: a pushed full reload would navigate the page mid-test.
    ...(process.env.QUIVER_DEMO_HMR === "0" ? { ws: false as const } : {}),
  },
  // Pre-bundle what the worker imports up front, so a first visit never triggers Vite's
  // "new dependencies found, reloading"; discovery would also pull in transformers.js, which the demo never loads.
  optimizeDeps: {
    noDiscovery: true,
    include: [
      "comlink", "idb", "@orama/stemmers/english", "@orama/stopwords/english",
      "@tensorflow/tfjs-core", "@tensorflow/tfjs-converter", "@tensorflow/tfjs-backend-wasm", "@energetic-ai/embeddings",
      "papaparse", "hyparquet",
    ],
  },
  preview: { port: 4173, strictPort: true },
  // The database runs in a module worker; Quiver loads its ANN and FTS code with dynamic imports.
  worker: { format: "es" },
  build: { outDir: resolve(demo, "dist"), emptyOutDir: true, target: "es2022" },
});
