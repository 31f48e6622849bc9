/**
 * quiverdb: the public surface. Everything supported is named here; what is not exported is internal.
 */
export { connect, Connection } from "./connection.js";
export type { ConnectionOptions, CreateTableOptions, OpenTableOptions, TableNamesOptions } from "./connection.js";
export { Table } from "./table.js";
export type { AddOptions, AddResult, DeleteResult, UpdateOptions, UpdateResult } from "./table.js";
export type { WriteProgress } from "./table/writes.js";
export { Query, VectorQuery } from "./query/builder.js";
export type { DistanceType, QueryPlan, QueryVector, VectorPlan } from "./query/plan.js";
export { QuiverError, ERROR_CODES, isQuiverError } from "./errors.js";
export type { ErrorCode, QuiverErrorDetails } from "./errors.js";
export { DataTypes, field, schema, typeToString } from "./data/schema.js";
export type { DataType, Field, Schema, VectorElement } from "./data/schema.js";
export { inferSchema } from "./data/rows.js";
export type { Row } from "./data/rows.js";
export { loadKernels, registerWasmModule } from "./kernels/index.js";
export { openStore, MemoryStore, FsStore, IdbStore, OpfsStore, HttpStore } from "./storage/index.js";
export type { BlobStore, BlobInfo } from "./storage/blob-store.js";
export type { VersionInfo } from "./table/dataset.js";
export type { Tags, TagInfo } from "./table/tags.js";
export type { MergeInsertBuilder, MergeResult } from "./table/merge-insert.js";
export type { OptimizeOptions, OptimizeStats } from "./table/optimize.js";
export type { AddColumnsSql, ColumnAlteration } from "./table/schema-ops.js";
export { Index } from "./indexes/config.js";
export * as rerankers from "./rerank/index.js";
export type { Reranker, RerankInputRow, RerankedRow } from "./rerank/index.js";
export type { FtsIndexConfig, FtsIndexOptions } from "./indexes/config.js";
export type { FullTextPlan, RerankSpec } from "./query/plan.js";
export type { TextQueryType } from "./query/builder.js";
export * as embedding from "./embeddings/index.js";
export { getRegistry } from "./embeddings/index.js";
export type { EmbeddingFunction, EmbeddingFunctionConfig } from "./embeddings/index.js";
export { splitText, chunkDocuments, RecursiveTextSplitter } from "./chunking/index.js";
export type { ChunkDocumentsOptions, ChunkRow, TextChunk, TextSplitterOptions } from "./chunking/index.js";
export type { IndexConfig, VectorIndexConfig, IvfOptions, IvfPqOptions, HnswOptions, HnswPqOptions } from "./indexes/config.js";
export type { CreateIndexOptions, IndexInfo, IndexStatistics } from "./table/vector-index.js";
export type { RecallEstimate, RecallOptions, TuneOptions, TuneResult } from "./table/recall.js";
export type { Kernels, KernelFlavor } from "./kernels/index.js";
