import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // package.json "imports" names files in dist/; the tests run the sources (as tsconfig.json's paths do).
  resolve: { alias: { "#fts-language-loader": fileURLToPath(new URL("src/fts/language-imports.ts", import.meta.url)) } },
  test: {
    include: ["test/unit/**/*.test.ts", "test/runtimes/**/*.test.ts"],
    globalSetup: ["test/setup/build-wasm.ts"],
    setupFiles: ["test/setup/local-models.ts"],
    testTimeout: 60_000,
  },
});
