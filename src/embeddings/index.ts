/**
 * Embedding functions: the contract, the registry, the built-ins ("huggingface", "openai"), batching
 * with a cache, and the helpers a table uses to embed rows and queries and to save its config.
 * Exported from the package as the `embedding` namespace (LanceDB: `lancedb.embedding`).
 */
export type {
  EmbeddingFunction, EmbeddingFunctionConfig, EmbeddingFunctionFactory, EmbeddingFunctionJSON,
  EmbeddingProgress, SerializedEmbeddingConfig,
} from "./types.js";
export { EmbeddingFunctionRegistry, getRegistry } from "./registry.js";
export { BatchedEmbeddingFunction, withBatching } from "./batched.js";
export type { BatchingOptions, BatchingStats, EmbedOptions } from "./batched.js";
export { EmbeddingCache, defaultEmbeddingCache } from "./cache.js";
export type { EmbeddingCacheOptions, EmbeddingCacheStats } from "./cache.js";
export { HuggingFaceEmbeddingFunction } from "./huggingface.js";
export type { HuggingFaceOptions, ModelLoadProgress } from "./huggingface.js";
export { OpenAIEmbeddingFunction } from "./openai.js";
export type { OpenAIOptions } from "./openai.js";
export {
  EMBEDDING_CONFIG_KEY, batchedFunction, checkEmbeddingConfig, embedQuery, embedRows, embeddingDimension,
  restoreEmbeddingConfig, serializeEmbeddingConfig,
} from "./table-embeddings.js";
export type { EmbedRowsOptions, ResolvedEmbeddingConfig, RestoreOptions } from "./table-embeddings.js";
