import { existsSync } from "node:fs";
import { defineConfig } from "@playwright/test";

// QUIVER_TEST_PORT moves the fixture's server, so two checkouts' runs never share (and test) one server.
const PORT = Number(process.env.QUIVER_TEST_PORT ?? 5174);
// QUIVER_DEMO_PORT moves the demo's dev server, e.g. when another checkout's server holds 5173.
const DEMO_PORT = Number(process.env.QUIVER_DEMO_PORT ?? 5173);
// Debian's chromium by default; Playwright's own browser when that file does not exist.
const chromium = process.env.QUIVER_CHROMIUM ?? process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "test/browser",
  testMatch: "**/*.spec.ts",
  globalSetup: "./test/setup/build-wasm.ts",
  timeout: 30_000,
  fullyParallel: true,
  reporter: process.env.CI ? "line" : "list",
  use: {
    baseURL: `http://localhost:${PORT}`,
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: existsSync(chromium) ? chromium : undefined,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
      ],
    },
  },
  webServer: [
    {
      command: `npx vite --config test/browser/vite.config.ts --port ${PORT} --strictPort`,
      url: `http://localhost:${PORT}/test/browser/fixture/index.html`,
      reuseExistingServer: !process.env.CI,
      timeout: 30_000,
    },
    {
      // The web demo (vite.config.ts at the root), for test/browser/demo.spec.ts.
      command: `npx vite --port ${DEMO_PORT} --strictPort`,
      env: { QUIVER_DEMO_HMR: "0" },
      url: `http://localhost:${DEMO_PORT}/`,
      reuseExistingServer: !process.env.CI,
      timeout: 30_000,
    },
  ],
});
