/**
 * quiverdb/worker/serve under Node (the "node" export condition): `serve()` in a worker_threads
 * Worker of your own serves the Quiver API on its `parentPort` (see serve.ts).
 */
import { parentPort } from "node:worker_threads";
import type { Endpoint } from "comlink";
import { createError } from "../errors.js";
import { toEndpoint } from "../util/worker-endpoint.js";
import { serve as serveOn, type QuiverService } from "./service.js";
import { allowLocalModels } from "../rerank/local-models.js";

// Node has no bundle to keep small: models run in this worker thread.
allowLocalModels();

export { QuiverService } from "./service.js";

/** Serves the Quiver API on `endpoint`, by default this worker thread's `parentPort`. */
export function serve(endpoint?: Endpoint): QuiverService {
  if (endpoint === undefined && parentPort === null) throw createError("INVALID_ARGUMENT", "serve() without an endpoint must run inside a worker_threads Worker.");
  return serveOn(endpoint ?? toEndpoint(parentPort!));
}
