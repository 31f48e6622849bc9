/**
 * Unit tests import modules below the "quiverdb" entry point, which is what lets a thread run
 * transformers.js models itself (src/embeddings/local-models.ts); allow it as the entry would.
 */
import { allowLocalModels } from "../../src/rerank/local-models.js";

allowLocalModels();
