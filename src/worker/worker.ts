/**
 * The dedicated worker script for browsers and Deno: serves the Quiver API on this worker's
 * global scope. Started by `startWorker()` / `connectWorker()` from "quiverdb/worker".
 */
import { serve } from "./service.js";

serve();
