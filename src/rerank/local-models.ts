/**
 * How this thread loads transformers.js-backed cross-encoders when it scores itself: allowed by
 * the main entry point and Node's worker scripts, not by the browser worker script (see
 * src/embeddings/local-models.ts for why); there a cross-encoder runs in a nested worker.
 */
import { allowLocalPipelines } from "../embeddings/local-models.js";

export const localCrossEncoders: { load?: () => Promise<typeof import("./cross-encoder-model.js")> } = {};

/** Lets this thread run embedding models and cross-encoders itself. */
export function allowLocalModels(): void {
  allowLocalPipelines();
  localCrossEncoders.load ??= () => import("./cross-encoder-model.js");
}
