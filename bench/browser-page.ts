/**
 * What the Chromium parts of the benchmarks share: a static server for a `vite build` of a bench
 * page plus its data files (under /data/), and Chromium launched as playwright.config.ts launches it.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join } from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
  ".json": "application/json", ".txt": "text/plain", ".css": "text/css",
};

/**
 * `vite build` of the bench page in `pageDir` into `site` (minified unless `minify` is false, e.g.
 * so a CPU profile names functions; module workers). `alias` maps bare imports such as "quiverdb"
 * to the sources.
 */
export async function buildBenchPage(pageDir: string, site: string, alias: { find: RegExp; replacement: string }[] = [], minify = true): Promise<void> {
  const vite = await import("vite");
  await vite.build({
    root: pageDir, configFile: false, logLevel: "warn", base: "/",
    ...(alias.length > 0 ? { resolve: { alias } } : {}),
    build: { outDir: site, emptyOutDir: true, target: "esnext", minify, reportCompressedSize: false },
    worker: { format: "es" },
  });
}

/**
 * Serves the built page from `site` and the data files from `data` under /data/, with `headers` on
 * every response (e.g. COOP/COEP, which make the page crossOriginIsolated). `port` 0 (default): any
 * free port; a fixed one keeps the origin, and so its OPFS and IndexedDB, from run to run.
 */
export function staticServer(site: string, data: string, headers: Record<string, string> = {}, port = 0): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = path.startsWith("/data/") ? join(data, path.slice(6)) : join(site, path === "/" ? "index.html" : path);
    if (!file.startsWith(data) && !file.startsWith(site)) return void res.writeHead(403).end();
    if (!existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end();
    res.writeHead(200, { ...headers, "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
    res.end(readFileSync(file));
  });
  return new Promise((ok, fail) => server.once("error", fail).listen(port, "127.0.0.1", () => {
    const address = server.address() as { port: number };
    ok({ server, origin: `http://127.0.0.1:${address.port}` });
  }));
}

/** Launch options of playwright.config.ts (executable and flags), so the bench runs the browser the tests run. */
export async function playwrightLaunchOptions(): Promise<{ executablePath?: string; args?: string[] }> {
  const config = (await import("../playwright.config.js")).default as { use?: { launchOptions?: { executablePath?: string; args?: string[] } } };
  const options = config.use?.launchOptions ?? {};
  if (options.executablePath === undefined && !existsSync((await import("@playwright/test")).chromium.executablePath())) {
    // As `npm test` says (scripts/test.mjs), instead of Playwright's "run npx playwright install", which cannot download here.
    throw new Error("The browser benchmarks need Chromium, and none was found: `sudo apt-get install -y chromium` (Debian/Ubuntu), "
      + "or QUIVER_CHROMIUM=/path/to/chrome, or `npx playwright install chromium`.");
  }
  return options;
}
