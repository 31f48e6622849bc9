/**
 * What both ends of the database worker hop agree on besides the protocol: which buffers move
 * instead of being copied. (Errors cross through util/error-transfer.ts.)
 */
import { transfer } from "comlink";
import type { Row } from "../data/rows.js";
import type { QueryPlan } from "../query/plan.js";
import type { ColumnBatch } from "../arrow/detect.js";

export { registerErrorTransfer } from "../util/error-transfer.js";

/**
 * Typed arrays that own their whole buffer can be transferred without surprising anyone: a view
 * into a larger buffer would take the rest of it along (and detach it for its owner).
 */
function ownedBuffer(value: unknown, seen: Set<ArrayBuffer>): ArrayBuffer | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  const buffer = value.buffer;
  if (!(buffer instanceof ArrayBuffer) || value.byteOffset !== 0 || value.byteLength !== buffer.byteLength || seen.has(buffer)) return undefined;
  seen.add(buffer);
  return buffer;
}

/** The plan with its query vectors' buffers marked for transfer. Plans from `toPlan()` own them. */
export function transferPlan(plan: QueryPlan): QueryPlan {
  const seen = new Set<ArrayBuffer>();
  const buffers = (plan.vector?.queries ?? []).map((q) => ownedBuffer(q, seen)).filter((b) => b !== undefined);
  return transfer(plan, buffers);
}

/** Result rows with their vector values' buffers marked for transfer (each row's vector is its own copy). */
export function transferRows(rows: Row[]): Row[] {
  const seen = new Set<ArrayBuffer>();
  const buffers: ArrayBuffer[] = [];
  for (const row of rows) {
    for (const key in row) {
      const buffer = ownedBuffer(row[key], seen);
      if (buffer !== undefined) buffers.push(buffer);
    }
  }
  return transfer(rows, buffers);
}

/** A column batch with its columns' typed arrays marked for transfer: for batches converted on this side, whose arrays nobody else holds. */
export function transferColumns(batch: ColumnBatch): ColumnBatch {
  const seen = new Set<ArrayBuffer>();
  const buffers = [...batch.columns.values()].map((c) => ownedBuffer(c.data, seen)).filter((b) => b !== undefined);
  return transfer(batch, buffers);
}
