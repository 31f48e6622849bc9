/**
 * What `npm run bench -- storage` times in Chromium, on a page's main thread or in a dedicated
 * worker: ingest of glove-100d-100k into a table, and the cold open (connect + openTable + first
 * cosine top-10) of that table on a fresh page. The data comes from the bench's static server
 * (/data/*), written there by bench/storage.ts; nothing is timed until it is in memory.
 */
import { buildTable, queryTable, type BuildResult, type QueryResult } from "../encryption-tasks.js";
import { connect, DataTypes, field, openStore, schema, type BlobInfo, type BlobStore, type Row } from "../../src/index.js";

export const TABLE = "glove";
export const BATCH_ROWS = 10_000;

const context = typeof document === "undefined" ? "worker" : "main";

async function fetchBytes(path: string): Promise<ArrayBuffer> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

export async function loadQuery(): Promise<Float32Array> {
  return new Float32Array(await fetchBytes("/data/query.f32"));
}

async function loadRows(): Promise<{ rows: Row[]; dim: number }> {
  const [vectors, words, meta] = await Promise.all([
    fetchBytes("/data/base.f32").then((b) => new Float32Array(b)),
    fetchBytes("/data/words.txt").then((b) => new TextDecoder().decode(b).split("\n")),
    fetchBytes("/data/meta.json").then((b) => JSON.parse(new TextDecoder().decode(b)) as { n: number; dim: number }),
  ]);
  const { n, dim } = meta;
  const rows = Array.from({ length: n }, (_, i): Row => ({ id: i, word: words[i]!, vector: vectors.subarray(i * dim, (i + 1) * dim) }));
  return { rows, dim };
}

export interface StoreUse {
  calls: Record<string, number>;
  /** Bytes returned by get / getRange. */
  bytesRead: number;
  /** Summed duration of each kind of call (calls may overlap). */
  ms: Record<string, number>;
}

/** A BlobStore that counts what goes through it: which calls, how many bytes read, how long. */
function counting(inner: BlobStore, use: StoreUse): BlobStore {
  const timed = <T>(name: string, work: () => Promise<T>, bytes?: (r: T) => number): Promise<T> => {
    const t = performance.now();
    use.calls[name] = (use.calls[name] ?? 0) + 1;
    return work().then((r) => {
      use.ms[name] = (use.ms[name] ?? 0) + performance.now() - t;
      if (bytes) use.bytesRead += bytes(r);
      return r;
    });
  };
  return {
    get uri() { return inner.uri; },
    get readOnly() { return inner.readOnly; },
    get: (key) => timed("get", () => inner.get(key), (r) => r.length),
    getRange: (key, offset, length) => timed("getRange", () => inner.getRange(key, offset, length), (r) => r.length),
    head: (key) => timed("head", () => inner.head(key)),
    put: (key, data) => timed("put", () => inner.put(key, data)),
    putIfAbsent: (key, data) => timed("putIfAbsent", () => inner.putIfAbsent(key, data)),
    list: (prefix) => timed("list", () => inner.list(prefix)),
    delete: (key) => timed("delete", () => inner.delete(key)),
    close: () => inner.close(),
  };
}

export interface IngestResult {
  context: string;
  rows: number;
  ms: number;
  /** Bytes of the table's objects, as the store lists them. */
  bytes: number;
  files: number;
  /** navigator.storage.estimate().usage after the ingest (the whole origin). */
  originUsage?: number;
}

async function tableBytes(uri: string): Promise<{ bytes: number; files: number }> {
  const store = await openStore(uri);
  try {
    const list: BlobInfo[] = await store.list(`${TABLE}.quiver/`);
    return { bytes: list.reduce((s, b) => s + b.size, 0), files: list.length };
  } finally {
    await store.close();
  }
}

/** createTable + adds of all rows: in batches of BATCH_ROWS, or in one call. Timed from connect to the last commit. */
export async function ingest(uri: string, mode: "batched" | "single"): Promise<IngestResult> {
  const { rows, dim } = await loadRows();
  const tableSchema = schema([field("id", DataTypes.int32(), false), field("word", DataTypes.utf8()), field("vector", DataTypes.vector(dim))]);
  const t0 = performance.now();
  const db = await connect(uri);
  const first = mode === "single" ? rows.length : BATCH_ROWS;
  const table = await db.createTable(TABLE, rows.slice(0, first), { schema: tableSchema });
  for (let at = first; at < rows.length; at += BATCH_ROWS) await table.add(rows.slice(at, at + BATCH_ROWS));
  const ms = performance.now() - t0;
  const count = await table.countRows();
  await db.close();
  const estimate = await navigator.storage?.estimate?.();
  return { context, rows: count, ms, ...(await tableBytes(uri)), originUsage: estimate?.usage };
}

export interface ColdOpenResult {
  context: string;
  connect_ms: number;
  /** connect + openTable. */
  open_ms: number;
  first_query_ms: number;
  total_ms: number;
  /** A second query on the now-open table. */
  warm_query_ms: number;
  ids: number[];
  store?: StoreUse;
}

/** connect + openTable + one cosine top-10, timed; `profile` counts the store calls (adds a little overhead). */
export async function coldOpen(uri: string, profile = false): Promise<ColdOpenResult> {
  const query = await loadQuery();
  const use: StoreUse = { calls: {}, bytesRead: 0, ms: {} };
  const t0 = performance.now();
  const db = await connect(profile ? counting(await openStore(uri), use) : uri);
  const t1 = performance.now();
  const table = await db.openTable(TABLE);
  const t2 = performance.now();
  const hits = await table.search(query).distanceType("cosine").limit(10).toArray();
  const t3 = performance.now();
  await table.search(query).distanceType("cosine").limit(10).toArray();
  const t4 = performance.now();
  await db.close();
  return {
    context, connect_ms: t1 - t0, open_ms: t2 - t0, first_query_ms: t3 - t2, total_ms: t3 - t0, warm_query_ms: t4 - t3,
    ids: hits.map((h) => h.id as number), store: profile ? use : undefined,
  };
}

/** bench/encryption.ts: builds the table (plain or encrypted) from /data/base.f32. */
async function encryptionBuild(uri: string, encrypted: boolean): Promise<BuildResult> {
  const [vectors, words, meta] = await Promise.all([
    fetchBytes("/data/base.f32").then((b) => new Float32Array(b)),
    fetchBytes("/data/words.txt").then((b) => new TextDecoder().decode(b).split("\n")),
    fetchBytes("/data/meta.json").then((b) => JSON.parse(new TextDecoder().decode(b)) as { dim: number }),
  ]);
  return buildTable(uri, encrypted, vectors, words, meta.dim);
}

/** bench/encryption.ts: cold open, exact and indexed search over /data/queries.f32, backup and restore. */
async function encryptionQuery(uri: string, encrypted: boolean, restoreUri: string): Promise<QueryResult> {
  const [queries, meta] = await Promise.all([
    fetchBytes("/data/queries.f32").then((b) => new Float32Array(b)),
    fetchBytes("/data/meta.json").then((b) => JSON.parse(new TextDecoder().decode(b)) as { dim: number }),
  ]);
  return queryTable(uri, encrypted, queries, meta.dim, restoreUri);
}

export const tasks = { ingest, coldOpen, encryptionBuild, encryptionQuery };
export type Tasks = typeof tasks;
