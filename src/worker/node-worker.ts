/**
 * The worker script for Node's worker_threads: serves the Quiver API on `parentPort`.
 * Started by `startWorker()` / `connectWorker()` from "quiverdb/worker" under Node.
 */
import { parentPort } from "node:worker_threads";
import { toEndpoint } from "../util/worker-endpoint.js";
import { allowLocalModels } from "../rerank/local-models.js";
import { serve } from "./service.js";

// Node has no bundle to keep small: models run in this worker thread.
allowLocalModels();

if (parentPort === null) throw new Error("node-worker.js runs as a worker_threads Worker, not as a main script.");
serve(toEndpoint(parentPort));
