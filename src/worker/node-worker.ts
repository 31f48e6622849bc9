/**
 * The worker script for Node's worker_threads: serves the Quiver API on `parentPort`.
 * Started by `startWorker()` / `connectWorker()` from "quiverdb/worker" under Node.
 */
import { parentPort } from "node:worker_threads";
import { toEndpoint } from "../util/worker-endpoint.js";
import { serve } from "./service.js";

if (parentPort === null) throw new Error("node-worker.js runs as a worker_threads Worker, not as a main script.");
serve(toEndpoint(parentPort));
