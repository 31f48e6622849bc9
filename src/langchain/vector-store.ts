/**
 * `QuiverVectorStore`: a LangChain.js vector store on a Quiver table, so `asRetriever()` plugs
 * Quiver into RAG chains. A document is one row:
 *
 *   id (utf8) │ text (utf8) │ vector (float32 × dim) │ metadata (utf8: the whole metadata as JSON) │ <key> … │
 *
 * `metadata` keeps every document's metadata exactly (nested values too). Besides, each top-level
 * metadata value that is a string, number or boolean gets a column of its own, named by its key,
 * so filters run as `where` over real columns (a key first seen in a later batch adds a column).
 * Keys that clash with the store's own columns live in the JSON only.
 */
import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { maximalMarginalRelevance } from "@langchain/core/utils/math";
import { VectorStore, type MaxMarginalRelevanceSearchOptions } from "@langchain/core/vectorstores";
import { connect, type Connection } from "../connection.js";
import { createError } from "../errors.js";
import { inferSchema, type Row } from "../data/rows.js";
import type { DataType, Schema } from "../data/schema.js";
import type { DistanceType } from "../query/plan.js";
import type { Table } from "../table.js";
import type { RemoteConnection } from "../worker/client.js";
import { filterToWhere, quoteName, sqlLiteral, type MetadataFilter } from "./filter.js";

/** What the store uses of a table: a `Table`, or a `RemoteTable` from `quiverdb/worker`. */
export type VectorStoreTable = Pick<Table, "name" | "add" | "delete" | "search" | "quiverSchema" | "addColumns" | "countRows">;
type AnyConnection = Pick<Connection | RemoteConnection, "tableNames" | "openTable" | "createTable" | "close">;

export interface QuiverVectorStoreArgs {
  /** An open table to use. Or give `connection` (or `uri`) and `tableName`. */
  table?: VectorStoreTable;
  /** Where the table is (or will be created on the first add). */
  connection?: AnyConnection;
  /** A database URI for `connect()`; the store then owns the connection (`close()` closes it). */
  uri?: string;
  /** Default "vectors". */
  tableName?: string;
  /** "overwrite": the first add replaces the table's contents (`fromTexts` / `fromDocuments` with a fresh set); default "create" adds to an existing table. */
  mode?: "create" | "overwrite";
  /** Distance for searches: "cosine" (default), "l2" or "dot". The score of a result is its `_distance` (lower is closer). */
  distanceType?: Exclude<DistanceType, "hamming">;
  /** Column names; defaults "id", "text", "vector", "metadata". */
  idKey?: string;
  textKey?: string;
  vectorKey?: string;
  metadataKey?: string;
}

/** The column type a metadata value would get, for the check before anything is written. */
function kindOf(value: unknown): "utf8" | "number" | "bool" | undefined {
  return typeof value === "string" ? "utf8" : typeof value === "number" ? "number" : typeof value === "boolean" ? "bool" : undefined;
}

function accepts(type: DataType, kind: "utf8" | "number" | "bool"): boolean {
  if (kind === "utf8") return type.kind === "utf8";
  if (kind === "bool") return type.kind === "bool";
  return type.kind === "int" || type.kind === "float";
}

export class QuiverVectorStore extends VectorStore {
  declare FilterType: MetadataFilter;

  #table: VectorStoreTable | undefined;
  #connection: AnyConnection | undefined;
  readonly #ownsConnection: boolean;
  /** Set by mode "overwrite" until the first add has replaced the table. */
  #overwrite: boolean;
  readonly #args: QuiverVectorStoreArgs;
  readonly #keys: { id: string; text: string; vector: string; metadata: string };

  _vectorstoreType(): string {
    return "quiverdb";
  }

  constructor(embeddings: EmbeddingsInterface, args: QuiverVectorStoreArgs) {
    super(embeddings, args as Record<string, unknown>);
    if (args.table === undefined && args.connection === undefined && args.uri === undefined) {
      throw createError("INVALID_ARGUMENT", "QuiverVectorStore needs a table, a connection (with tableName) or a uri (with tableName).");
    }
    const distance = args.distanceType ?? "cosine";
    if (!["cosine", "l2", "dot"].includes(distance)) throw createError("INVALID_ARGUMENT", `distanceType must be "cosine", "l2" or "dot", got ${JSON.stringify(distance)}.`);
    this.#args = { ...args, distanceType: distance };
    this.#table = args.table;
    this.#connection = args.connection;
    this.#ownsConnection = args.table === undefined && args.connection === undefined;
    if (args.mode !== undefined && args.mode !== "create" && args.mode !== "overwrite") throw createError("INVALID_ARGUMENT", `mode must be "create" or "overwrite", got ${JSON.stringify(args.mode)}.`);
    if (args.mode === "overwrite" && args.table !== undefined) throw createError("INVALID_ARGUMENT", "mode \"overwrite\" needs a connection or uri and a tableName, not an open table.");
    this.#overwrite = args.mode === "overwrite";
    this.#keys = { id: args.idKey ?? "id", text: args.textKey ?? "text", vector: args.vectorKey ?? "vector", metadata: args.metadataKey ?? "metadata" };
  }

  /** The table, opened (or created by the first add) on demand; undefined while it does not exist. */
  async table(): Promise<VectorStoreTable | undefined> {
    if (this.#table !== undefined) return this.#table;
    const db = await this.#db();
    const name = this.#args.tableName ?? "vectors";
    if ((await db.tableNames()).includes(name)) this.#table = await db.openTable(name);
    return this.#table;
  }

  async #db(): Promise<AnyConnection> {
    this.#connection ??= await connect(this.#args.uri!);
    return this.#connection;
  }

  /** Closes the connection the store opened from `uri` (a table or connection passed in is the caller's). */
  async close(): Promise<void> {
    if (this.#ownsConnection) await this.#connection?.close();
  }

  async addDocuments(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /** Adds documents with their vectors; returns their ids (`options.ids`, else each document's `id`, else new UUIDs). */
  async addVectors(vectors: number[][], documents: DocumentInterface[], options: { ids?: string[] } = {}): Promise<string[]> {
    if (vectors.length !== documents.length) {
      throw createError("INVALID_ARGUMENT", `addVectors() got ${vectors.length} vectors for ${documents.length} documents.`);
    }
    if (options.ids !== undefined && options.ids.length !== documents.length) {
      throw createError("INVALID_ARGUMENT", `addVectors() got ${options.ids.length} ids for ${documents.length} documents.`);
    }
    if (documents.length === 0) return [];
    const k = this.#keys;
    const reserved = new Set(Object.values(k));
    const ids = documents.map((d, i) => options.ids?.[i] ?? d.id ?? crypto.randomUUID());
    const rows: Row[] = documents.map((d, i) => {
      const metadata = d.metadata ?? {};
      const row: Row = { [k.id]: ids[i]!, [k.text]: d.pageContent, [k.vector]: vectors[i]!, [k.metadata]: JSON.stringify(metadata) };
      for (const [key, value] of Object.entries(metadata)) if (!reserved.has(key) && kindOf(value) !== undefined) row[key] = value;
      return row;
    });
    const table = this.#overwrite ? undefined : await this.table();
    if (table === undefined) {
      const db = await this.#db();
      this.#table = await db.createTable(this.#args.tableName ?? "vectors", rows, { mode: this.#overwrite ? "overwrite" : "create" });
      this.#overwrite = false;
      return ids;
    }
    await this.#addMetadataColumns(table, rows, reserved);
    await table.add(rows);
    return ids;
  }

  /**
   * Adds a column for each metadata key the table does not have yet — after checking every value of
   * the known keys fits its column, so a batch that will be refused changes nothing.
   */
  async #addMetadataColumns(table: VectorStoreTable, rows: readonly Row[], reserved: ReadonlySet<string>): Promise<void> {
    const schema: Schema = await table.quiverSchema();
    const types = new Map(schema.fields.map((f) => [f.name, f.type] as const));
    const fresh = new Set<string>();
    for (const row of rows) {
      for (const [key, value] of Object.entries(row)) {
        if (reserved.has(key)) continue;
        const type = types.get(key);
        if (type === undefined) fresh.add(key);
        else if (!accepts(type, kindOf(value)!)) {
          throw createError("SCHEMA_MISMATCH", `Metadata "${key}" is a ${typeof value} here, but its column holds ${type.kind} values.`, { column: key });
        }
      }
    }
    if (fresh.size === 0) return;
    const samples = [...fresh].map((key) => ({ [key]: rows.find((r) => r[key] !== undefined)![key] }));
    await table.addColumns(samples.map((s) => inferSchema([s]).fields[0]!));
  }

  async #rows(query: number[], k: number, filter: MetadataFilter | undefined, withVector: boolean): Promise<Row[]> {
    const table = await this.table();
    if (table === undefined) return [];
    const where = filterToWhere(filter);
    const keys = this.#keys;
    let q = table.search(query).distanceType(this.#args.distanceType!).limit(k)
      .select([keys.id, keys.text, keys.metadata, ...(withVector ? [keys.vector] : [])]);
    if (where !== undefined) q = q.where(where);
    return q.toArray();
  }

  #document(row: Row): DocumentInterface {
    const k = this.#keys;
    const json = row[k.metadata];
    return new Document({ pageContent: String(row[k.text] ?? ""), metadata: typeof json === "string" ? JSON.parse(json) as Record<string, unknown> : {}, id: String(row[k.id]) });
  }

  /** The `k` nearest documents with their `_distance` (lower is closer), filtered by metadata. */
  async similaritySearchVectorWithScore(query: number[], k: number, filter?: MetadataFilter): Promise<[DocumentInterface, number][]> {
    const rows = await this.#rows(query, k, filter, false);
    return rows.map((r) => [this.#document(r), r._distance as number]);
  }

  /**
   * Maximal marginal relevance: fetches `fetchK` (default 20) nearest documents, then picks `k`
   * (default 4) of them trading closeness to the query against difference from those already
   * picked (`lambda`: 1 = closeness only, 0 = diversity only; default 0.5).
   */
  override async maxMarginalRelevanceSearch(query: string, options: MaxMarginalRelevanceSearchOptions<MetadataFilter>): Promise<DocumentInterface[]> {
    const k = options.k ?? 4;
    const fetchK = Math.max(k, options.fetchK ?? 20);
    const embedded = await this.embeddings.embedQuery(query);
    const rows = await this.#rows(embedded, fetchK, options.filter, true);
    const vectors = rows.map((r) => Array.from(r[this.#keys.vector] as ArrayLike<number>));
    const picked = maximalMarginalRelevance(embedded, vectors, options.lambda ?? 0.5, k);
    return picked.map((i) => this.#document(rows[i]!));
  }

  /** Deletes documents by `ids`, by metadata `filter`, or both (rows matching both). */
  override async delete(params: { ids?: readonly string[]; filter?: MetadataFilter } = {}): Promise<void> {
    const clauses: string[] = [];
    if (params.ids !== undefined) {
      if (params.ids.length === 0) return;
      clauses.push(`${quoteName(this.#keys.id)} IN (${params.ids.map((id) => sqlLiteral(id, this.#keys.id)).join(", ")})`);
    }
    const where = filterToWhere(params.filter);
    if (where !== undefined) clauses.push(`(${where})`);
    if (clauses.length === 0) throw createError("INVALID_ARGUMENT", "delete() needs ids or a filter (to remove every document, pass filter: \"true\").");
    const table = await this.table();
    if (table !== undefined) await table.delete(clauses.join(" AND "));
  }

  static override async fromTexts(texts: string[], metadatas: object[] | object, embeddings: EmbeddingsInterface, args: QuiverVectorStoreArgs): Promise<QuiverVectorStore> {
    const docs = texts.map((text, i) => new Document({ pageContent: text, metadata: (Array.isArray(metadatas) ? metadatas[i] : metadatas) as Record<string, unknown> ?? {} }));
    return QuiverVectorStore.fromDocuments(docs, embeddings, args);
  }

  static override async fromDocuments(docs: DocumentInterface[], embeddings: EmbeddingsInterface, args: QuiverVectorStoreArgs): Promise<QuiverVectorStore> {
    const store = new QuiverVectorStore(embeddings, args);
    await store.addDocuments(docs);
    return store;
  }

  /** A store over a table that exists already: TABLE_NOT_FOUND if it does not. */
  static async fromExistingIndex(embeddings: EmbeddingsInterface, args: QuiverVectorStoreArgs): Promise<QuiverVectorStore> {
    const store = new QuiverVectorStore(embeddings, args);
    if ((await store.table()) === undefined) {
      throw createError("TABLE_NOT_FOUND", `No table "${args.tableName ?? "vectors"}" for QuiverVectorStore.fromExistingIndex().`);
    }
    return store;
  }
}
