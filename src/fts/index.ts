/**
 * Full-text search: tokenizer, inverted index, BM25. The table layer builds one `FtsIndex` per
 * `createIndex(col, { config: Index.fts(...) })` and stores `serialize()`'s bytes as an index file.
 */
export { FtsIndex, addStatistics, indexesStatistics, searchIndexes, searchShards, DEFAULT_B, DEFAULT_K1 } from "./fts-index.js";
export type { FtsCorpusStatistics, FtsDocument, FtsIndexOptions, FtsProgress, FtsSearchOptions } from "./fts-index.js";
export type { FtsResults, RowFilter } from "./topk.js";
export { Tokenizer, asciiFold } from "./tokenizer.js";
export { DEFAULT_FTS_OPTIONS, BASE_TOKENIZERS, resolveFtsOptions } from "./options.js";
export type { BaseTokenizer, FtsOptions } from "./options.js";
export { SUPPORTED_LANGUAGES, loadLanguage } from "./languages.js";
export type { LanguagePack } from "./languages.js";
export { FTS_FORMAT_VERSION } from "./format.js";
export type { Operator } from "./bm25.js";
