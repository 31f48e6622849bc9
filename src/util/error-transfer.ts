/**
 * How errors cross a comlink hop: a "throw" transfer handler that keeps QuiverError's code and
 * details. Used by every worker pair in the package (the database worker, the embedding and
 * reranker workers), so it lives below all of them.
 */
import { transferHandlers, type TransferHandler } from "comlink";
import { ERROR_CODES, QuiverError, type ErrorCode, type QuiverErrorDetails } from "../errors.js";

/** A thrown value as it crosses: QuiverErrors keep code and details, other Errors name and message. */
type SerializedThrow =
  | { kind: "quiver"; code: ErrorCode; message: string; details: QuiverErrorDetails; stack?: string; cause?: SerializedThrow }
  | { kind: "error"; name: string; message: string; stack?: string }
  | { kind: "value"; value: unknown };

/** A QuiverError, also from another copy of the library (as when two bundles share a worker). */
function isQuiverLike(value: unknown): value is QuiverError {
  if (value instanceof QuiverError) return true;
  const e = value as QuiverError;
  return isErrorLike(value) && e.name === "QuiverError" && typeof e.code === "string" && e.code in ERROR_CODES;
}

function serializeThrown(value: unknown, depth = 0): SerializedThrow {
  if (isQuiverLike(value)) {
    const e = value;
    const cause = e.cause !== undefined && depth < 4 ? serializeThrown(e.cause, depth + 1) : undefined;
    return { kind: "quiver", code: e.code, message: e.message, details: cloneable(e.details ?? {}), stack: e.stack, ...(cause ? { cause } : {}) };
  }
  if (isErrorLike(value)) return { kind: "error", name: value.name, message: value.message, stack: value.stack };
  return { kind: "value", value: cloneable(value) };
}

function deserializeThrown(s: SerializedThrow): unknown {
  switch (s.kind) {
    case "quiver": {
      const error = new QuiverError(s.code, s.message, s.details, s.cause ? { cause: deserializeThrown(s.cause) } : undefined);
      // The worker's stack says where it went wrong; the client's would only show the message port.
      if (s.stack !== undefined) error.stack = s.stack;
      return error;
    }
    case "error": {
      const error = new Error(s.message);
      error.name = s.name;
      if (s.stack !== undefined) error.stack = s.stack;
      return error;
    }
    case "value":
      return s.value;
  }
}

function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || (typeof value === "object" && value !== null && typeof (value as Error).message === "string" && typeof (value as Error).name === "string");
}

/** `value` if it survives structured cloning, else its JSON form (details may hold anything). */
function cloneable<T>(value: T): T {
  try {
    structuredClone(value);
    return value;
  } catch {
    try {
      return JSON.parse(JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as T;
    } catch {
      return String(value) as T;
    }
  }
}

let registered = false;

/**
 * Replaces comlink's "throw" handler (which keeps only name, message and stack) with one that keeps
 * QuiverError's `code` and `details`, so `e.code` and `e instanceof QuiverError` hold on the
 * client. Both ends must call it; it is idempotent. Recognising a thrown value is left to comlink's
 * own handler, whose marker is private to comlink.
 */
export function registerErrorTransfer(): void {
  if (registered) return;
  const original = transferHandlers.get("throw") as TransferHandler<{ value: unknown }, unknown> | undefined;
  if (original === undefined) throw new Error("comlink has no \"throw\" transfer handler to extend");
  const handler: TransferHandler<{ value: unknown }, SerializedThrow> = {
    canHandle: (value): value is { value: unknown } => original.canHandle(value),
    serialize: ({ value }) => [serializeThrown(value), []],
    deserialize: (serialized) => {
      throw deserializeThrown(serialized);
    },
  };
  transferHandlers.set("throw", handler as TransferHandler<unknown, unknown>);
  registered = true;
}
