/**
 * The `mergeInsert(on)` builder and its plan, apart from the merge itself (merge-insert.ts), so a
 * worker client can build merges without loading the write path.
 */
import type { Row } from "../data/rows.js";

export interface MergeResult {
  version: number;
  numInsertedRows: number;
  numUpdatedRows: number;
  numDeletedRows: number;
}

export interface MergePlan {
  readonly on: readonly string[];
  readonly updateMatched?: { readonly where?: string };
  readonly insertNotMatched: boolean;
  readonly deleteNotMatchedBySource?: { readonly where?: string };
}

/** Builder returned by `Table.mergeInsert(on)`; nothing runs until `execute(rows)`. */
export class MergeInsertBuilder {
  #plan: MergePlan;

  constructor(on: readonly string[], private readonly run: (plan: MergePlan, rows: readonly Row[]) => Promise<MergeResult>) {
    this.#plan = { on, insertNotMatched: false };
  }

  /** Rows whose key exists in both: replace the target row with the source row (optionally only where the condition holds). */
  whenMatchedUpdateAll(options: { where?: string } = {}): this {
    this.#plan = { ...this.#plan, updateMatched: { where: options.where } };
    return this;
  }

  /** Source rows whose key is not in the table: insert them. */
  whenNotMatchedInsertAll(): this {
    this.#plan = { ...this.#plan, insertNotMatched: true };
    return this;
  }

  /** Table rows whose key is not among the source rows: delete them (optionally only where the condition holds). */
  whenNotMatchedBySourceDelete(options: { where?: string } = {}): this {
    this.#plan = { ...this.#plan, deleteNotMatchedBySource: { where: options.where } };
    return this;
  }

  async execute(rows: readonly Row[]): Promise<MergeResult> {
    return this.run(this.#plan, rows);
  }
}
