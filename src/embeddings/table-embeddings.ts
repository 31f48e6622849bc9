/**
 * What a table does with its embedding config: fill the vector column on `add`, embed text queries on
 * `search`, and save / restore the config with the table (manifest `config[EMBEDDING_CONFIG_KEY]`).
 */
import { createError } from "../errors.js";
import type { Row } from "../data/rows.js";
import { BatchedEmbeddingFunction, withBatching } from "./batched.js";
import { getRegistry, type EmbeddingFunctionRegistry } from "./registry.js";
import type { EmbeddingFunction, EmbeddingFunctionConfig, EmbeddingProgress, SerializedEmbeddingConfig } from "./types.js";

/** Key under which tables keep their serialized embedding configs (an array) in the manifest's `config`. */
export const EMBEDDING_CONFIG_KEY = "embedding_functions";

/** A config with its defaults filled in and checked. */
export interface ResolvedEmbeddingConfig extends EmbeddingFunctionConfig {
  readonly vectorColumn: string;
}

export function checkEmbeddingConfig(config: EmbeddingFunctionConfig): ResolvedEmbeddingConfig {
  if (typeof config !== "object" || config === null) throw createError("INVALID_ARGUMENT", "embeddingFunction must be { sourceColumn, vectorColumn?, function }.");
  const { sourceColumn, vectorColumn = "vector", function: fn } = config;
  if (typeof sourceColumn !== "string" || sourceColumn.length === 0) throw createError("INVALID_ARGUMENT", "embeddingFunction.sourceColumn must name the text column to embed.");
  if (typeof vectorColumn !== "string" || vectorColumn.length === 0) throw createError("INVALID_ARGUMENT", "embeddingFunction.vectorColumn must be a column name.");
  if (vectorColumn === sourceColumn) throw createError("INVALID_ARGUMENT", `embeddingFunction: sourceColumn and vectorColumn are both "${sourceColumn}"; vectors need their own column.`);
  const missing = ["ndims", "computeSourceEmbeddings", "computeQueryEmbeddings", "toJSON"].filter((m) => typeof (fn as unknown as Record<string, unknown> | undefined)?.[m] !== "function");
  if (missing.length > 0) throw createError("INVALID_ARGUMENT", `embeddingFunction.function is not an EmbeddingFunction: it lacks ${missing.join(", ")}.`);
  return { sourceColumn, vectorColumn, function: fn };
}

const runners = new WeakMap<EmbeddingFunction, BatchedEmbeddingFunction>();

/** The function with batching and the shared cache; a function already wrapped with `withBatching` is used as it is. */
export function batchedFunction(fn: EmbeddingFunction): BatchedEmbeddingFunction {
  if (fn instanceof BatchedEmbeddingFunction) return fn;
  let r = runners.get(fn);
  if (!r) runners.set(fn, (r = withBatching(fn)));
  return r;
}

export interface EmbedRowsOptions {
  /** Called after each batch: `{ done, total }` counts the texts to embed in this call. */
  progress?: (progress: EmbeddingProgress) => void;
  /** Recompute vectors the rows already carry. Default false: a row's own non-null vector is kept. */
  overwrite?: boolean;
}

/**
 * Rows with `vectorColumn` filled from `sourceColumn` (new row objects; the input is not changed).
 * A null or missing text gives a null vector. Throws INVALID_ARGUMENT for a non-string text.
 */
export async function embedRows(config: EmbeddingFunctionConfig, rows: readonly Row[], options: EmbedRowsOptions = {}): Promise<Row[]> {
  const { sourceColumn, vectorColumn, function: fn } = checkEmbeddingConfig(config);
  const positions: number[] = [];
  const texts: string[] = [];
  rows.forEach((row, i) => {
    const existing = row[vectorColumn];
    if (!options.overwrite && existing !== null && existing !== undefined) return;
    const text = row[sourceColumn];
    if (text === null || text === undefined) return;
    if (typeof text !== "string") {
      throw createError("INVALID_ARGUMENT", `Row ${i}: column "${sourceColumn}" feeds the embedding function and must hold text, got ${typeof text}.`, { row: i, column: sourceColumn });
    }
    positions.push(i);
    texts.push(text);
  });
  const vectors = await batchedFunction(fn).embed(texts, options);
  const out = rows.map((row) => {
    const copy: Row = { ...row };
    if (copy[vectorColumn] === undefined || (options.overwrite && copy[sourceColumn] == null)) copy[vectorColumn] = null;
    return copy;
  });
  positions.forEach((p, k) => (out[p]![vectorColumn] = vectors[k]!));
  return out;
}

/** The vector for a text query, checked (finite, right length). */
export function embedQuery(config: EmbeddingFunctionConfig, text: string): Promise<Float32Array> {
  return batchedFunction(checkEmbeddingConfig(config).function).computeQueryEmbeddings(text);
}

/** The vector length of the config's function; embeds a probe text when the function cannot say before running. */
export async function embeddingDimension(config: EmbeddingFunctionConfig): Promise<number> {
  const fn = checkEmbeddingConfig(config).function;
  const known = fn.ndims();
  if (known !== undefined) return known;
  const [v] = await batchedFunction(fn).embed(["dimension probe"]);
  return v!.length;
}

/** The config as plain JSON for the manifest. The function's `toJSON()` decides what is saved (no secrets). */
export function serializeEmbeddingConfig(config: EmbeddingFunctionConfig): SerializedEmbeddingConfig {
  const { sourceColumn, vectorColumn, function: fn } = checkEmbeddingConfig(config);
  const json = fn.toJSON();
  if (typeof json !== "object" || json === null || typeof json.name !== "string" || json.name.length === 0) {
    throw createError("INVALID_ARGUMENT", "The embedding function's toJSON() must return { name, ...options } with the name it is registered under.");
  }
  return { sourceColumn, vectorColumn, function: JSON.parse(JSON.stringify(json)) as SerializedEmbeddingConfig["function"] };
}

export interface RestoreOptions {
  /** Default: `getRegistry()`. */
  registry?: EmbeddingFunctionRegistry;
  /** Options added to the saved ones, per function name: secrets (`{ openai: { apiKey } }`), callbacks, workers. */
  functionOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** Rebuilds a saved config through the registry. NOT_FOUND when its function name is not registered. */
export function restoreEmbeddingConfig(json: unknown, options: RestoreOptions = {}): ResolvedEmbeddingConfig {
  const j = json as Partial<SerializedEmbeddingConfig> | null;
  if (typeof j !== "object" || j === null || typeof j.sourceColumn !== "string" || typeof j.vectorColumn !== "string" || typeof j.function?.name !== "string") {
    throw createError("INVALID_ARGUMENT", `A saved embedding config must be { sourceColumn, vectorColumn, function: { name, … } }, got ${JSON.stringify(json)?.slice(0, 200)}.`);
  }
  const { name, ...saved } = j.function;
  const registry = options.registry ?? getRegistry();
  if (!registry.has(name)) {
    throw createError("NOT_FOUND", `The table's embedding function "${name}" (column "${j.sourceColumn}" → "${j.vectorColumn}") is not registered; call getRegistry().register(${JSON.stringify(name)}, factory) before opening the table.`, { name, column: j.vectorColumn });
  }
  const fn = registry.get(name).create({ ...saved, ...options.functionOptions?.[name] });
  return checkEmbeddingConfig({ sourceColumn: j.sourceColumn, vectorColumn: j.vectorColumn, function: fn });
}
