/**
 * Embedding configs ↔ Arrow schema metadata. LanceDB keeps a table's embedding functions in its
 * Arrow schema metadata (`embedding_functions`); Quiver keeps them in the manifest's config. Files
 * and LanceDB tables carry them through here, in both directions. Part of the Arrow conversions
 * chunk (convert.ts), loaded with the first Arrow call.
 */
import { createError } from "../errors.js";

/** Where a Quiver table keeps its serialized embedding configs: the manifest's `config` (the same key as src/embeddings' EMBEDDING_CONFIG_KEY). */
const EMBEDDING_CONFIG_KEY = "embedding_functions";

/** The Arrow schema metadata key LanceDB (and Quiver's Arrow files) keep embedding configs under. */
export const EMBEDDING_METADATA_KEY = "embedding_functions";

/**
 * A table's saved embedding configs as Arrow schema metadata, in LanceDB's shape
 * (`[{ sourceColumn, vectorColumn, name, model }]`, JSON), so LanceDB reads them too.
 */
export function embeddingMetadata(config: Readonly<Record<string, unknown>>): Record<string, string> {
  const saved = config[EMBEDDING_CONFIG_KEY];
  if (!Array.isArray(saved) || saved.length === 0) return {};
  const lance = saved.map((c: { sourceColumn: string; vectorColumn: string; function: { name: string } & Record<string, unknown> }) => {
    const { name, ...model } = c.function;
    return { sourceColumn: c.sourceColumn, vectorColumn: c.vectorColumn, name, model };
  });
  return { [EMBEDDING_METADATA_KEY]: JSON.stringify(lance) };
}

/**
 * The table config for Arrow schema metadata that names embedding functions: LanceDB's shape
 * (`{ sourceColumn, vectorColumn, name, model }`) or Quiver's (`{ sourceColumn, vectorColumn,
 * function: { name, … } }`). The functions are not created here: a table restores them through the
 * registry when it first needs one, as it does for a table Quiver wrote.
 */
export function embeddingConfigFromMetadata(metadata: Readonly<Record<string, string>> | undefined): Record<string, unknown> {
  const json = metadata?.[EMBEDDING_METADATA_KEY];
  if (json === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw createError("INVALID_ARGUMENT", `The Arrow schema metadata "${EMBEDDING_METADATA_KEY}" is not JSON.`, {}, e);
  }
  const bad = (): never => {
    throw createError("INVALID_ARGUMENT", `The Arrow schema metadata "${EMBEDDING_METADATA_KEY}" must be a list of { sourceColumn, vectorColumn, name, model }, got ${json.slice(0, 200)}.`);
  };
  if (!Array.isArray(parsed)) bad();
  const configs = (parsed as unknown[]).map((c) => {
    const e = c as { sourceColumn?: unknown; vectorColumn?: unknown; name?: unknown; model?: unknown; function?: { name?: unknown } };
    if (typeof e !== "object" || e === null || typeof e.sourceColumn !== "string") bad();
    const vectorColumn = typeof e.vectorColumn === "string" ? e.vectorColumn : "vector";
    if (typeof e.function === "object" && e.function !== null && typeof e.function.name === "string") return { sourceColumn: e.sourceColumn, vectorColumn, function: e.function };
    if (typeof e.name !== "string") bad();
    const model = typeof e.model === "object" && e.model !== null ? e.model : {};
    return { sourceColumn: e.sourceColumn, vectorColumn, function: { ...model, name: e.name } };
  });
  return configs.length === 0 ? {} : { [EMBEDDING_CONFIG_KEY]: configs };
}
