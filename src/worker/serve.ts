/**
 * quiverdb/worker/serve: for worker scripts of your own. `startWorker()` runs a script that only
 * serves the Quiver API; write your own to register embedding functions first (an embedding
 * function crosses the hop as its saved config and is rebuilt by the worker's registry), then hand
 * that worker to `connectWorker(uri, { worker })`:
 *
 *   // my-db.worker.ts
 *   import { getRegistry } from "quiverdb";
 *   import { serve } from "quiverdb/worker/serve";
 *   getRegistry().register("my-model", { create: (o) => new MyModel(o) });
 *   serve();
 *
 *   // the page
 *   const worker = new Worker(new URL("./my-db.worker.ts", import.meta.url), { type: "module" });
 *   const db = await connectWorker("opfs://notes", { worker });
 *
 * An entry of its own: pages that only connect never bundle the database through it.
 */
export { serve, QuiverService } from "./service.js";
