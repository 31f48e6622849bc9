/**
 * The scan pool's worker script for Node's worker_threads; see pool.ts.
 * Started by `createScanPool()`, never by hand.
 */
import { parentPort } from "node:worker_threads";
import { toEndpoint } from "../util/worker-endpoint.js";
import { servePool } from "./scan.js";

if (parentPort === null) throw new Error("pool-node-worker.js runs as a worker_threads Worker, not as a main script.");
servePool(toEndpoint(parentPort));
