// The demo's database worker: Quiver's own worker API (quiverdb/worker), plus the Universal
// Sentence Encoder registered as "use", so tables that embed with it are created and reopened here.
import { getRegistry } from "quiverdb";
import { serve } from "quiverdb/worker/serve";
import { BrowserUse, type BrowserUseOptions } from "./lib/use-encoder.js";

getRegistry().register<BrowserUseOptions>("use", { create: (options) => new BrowserUse(options) }, { replace: true });
serve();
