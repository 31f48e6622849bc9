/**
 * quiverdb/langchain: Quiver as a LangChain.js vector store. An entry of its own, so the core does
 * not carry it; it needs `@langchain/core` (an optional peer dependency).
 */
export { QuiverVectorStore, type QuiverVectorStoreArgs, type VectorStoreTable } from "./vector-store.js";
export { QuiverEmbeddings } from "./embeddings.js";
export { filterToWhere, type MetadataFilter } from "./filter.js";
