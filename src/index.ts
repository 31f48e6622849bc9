/**
 * quiverdb: the public surface. Everything supported is named here; what is not exported is internal.
 */
import { provideApacheArrow } from "./arrow/apache-arrow.js";
import { connect as openConnection, type Connection, type ConnectionOptions } from "./connection.js";
import { allowLocalModels } from "./rerank/local-models.js";
import type { BlobStore } from "./storage/blob-store.js";

// This thread may load transformers.js for embedding functions and cross-encoders (src/embeddings/local-models.ts).
allowLocalModels();

/**
 * Opens a database at `uri` (memory://, idb://, opfs://, a path, https://…), or on a BlobStore of
 * your own. On this thread, Arrow output (toArrow(), schema()) loads apache-arrow on first use.
 */
export function connect(uri: string | BlobStore, options?: ConnectionOptions): Promise<Connection> {
  provideApacheArrow();
  return openConnection(uri, options);
}
export { Connection } from "./connection.js";
export { Session, type SessionOptions, type MemoryStats } from "./session.js";
export type { CloneTableOptions, ConnectionOptions, CreateTableOptions, OpenTableOptions, TableNamesOptions } from "./connection.js";
export { Table } from "./table.js";
export type { AddOptions, AddResult, Data, DeleteResult, SchemaChangeResult, UpdateOptions, UpdateResult } from "./table.js";
// A sharded view loads on demand (db.openShardedTable); its class is exported as a type only.
export type { ShardedTable } from "./shard/sharded-table.js";
export type { OpenShardedTableOptions, ShardSpec } from "./shard/open.js";
export type { ShardManifest } from "./shard/manifest.js";
export type { IndexInfo, IndexStatistics, TableStatistics } from "./dataset/describe.js";
export type { CreateData } from "./connection.js";
export type { EncryptionOptions, EncryptionKeyInput } from "./storage/encryption-key.js";
export type { RekeyOptions } from "./table/rekey.js";
export type { BackupOptions, BackupSource, RestoreBackupOptions } from "./table/backup.js";
export type { StorageReport, TableStorage, VersionStorage } from "./table/storage-report.js";
export type { QueryExecutionOptions } from "./query/builder.js";
export type { WriteProgress } from "./table/writes.js";
export { Query, TakeQuery, VectorQuery } from "./query/builder.js";
export type { ColumnOrdering, DistanceType, QueryPlan, QueryVector, TakePlan, VectorPlan } from "./query/plan.js";
export { QuiverError, ERROR_CODES, isQuiverError } from "./errors.js";
export type { ErrorCode, QuiverErrorDetails } from "./errors.js";
export { DataTypes, field, schema, typeToString } from "./data/schema.js";
export type { DataType, Field, Schema, VectorElement } from "./data/schema.js";
export { inferSchema } from "./data/rows.js";
export type { Row } from "./data/rows.js";
export { loadKernels, registerWasmModule } from "./kernels/index.js";
export { openStore, MemoryStore, FsStore, IdbStore, OpfsStore, HttpStore } from "./storage/index.js";
export type { HttpStoreOptions } from "./storage/index.js";
export type { BlobStore, BlobInfo } from "./storage/blob-store.js";
export type { VersionInfo } from "./dataset/dataset.js";
export type { Tags, TagInfo } from "./dataset/tags.js";
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
export type { CreateIndexOptions } from "./table/vector-index.js";
export type { RecallEstimate, RecallOptions, TuneOptions, TuneResult } from "./table/recall.js";
export type { Kernels, KernelFlavor, PcaOptions, PcaResult } from "./kernels/index.js";
