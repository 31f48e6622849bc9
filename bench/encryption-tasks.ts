/**
 * What bench/encryption.ts times, the same code in Node (fs, memory) and in Chromium (OPFS, through
 * bench/storage-page): one table of glove-100d-100k, plain or encrypted (AES-256-GCM, raw key), its
 * ingest, IVF-PQ build, cold open → first exact answer, exact and indexed search, and a backup of it
 * restored into a fresh database.
 */
import { connect, DataTypes, field, Index, schema, type Row } from "../src/index.js";

export const ENC_TABLE = "glove";
const KEY = new Uint8Array(32).fill(0x5a);
const K = 10;

export interface BuildResult { ingest_ms: number; index_ms: number; rows: number }
export interface QueryResult {
  cold_open_ms: number;
  exact_ms: number[];
  indexed_ms: number[];
  exact_ids: number[][];
  indexed_ids: number[][];
  backup_ms: number;
  backup_bytes: number;
  restore_ms: number;
  restored_rows: number;
}

const options = (encrypted: boolean) => (encrypted ? { encryption: { key: KEY } } : {});

export async function buildTable(uri: string, encrypted: boolean, vectors: Float32Array, words: string[], dim: number): Promise<BuildResult> {
  const n = vectors.length / dim;
  const rows = Array.from({ length: n }, (_, i): Row => ({ id: i, word: words[i] ?? "", vector: vectors.subarray(i * dim, (i + 1) * dim) }));
  const tableSchema = schema([field("id", DataTypes.int32(), false), field("word", DataTypes.utf8()), field("vector", DataTypes.vector(dim))]);
  const t0 = performance.now();
  const db = await connect(uri, options(encrypted));
  const table = await db.createTable(ENC_TABLE, rows, { schema: tableSchema });
  const t1 = performance.now();
  await table.createIndex("vector", { config: Index.ivfPq({ numPartitions: 256, numSubVectors: 25, distanceType: "cosine" }) });
  const t2 = performance.now();
  const count = await table.countRows();
  await db.close();
  return { ingest_ms: t1 - t0, index_ms: t2 - t1, rows: count };
}

export async function queryTable(uri: string, encrypted: boolean, queries: Float32Array, dim: number, restoreUri: string): Promise<QueryResult> {
  const nq = queries.length / dim;
  const q = (i: number) => queries.subarray(i * dim, (i + 1) * dim);
  const t0 = performance.now();
  const db = await connect(uri, options(encrypted));
  const table = await db.openTable(ENC_TABLE);
  await table.search(q(0)).distanceType("cosine").bypassVectorIndex().limit(K).toArray();
  const cold = performance.now() - t0;
  const exact_ms: number[] = [];
  const exact_ids: number[][] = [];
  for (let i = 0; i < nq; i++) {
    const s = performance.now();
    const hits = await table.search(q(i)).distanceType("cosine").bypassVectorIndex().limit(K).toArray();
    exact_ms.push(performance.now() - s);
    exact_ids.push(hits.map((h) => h.id as number));
  }
  const indexed_ms: number[] = [];
  const indexed_ids: number[][] = [];
  for (let i = 0; i < nq; i++) {
    const s = performance.now();
    const hits = await table.search(q(i)).distanceType("cosine").nprobes(20).refineFactor(10).limit(K).toArray();
    indexed_ms.push(performance.now() - s);
    indexed_ids.push(hits.map((h) => h.id as number));
  }
  const b0 = performance.now();
  const archive = await table.backup();
  const backup_ms = performance.now() - b0;
  await db.close();
  const r0 = performance.now();
  const target = await connect(restoreUri, options(encrypted));
  const restored = await target.restoreBackup(archive, { name: ENC_TABLE });
  const restore_ms = performance.now() - r0;
  const restored_rows = await restored.countRows();
  await target.close();
  return { cold_open_ms: cold, exact_ms, indexed_ms, exact_ids, indexed_ids, backup_ms, backup_bytes: archive.size, restore_ms, restored_rows };
}
