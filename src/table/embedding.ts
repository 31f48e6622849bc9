/**
 * A table's embedding function: restored from the manifest's config (or the live function given to
 * createTable), used to fill the vector column on writes and to embed text queries.
 */
import { createError } from "../errors.js";
import type { Row } from "../data/rows.js";
import {
  EMBEDDING_CONFIG_KEY, embedQuery, embedRows, restoreEmbeddingConfig, serializeEmbeddingConfig,
  type EmbeddingFunctionConfig, type ResolvedEmbeddingConfig,
} from "../embeddings/index.js";
import type { QueryPlan } from "../query/plan.js";
import type { TableState } from "../dataset/dataset.js";
import type { WriteProgress } from "./writes.js";

export type FunctionOptions = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** The table config entry that stores `config`. */
export function embeddingTableConfig(config: EmbeddingFunctionConfig): Record<string, unknown> {
  return { [EMBEDDING_CONFIG_KEY]: [serializeEmbeddingConfig(config)] };
}

/** Resolves (once per saved config) the embedding function a table version names, if any. */
export class TableEmbedding {
  #saved: string | undefined;
  #resolved: ResolvedEmbeddingConfig | undefined;

  constructor(
    private readonly live: ResolvedEmbeddingConfig | undefined,
    private readonly functionOptions: FunctionOptions | undefined,
  ) {}

  of(state: TableState): ResolvedEmbeddingConfig | undefined {
    const saved = state.config[EMBEDDING_CONFIG_KEY];
    if (!Array.isArray(saved) || saved.length === 0) return undefined;
    const json = JSON.stringify(saved[0]);
    if (this.live && JSON.stringify(serializeEmbeddingConfig(this.live)) === json) return this.live;
    if (json !== this.#saved) {
      this.#resolved = restoreEmbeddingConfig(saved[0], { functionOptions: this.functionOptions });
      this.#saved = json;
    }
    return this.#resolved;
  }

  /** Rows with their vectors filled in when the table has an embedding function. */
  async rows(state: TableState, rows: readonly Row[], progress?: (p: WriteProgress) => void): Promise<readonly Row[]> {
    const cfg = this.of(state);
    if (cfg === undefined || !Array.isArray(rows)) return rows;
    return embedRows(cfg, rows, { progress: progress && ((p) => progress({ phase: "embed", rowsDone: p.done, rowsTotal: p.total })) });
  }

  /** `values` of an update with the vector recomputed when the source text changes. */
  async values(state: TableState, values: Readonly<Record<string, unknown>>): Promise<Readonly<Record<string, unknown>>> {
    const cfg = this.of(state);
    if (cfg === undefined || !(cfg.sourceColumn in values) || cfg.vectorColumn in values) return values;
    const [row] = await embedRows(cfg, [{ [cfg.sourceColumn]: values[cfg.sourceColumn] }], { overwrite: true });
    return { ...values, [cfg.vectorColumn]: row![cfg.vectorColumn] ?? null };
  }

  checkSql(state: TableState, valuesSql: Readonly<Record<string, string>>): void {
    const cfg = this.of(state);
    if (cfg !== undefined && cfg.sourceColumn in valuesSql && !(cfg.vectorColumn in valuesSql)) {
      throw createError(
        "UNSUPPORTED",
        `update(): "${cfg.sourceColumn}" is embedded into "${cfg.vectorColumn}"; change it with values (or mergeInsert) so the vectors are recomputed, not with valuesSql.`,
        { column: cfg.sourceColumn },
      );
    }
  }

  /** The plan with its query text embedded into a query vector. */
  async plan(state: TableState, plan: QueryPlan): Promise<QueryPlan> {
    const text = plan.vector?.queryText;
    if (text === undefined) return plan;
    const cfg = this.of(state);
    if (cfg === undefined) {
      const fallback = plan.vector!.ftsFallback;
      if (fallback !== undefined) {
        const { vector: _unused, ...rest } = plan;
        return { ...rest, fullText: { query: text, ...(fallback.columns ? { columns: fallback.columns } : {}) } };
      }
      throw createError("UNSUPPORTED", "This table has no embedding function, so a text query cannot become a vector; pass a vector, search with \"fts\", or create the table with { embeddingFunction }.");
    }
    const vector = await embedQuery(cfg, text);
    return { ...plan, vector: { ...plan.vector!, queries: [vector], column: plan.vector!.column ?? cfg.vectorColumn } };
  }
}
