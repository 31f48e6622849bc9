/**
 * The scan pool's worker script for browsers and Deno (a module worker); see pool.ts.
 * Started by `createScanPool()`, never by hand.
 */
import { servePool } from "./scan.js";

servePool();
