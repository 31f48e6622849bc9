/**
 * Options of a full-text index, with LanceDB's names (`Index.fts({...})`) and LanceDB's defaults
 * (docs.lancedb.com, "FTS index": simple tokenizer, English, lowercase, stem, remove stop words,
 * ASCII folding, no positions, tokens longer than 40 dropped). Everything here is plain data: it is
 * stored inside the serialized index, so a reopened index tokenizes queries exactly as it did documents.
 */
import { createError } from "../errors.js";

/**
 * How text is cut into tokens before the filters run.
 * - `simple`: runs of letters, digits and combining marks (`[\p{L}\p{N}\p{M}]+`); everything else separates.
 * - `whitespace`: runs of non-whitespace; punctuation stays inside tokens.
 * - `raw`: the whole value is one token (exact-match on tags, ids, enums).
 * - `ngram`: character n-grams of each `simple` word (`ngramMinLength`..`ngramMaxLength`), for
 *   substring and typo-tolerant matching. Grams never span two words (LanceDB's, from tantivy, grams the
 *   whole string, spaces included); a word shorter than `ngramMinLength` is kept whole.
 */
export type BaseTokenizer = "simple" | "whitespace" | "raw" | "ngram";

export const BASE_TOKENIZERS: readonly BaseTokenizer[] = ["simple", "whitespace", "raw", "ngram"];

export interface FtsOptions {
  /** How text is split into tokens. Default `"simple"`. */
  baseTokenizer: BaseTokenizer;
  /**
   * Language of the stemmer and the stop-word list, by LanceDB's names ("English", "French", …; case
   * does not matter). Only read when `stem` or `removeStopWords` is true. Default `"English"`.
   * See `SUPPORTED_LANGUAGES` in ./languages.ts.
   */
  language: string;
  /** Lowercase every token (`toLowerCase`, locale-independent). Default true. */
  lowercase: boolean;
  /**
   * Reduce words to their stem ("running" → "run") so inflections match. Raises recall, costs a few
   * percent of build time (stems are cached per tokenizer). Default true.
   */
  stem: boolean;
  /**
   * Drop the language's stop words ("the", "of", …). Makes the index smaller and queries faster; a
   * phrase query still matches across the dropped words because positions keep their gaps. Default true.
   */
  removeStopWords: boolean;
  /** Replace stop-word list of `language` (only used when `removeStopWords`). `[]` removes none. */
  customStopWords?: readonly string[] | undefined;
  /** Fold accented and special Latin letters to ASCII ("café" → "cafe", "straße" → "strasse"). Default true. */
  asciiFolding: boolean;
  /**
   * Store token positions, which phrase queries need. Roughly doubles the postings' size. Default false
   * (LanceDB's default); a phrase query on an index without positions fails with INVALID_ARGUMENT.
   */
  withPosition: boolean;
  /**
   * Tokens longer than this many characters are dropped (base64 blobs, URLs). `null` keeps every
   * token. Default 40. Limits: 1..65535 or null.
   */
  maxTokenLength: number | null;
  /** Shortest gram of the `ngram` tokenizer. Default 3. Limits: 1..maxTokenLength. */
  ngramMinLength: number;
  /** Longest gram of the `ngram` tokenizer. Default 3. Limits: ngramMinLength..255. */
  ngramMaxLength: number;
  /** `ngram` only: emit only the grams that start a word (prefix search, "type-ahead"). Default false. */
  prefixOnly: boolean;
}

export const DEFAULT_FTS_OPTIONS: Readonly<FtsOptions> = Object.freeze({
  baseTokenizer: "simple",
  language: "English",
  lowercase: true,
  stem: true,
  removeStopWords: true,
  customStopWords: undefined,
  asciiFolding: true,
  withPosition: false,
  maxTokenLength: 40,
  ngramMinLength: 3,
  ngramMaxLength: 3,
  prefixOnly: false,
});

function invalid(message: string): never {
  throw createError("INVALID_ARGUMENT", message);
}

function checkBool(name: string, v: unknown): boolean {
  if (typeof v !== "boolean") invalid(`FTS option ${name} must be true or false, got ${String(v)}.`);
  return v;
}

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    invalid(`FTS option ${name} must be an integer in ${min}..${max}, got ${String(v)}.`);
  }
  return v;
}

/** Fills in defaults and checks every field; throws INVALID_ARGUMENT on a bad value or an unknown key. */
export function resolveFtsOptions(options: Partial<FtsOptions> = {}): FtsOptions {
  if (options === null || typeof options !== "object") invalid("FTS options must be an object.");
  for (const key of Object.keys(options)) {
    if (!(key in DEFAULT_FTS_OPTIONS)) invalid(`Unknown FTS option "${key}". Known: ${Object.keys(DEFAULT_FTS_OPTIONS).join(", ")}.`);
  }
  const o = { ...DEFAULT_FTS_OPTIONS, ...stripUndefined(options) } as FtsOptions;
  if (!BASE_TOKENIZERS.includes(o.baseTokenizer)) {
    invalid(`FTS option baseTokenizer must be one of ${BASE_TOKENIZERS.join(", ")}, got ${String(o.baseTokenizer)}.`);
  }
  if (typeof o.language !== "string" || o.language.length === 0) invalid("FTS option language must be a language name such as \"English\".");
  for (const k of ["lowercase", "stem", "removeStopWords", "asciiFolding", "withPosition", "prefixOnly"] as const) checkBool(k, o[k]);
  if (o.maxTokenLength !== null) checkInt("maxTokenLength", o.maxTokenLength, 1, 65535);
  checkInt("ngramMinLength", o.ngramMinLength, 1, 255);
  checkInt("ngramMaxLength", o.ngramMaxLength, o.ngramMinLength, 255);
  if (o.customStopWords !== undefined) {
    if (!Array.isArray(o.customStopWords) || !o.customStopWords.every((w) => typeof w === "string")) {
      invalid("FTS option customStopWords must be an array of strings.");
    }
    o.customStopWords = [...o.customStopWords];
  }
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
