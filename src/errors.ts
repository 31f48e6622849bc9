/**
 * Every error Quiver raises on purpose is a `QuiverError` with a stable `.code`.
 * Callers switch on the code; the message is for people and says what went wrong,
 * where, and what to do about it.
 */

/** The table of error codes and what each one means. */
export const ERROR_CODES = {
  INVALID_ARGUMENT: "An argument has the wrong type or an out-of-range value.",
  DIMENSION_MISMATCH: "A vector's length does not match the dimension of its column or query.",
  INVALID_VECTOR: "A vector holds NaN or Infinity, or cannot be read as numbers.",
  SCHEMA_MISMATCH: "Rows or values do not fit the table's schema.",
  UNKNOWN_COLUMN: "A column named in the request does not exist in the table.",
  INVALID_FILTER: "A filter or SQL expression could not be parsed or type-checked, or failed on the rows (integer division by zero).",
  TABLE_EXISTS: "A table with that name already exists.",
  TABLE_NOT_FOUND: "No table with that name exists.",
  UNSUPPORTED: "The operation is not supported by this table, backend or runtime.",
  WASM_LOAD_FAILED: "The WebAssembly kernels could not be loaded in this runtime.",
  OUT_OF_MEMORY: "WebAssembly memory could not grow to hold the data.",
  CLOSED: "The connection or table has been closed.",
  READ_ONLY: "The table cannot be written: it is checked out at an older version or its store is read-only.",
  COMMIT_CONFLICT: "Another writer committed a conflicting change first.",
  CORRUPT_FILE: "A stored file is damaged or truncated.",
  QUOTA_EXCEEDED: "The storage backend is full.",
  WRONG_KEY: "The encryption key or passphrase does not open this database or file, or the database is encrypted and no key was given.",
  NOT_FOUND: "A requested object does not exist.",
  NETWORK_ERROR: "A remote store could not be read: the network failed, the server answered with an error, or a request timed out (after retries).",
  ABORTED: "The operation was cancelled through an AbortSignal.",
  EMBEDDING_FAILED: "An embedding function could not embed: its model did not load, or its service answered with an error.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface QuiverErrorDetails {
  /** Column the error is about, when there is one. */
  column?: string;
  /** Row index (within the input batch) the error is about. */
  row?: number;
  /** Character offset into a filter or SQL expression. */
  position?: number;
  [key: string]: unknown;
}

export class QuiverError extends Error {
  override readonly name = "QuiverError";
  readonly code: ErrorCode;
  readonly details: QuiverErrorDetails;

  constructor(code: ErrorCode, message: string, details: QuiverErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** Plain-data form, used to carry the error across a worker boundary. */
  toJSON(): { name: string; code: ErrorCode; message: string; details: QuiverErrorDetails } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

export function createError(
  code: ErrorCode,
  message: string,
  details?: QuiverErrorDetails,
  cause?: unknown,
): QuiverError {
  return new QuiverError(code, message, details, cause === undefined ? undefined : { cause });
}

export function isQuiverError(value: unknown, code?: ErrorCode): value is QuiverError {
  return value instanceof QuiverError && (code === undefined || value.code === code);
}
