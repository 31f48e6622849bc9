// Serves the browser-test fixture with TypeScript straight from src/. The root is the repository,
// so /build/*.wasm resolves exactly as `new URL("../../build/…", import.meta.url)` expects.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL("../..", import.meta.url));

export default defineConfig({
  root,
  logLevel: "warn",
  clearScreen: false,
  // No HMR socket: the repository is edited while the suites run, and a pushed full reload would
  // navigate a page in the middle of a test (the watcher still keeps served modules fresh).
  server: { fs: { allow: [root] }, ws: false },
  // The fixture imports no npm packages; skip scanning the whole repository for them.
  optimizeDeps: { noDiscovery: true, include: [] },
  // package.json "imports" names files in dist/; the fixture runs the sources (as tsconfig.json's paths do).
  resolve: { alias: { "#fts-language-loader": `${root}src/fts/language-imports.ts` } },
});
