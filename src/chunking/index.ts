/** Text chunking for RAG ingestion: long documents → rows of chunks with source ids and offsets. */
export { DEFAULT_SEPARATORS, RecursiveTextSplitter, chunkDocuments, splitText } from "./text-splitter.js";
export type { ChunkDocumentsOptions, ChunkRow, TextChunk, TextSplitterOptions } from "./text-splitter.js";
