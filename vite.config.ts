// The web demo (web-demo/): `npm run demo` serves it, `npm run demo:build` writes web-demo/dist.
// Vitest reads vitest.config.ts and the browser tests use test/browser/vite.config.ts, so neither sees this file.
import { createReadStream, statSync } from "node:fs";
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

export default defineConfig({
  root: demo,
  clearScreen: false,
  plugins: [dataFolder()],
  // The demo imports the public entry by its package name; in this repository that is src/index.ts.
  resolve: { alias: { quiverdb: resolve(repo, "src/index.ts") } },
  server: {
    port: 5173,
    strictPort: true,
    fs: { allow: [repo, data] },
    // The browser test turns HMR off: a pushed full reload would navigate the page mid-test.
    ...(process.env.QUIVER_DEMO_HMR === "0" ? { ws: false as const } : {}),
  },
  // Pre-bundle what the worker imports up front, so a first visit never triggers Vite's
  // "new dependencies found, reloading"; discovery would also pull in transformers.js, which the demo never loads.
  optimizeDeps: { noDiscovery: true, include: ["comlink", "idb", "@orama/stemmers/english", "@orama/stopwords/english"] },
  preview: { port: 4173, strictPort: true },
  // The database runs in a module worker; Quiver loads its ANN and FTS code with dynamic imports.
  worker: { format: "es" },
  build: { outDir: resolve(demo, "dist"), emptyOutDir: true, target: "es2022" },
});
