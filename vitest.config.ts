import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts", "test/runtimes/**/*.test.ts"],
    globalSetup: ["test/setup/build-wasm.ts"],
    setupFiles: ["test/setup/local-models.ts"],
    testTimeout: 60_000,
  },
});
