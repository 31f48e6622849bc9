/**
 * The embedding function contract (LanceDB's shape, no decorators) and the config a table keeps.
 *
 * A function turns text into vectors. A table holds `{ sourceColumn, vectorColumn, function }`: on `add`
 * it fills `vectorColumn` from `sourceColumn`, on a text `search` it embeds the query. The function's
 * `toJSON()` is saved with the table so `openTable` can rebuild it through the registry.
 */

/** The plain-data form of a function: its registry name plus the options that rebuild it. No secrets. */
export interface EmbeddingFunctionJSON {
  /** The name the function's factory is registered under (`getRegistry().get(name)`). */
  readonly name: string;
  readonly [option: string]: unknown;
}

export interface EmbeddingFunction {
  /** Vector length, or undefined while it is not known yet (e.g. before a model is loaded). */
  ndims(): number | undefined;
  /** Element type of the vectors; Quiver stores embeddings as float32. */
  readonly embeddingDataType: "float32";
  /** Embeds documents (on `add`). One vector per text, in order. */
  computeSourceEmbeddings(texts: string[]): Promise<Float32Array[] | number[][]>;
  /** Embeds one query (on `search`). Some models embed queries differently from documents. */
  computeQueryEmbeddings(query: string): Promise<Float32Array | number[]>;
  /** `{ name, ...options }` that `getRegistry().get(name).create(options)` turns back into this function. */
  toJSON(): EmbeddingFunctionJSON;
  /** Optional eager set-up (loading a model); functions must also set themselves up on first use. */
  init?(): Promise<void>;
  /** Batch size the function prefers (a service's request limit, a model's sweet spot). */
  readonly preferredBatchSize?: number;
}

/** What a table keeps: which column is embedded into which, by what. (LanceDB: `embeddingFunction`.) */
export interface EmbeddingFunctionConfig {
  /** Text column the vectors are computed from. */
  readonly sourceColumn: string;
  /** Vector column the embeddings are written to. Default: "vector". */
  readonly vectorColumn?: string;
  readonly function: EmbeddingFunction;
}

/** `EmbeddingFunctionConfig` as stored with a table (manifest `config`). */
export interface SerializedEmbeddingConfig {
  readonly sourceColumn: string;
  readonly vectorColumn: string;
  readonly function: EmbeddingFunctionJSON;
}

/** Builds functions of one kind from their options; registered under a name. */
export interface EmbeddingFunctionFactory<Options = Record<string, unknown>> {
  create(options?: Options): EmbeddingFunction;
}

/** Reported after each batch while embedding. `done` counts texts, cache hits included. */
export interface EmbeddingProgress {
  readonly done: number;
  readonly total: number;
}
