/**
 * quiverdb/worker: the same Connection and Table API, with the database inside a dedicated worker,
 * so scans, searches and writes never block the page.
 *
 *   import { connectWorker } from "quiverdb/worker";
 *   const db = await connectWorker("opfs://notes");       // starts a module worker; db.close() ends it
 *   const tbl = await db.openTable("docs");
 *   const hits = await tbl.search(vec).where("year > 2020").limit(10).toArray();
 *
 * Query vectors move to the worker and result vectors move back (transferred, not copied); errors
 * arrive as QuiverError with their `code` and `details`. Several connections can share one worker:
 * `const worker = startWorker(); connectWorker(a, { worker }); connectWorker(b, { worker })`.
 * This is the browser (and Deno) entry; Node gets index.node.ts through the "node" export condition.
 */
import { connectThrough, type RemoteConnection, type WorkerConnectionOptions } from "./client.js";

/** Starts a dedicated module worker running Quiver. Bundlers (Vite, webpack, esbuild) emit its script. */
export function startWorker(): Worker {
  return new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "quiverdb" });
}

/** `connect(uri, options)` with the database in a worker (by default a new one, ended by `close()`). */
export function connectWorker(uri: string, options: WorkerConnectionOptions = {}): Promise<RemoteConnection> {
  return connectThrough(uri, options, startWorker);
}

export { RemoteConnection, RemoteTable } from "./client.js";
export type { TagsApi, WorkerConnectionOptions } from "./client.js";
export type { NodeWorkerLike, WorkerLike } from "../util/worker-endpoint.js";
