/**
 * The versioned state of one table. Every write produces a new `TableState` (a new version); older
 * states stay valid because fragments are immutable. This in-memory dataset is the reference the
 * durable, store-backed one follows: same states, same commit step, with a manifest written last.
 */
import type { Schema } from "../data/schema.js";
import type { Fragment } from "./fragment.js";

export interface TableState {
  readonly version: number;
  /** Milliseconds since the epoch when this version was committed. */
  readonly timestamp: number;
  readonly schema: Schema;
  readonly fragments: readonly Fragment[];
  readonly nextFragmentId: number;
}

export type StateChange = Pick<TableState, "schema" | "fragments" | "nextFragmentId">;

export interface Dataset {
  head(): TableState;
  /** Applies `change` to the head; `null` from `change` means nothing to commit and returns the head. */
  commit(change: (head: TableState) => StateChange | null): Promise<TableState>;
  versions(): readonly TableState[];
}

export class MemoryDataset implements Dataset {
  readonly #versions: TableState[];

  constructor(schema: Schema) {
    this.#versions = [{ version: 1, timestamp: Date.now(), schema, fragments: [], nextFragmentId: 0 }];
  }

  head(): TableState {
    return this.#versions[this.#versions.length - 1]!;
  }

  async commit(change: (head: TableState) => StateChange | null): Promise<TableState> {
    const head = this.head();
    // `change` runs synchronously against the head and throws before anything is recorded.
    const changed = change(head);
    if (changed === null) return head;
    const next: TableState = { ...changed, version: head.version + 1, timestamp: Date.now() };
    this.#versions.push(next);
    return next;
  }

  versions(): readonly TableState[] {
    return this.#versions;
  }
}

export function countLiveRows(state: TableState): number {
  return state.fragments.reduce((s, f) => s + f.liveRows, 0);
}
