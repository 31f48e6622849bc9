/**
 * Starts src/worker/node-worker.ts in a Node worker_threads Worker straight from the TypeScript
 * sources: the worker registers tsx's loader, then imports the entry. (A `.ts` main file with
 * `execArgv: ["--import", "tsx"]` is refused by Node 20 before the loader runs.)
 */
import { Worker } from "node:worker_threads";

const tsx = new URL("../../node_modules/tsx/dist/esm/api/index.mjs", import.meta.url).href;
const entry = new URL("../../src/worker/node-worker.ts", import.meta.url).href;

export function startTsWorker(script = entry): Worker {
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(script)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { name: "quiverdb-test" });
}
