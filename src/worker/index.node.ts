/**
 * quiverdb/worker under Node (the "node" export condition): the same API as index.ts, with the
 * database in a `worker_threads` Worker.
 */
import { Worker } from "node:worker_threads";
import { connectThrough, type RemoteConnection, type WorkerConnectionOptions } from "./client.js";

/** Starts a worker thread running Quiver. End it with `terminate()` once its connections are closed. */
export function startWorker(): Worker {
  return new Worker(new URL("./node-worker.js", import.meta.url), { name: "quiverdb" });
}

/** `connect(uri, options)` with the database in a worker thread (by default a new one, ended by `close()`). */
export function connectWorker(uri: string, options: WorkerConnectionOptions = {}): Promise<RemoteConnection> {
  return connectThrough(uri, options, startWorker);
}

export { RemoteConnection, RemoteTable } from "./client.js";
export type { TagsApi, WorkerConnectionOptions } from "./client.js";
export type { NodeWorkerLike, WorkerLike } from "../util/worker-endpoint.js";
