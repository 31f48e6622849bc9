/**
 * Argument checks and errors shared by every BlobStore backend, so that a bad key, a bad range or a
 * closed store fails the same way on memory, IndexedDB, OPFS, the file system and HTTP.
 *
 * Keys are relative "/"-separated paths (see blob-store.ts). Beyond what the interface states, a
 * key must be portable to every backend, since tables are built on one and published to another
 * (Node file system → CDN → browser):
 *
 * - 1–1024 characters, segments of at most 255 characters;
 * - no empty, "." or ".." segments, no leading or trailing "/";
 * - no control characters and none of `\ : * ? " < > |` (invalid in Windows file names);
 * - no segment ending in "." or " " (Windows silently strips them, so two keys would collide);
 * - no segment starting with ".quiver-": that namespace holds the backends' own temporary files,
 *   which `list` never returns.
 *
 * Keys are compared as JavaScript strings (UTF-16 code units): `list` sorts that way, and keys are
 * never Unicode-normalized, so "é" composed and decomposed are two keys. Case-insensitive file
 * systems (macOS, Windows) would fold keys differing only in case; Quiver never writes such pairs.
 *
 * On file-system-like backends (fs, OPFS) a key cannot be both an object and a "directory" of
 * other keys ("a" and "a/b"); writing the second fails with INVALID_ARGUMENT there. Memory and
 * IndexedDB allow it. Quiver's own layout never does it.
 */
import { createError, type QuiverError } from "../errors.js";

export const MAX_KEY_LENGTH = 1024;
export const MAX_SEGMENT_LENGTH = 255;
/** Names starting with this are backend-internal (temporary files) and never listed. */
export const RESERVED_PREFIX = ".quiver-";

// Control characters (C0, DEL, C1) and the characters Windows forbids in file names.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\\:*?"<>|]/;

function invalidKey(key: unknown, why: string): QuiverError {
  return createError("INVALID_ARGUMENT", `Invalid storage key ${JSON.stringify(key)}: ${why}.`, { key });
}

/** Returns `key` unchanged when it is a valid key; throws INVALID_ARGUMENT saying why otherwise. */
export function checkKey(key: unknown): string {
  if (typeof key !== "string") throw invalidKey(key, "keys are strings");
  if (key.length === 0) throw invalidKey(key, "keys are not empty");
  if (key.length > MAX_KEY_LENGTH) throw invalidKey(key, `keys are at most ${MAX_KEY_LENGTH} characters`);
  const bad = FORBIDDEN.exec(key);
  if (bad) throw invalidKey(key, `${JSON.stringify(bad[0])} is not allowed in keys`);
  if (key.startsWith("/")) throw invalidKey(key, "keys are relative, without a leading \"/\"");
  if (key.endsWith("/")) throw invalidKey(key, "keys name objects, without a trailing \"/\"");
  for (const segment of key.split("/")) checkSegment(key, segment);
  return key;
}

function checkSegment(key: string, segment: string): void {
  if (segment === "") throw invalidKey(key, "empty path segment (\"//\")");
  if (segment === "." || segment === "..") throw invalidKey(key, `"${segment}" segments are not allowed`);
  if (segment.length > MAX_SEGMENT_LENGTH) throw invalidKey(key, `segments are at most ${MAX_SEGMENT_LENGTH} characters`);
  if (segment.endsWith(".") || segment.endsWith(" ")) throw invalidKey(key, "segments may not end in \".\" or a space");
  if (segment.startsWith(RESERVED_PREFIX)) throw invalidKey(key, `segments starting with "${RESERVED_PREFIX}" are reserved`);
}

/**
 * Checks a `list` prefix: any start of a valid key, including "" (everything), "docs.quiver/" (a
 * directory) and "docs.quiver/_versions/1" (part of a name: lists `1.manifest` and `10.manifest`).
 */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== "string") {
    throw createError("INVALID_ARGUMENT", `Invalid list prefix ${JSON.stringify(prefix)}: prefixes are strings.`, { prefix });
  }
  if (prefix === "") return prefix;
  if (prefix.length > MAX_KEY_LENGTH || prefix.startsWith("/") || FORBIDDEN.test(prefix)) {
    throw createError(
      "INVALID_ARGUMENT",
      `Invalid list prefix ${JSON.stringify(prefix)}: a prefix is the start of a key (relative, no "\\", control or reserved characters).`,
      { prefix },
    );
  }
  return prefix;
}

/** The segments of a checked key or store path. */
export function keySegments(key: string): string[] {
  return key.split("/");
}

/** True for names of backend-internal files that `list` must skip. */
export function isReservedName(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}

/** A fresh name for a temporary file next to the object it will become. */
export function temporaryName(): string {
  return `${RESERVED_PREFIX}tmp-${crypto.randomUUID()}`;
}

/** Checks a byte range for `getRange`: offset and length are non-negative safe integers. */
export function checkRange(key: string, offset: unknown, length: unknown): void {
  for (const [name, value] of [["offset", offset], ["length", length]] as const) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw createError("INVALID_ARGUMENT", `getRange("${key}"): ${name} must be a non-negative integer, got ${String(value)}.`, {
        key,
        [name]: value,
      });
    }
  }
}

/** Checks a key and every range of a `getRanges` call (see checkKey, checkRange); returns the key. */
export function checkRanges(key: string, ranges: readonly { offset: unknown; length: unknown }[]): string {
  checkKey(key);
  for (const r of ranges) checkRange(key, r.offset, r.length);
  return key;
}

/** Checks the bytes given to `put` / `putIfAbsent`. */
export function checkData(key: string, data: unknown): Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw createError("INVALID_ARGUMENT", `put("${key}"): data must be a Uint8Array, got ${describe(data)}.`, { key });
  }
  return data;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object";
  return typeof value;
}

export function notFoundError(uri: string, key: string, cause?: unknown): QuiverError {
  return createError("NOT_FOUND", `No object "${key}" in ${uri}.`, { key, store: uri }, cause);
}

/** The range runs past the end of the object: a truncated file, reported instead of a short read. */
export function shortReadError(uri: string, key: string, offset: number, length: number, size: number): QuiverError {
  return createError(
    "CORRUPT_FILE",
    `Object "${key}" in ${uri} is ${size} bytes, too short for ${length} bytes at offset ${offset}; the file is truncated or the reader is wrong about its layout.`,
    { key, store: uri, offset, length, size },
  );
}

export function closedError(uri: string): QuiverError {
  return createError("CLOSED", `The store ${uri} is closed; open it again.`, { store: uri });
}

export function readOnlyError(uri: string, operation: string): QuiverError {
  return createError("UNSUPPORTED", `${operation} is not supported: ${uri} is read-only.`, { store: uri, operation });
}

export function quotaError(uri: string, key: string, cause?: unknown): QuiverError {
  return createError(
    "QUOTA_EXCEEDED",
    `No space left in ${uri} to write "${key}". Free space (for example with optimize({ cleanupOlderThan })) or ask for a larger quota.`,
    { key, store: uri },
    cause,
  );
}

/** The INVALID_ARGUMENT raised by file-system-like stores when a key collides with a directory. */
export function keyShapeError(uri: string, key: string, cause?: unknown): QuiverError {
  return createError(
    "INVALID_ARGUMENT",
    `Cannot write "${key}" in ${uri}: a part of its path is an object, or the key itself is a directory of other keys.`,
    { key, store: uri },
    cause,
  );
}
