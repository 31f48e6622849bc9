/**
 * How this thread loads transformers.js-backed embedding pipelines when it runs a model itself.
 * The main entry point ("quiverdb") and Node's worker scripts allow it; the browser worker script
 * does not, so a bundler building that worker (Vite's default worker format inlines every dynamic
 * import) leaves transformers.js out: a model used inside it runs in a nested worker of its own
 * (hf-worker.js), downloaded only then. Cross-encoders do the same (src/rerank/local-models.ts).
 */
export const localPipelines: { load?: () => Promise<typeof import("./hf-pipeline.js")> } = {};

/** Lets this thread run embedding models itself (see above). */
export function allowLocalPipelines(): void {
  localPipelines.load ??= () => import("./hf-pipeline.js");
}
