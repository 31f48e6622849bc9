// Serves the browser-test fixture with TypeScript straight from src/. The root is the repository,
// so /build/*.wasm resolves exactly as `new URL("../../build/…", import.meta.url)` expects.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL("../..", import.meta.url));

export default defineConfig({
  root,
  logLevel: "warn",
  clearScreen: false,
  server: { fs: { allow: [root] } },
  // The fixture imports no npm packages; skip scanning the whole repository for them.
  optimizeDeps: { noDiscovery: true, include: [] },
});
