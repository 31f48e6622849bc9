/**
 * A BM25 full-text index over one or more text columns of the same rows. Rows are the caller's
 * numbers (the table passes fragmentId · 2^32 + offset); inside, documents are numbered in the order
 * they were added and every column's postings share that numbering.
 *
 *   const idx = await FtsIndex.build(docs, { columns: ["title", "text"] });
 *   idx.add(moreDocs);
 *   const { rows, scores } = idx.search('"heart attack" risk', { k: 10, allowed: liveRows });
 *   const bytes = idx.serialize();  const again = await FtsIndex.deserialize(bytes);
 *
 * With several columns each is scored with its own statistics (N, df, avgdl), as separate LanceDB
 * indexes would be, and a row's score is its best column's (`combine: "max"`, the default: what
 * LanceDB's MultiMatchQuery returns, measured against @lancedb/lancedb 0.37) or the sum over columns
 * (`combine: "sum"`). On SciFact title/text, max scores nDCG@10 0.671 and sum 0.664 (docs/FTS.md).
 */
import { createError } from "../errors.js";
import { scoreColumn, Scratch, type Bm25Params, type ColumnStats, type Operator } from "./bm25.js";
import { corrupt } from "./bytes.js";
import { FieldIndex } from "./field.js";
import { decodeIndex, encodeIndex } from "./format.js";
import { loadLanguage } from "./languages.js";
import { resolveFtsOptions, type FtsOptions } from "./options.js";
import { parseQuery } from "./query.js";
import { Tokenizer } from "./tokenizer.js";
import { rowPredicate, selectTopK, type FtsResults, type RowFilter } from "./topk.js";
import { TimeSlicer } from "../util/yield.js";

/** Documents indexed between checks for a due yield while building. */
const BUILD_SLICE = 1024;

/** One row to index: its text for a single-column index, or a value per column. */
export type FtsDocument =
  | { readonly row: number; readonly text: string | null | undefined }
  | { readonly row: number; readonly fields: Readonly<Record<string, string | null | undefined>> };

export interface FtsIndexOptions extends Partial<FtsOptions> {
  /** The indexed columns. Default `["text"]`. A `{ row, text }` document fills the first one. */
  columns?: readonly string[];
}

/** Called every 1,024 documents of a batch and at its end. */
export type FtsProgress = (done: number, total: number) => void;

export interface FtsSearchOptions {
  /** How many rows to return. Default 10; `Infinity` returns every match. */
  k?: number;
  /** `"OR"` (default): any term matches. `"AND"`: every term (and phrase) must match in one column. */
  operator?: Operator;
  /**
   * `undefined` (default): `"quoted words"` in the query are phrases. `true`: the whole query is one
   * phrase. `false`: quotes are ignored. Phrases need an index built with `withPosition: true`.
   */
  phrase?: boolean;
  /** Columns to search (default: all of the index's). */
  columns?: readonly string[];
  /** How the scores of several columns combine: `"max"` (default, LanceDB's) or `"sum"`. */
  combine?: "sum" | "max";
  /**
   * Per-column score multipliers, aligned with `columns` (or the index's columns), applied before
   * combining, as LanceDB's MultiMatchQuery `boosts`. Missing entries are 1. Must be finite and > 0.
   */
  boosts?: readonly number[];
  /**
   * Only rows this accepts are returned (a `where` prefilter or the live rows after deletes). Applied
   * before the top-k cut, so k rows come back whenever k allowed rows match.
   */
  allowed?: RowFilter;
  /** BM25 term-frequency saturation. Default 1.2; larger lets repeated terms count for more. */
  k1?: number;
  /** BM25 length normalization, 0..1. Default 0.75; 0 ignores document length. */
  b?: number;
  /**
   * Indexes searched as one with this one (it included): shards over disjoint rows with the same
   * columns and tokenizer, such as a table's index and one over the rows added since it was built.
   * Scores then use the statistics of the union (N, df, avgdl), so each shard's top-k merge into
   * exactly the union's. See `searchShards`.
   */
  corpus?: readonly FtsIndex[];
  /**
   * Corpus statistics to score with instead of this index's own (or `corpus`'s): what a sharded
   * view gathers from every shard (`FtsIndex.statistics`, summed with `addStatistics`) so that each
   * shard scores as one index over all of them would. Terms and columns it lacks use this index's own.
   */
  statistics?: FtsCorpusStatistics;
}

/**
 * BM25 corpus statistics of one query, per column, as plain data (it crosses workers and joins
 * statistics of other shards): documents with a value, their total length, and the document
 * frequency of each query term. `tokenizer` names the tokenizer options, so that statistics of
 * differently tokenized shards are never added up.
 */
export interface FtsCorpusStatistics {
  readonly [column: string]: {
    readonly docCount: number;
    readonly totalLen: number;
    readonly df: Readonly<Record<string, number>>;
    readonly tokenizer: string;
  };
}

export const DEFAULT_K1 = 1.2;
export const DEFAULT_B = 0.75;
const PROGRESS_EVERY = 1024;
const MAX_CLAUSES = 65_535;

function invalid(message: string, details?: Record<string, unknown>): never {
  throw createError("INVALID_ARGUMENT", message, details);
}

export class FtsIndex {
  readonly tokenizer: Tokenizer;
  private readonly fields: FieldIndex[];
  private rows: Float64Array;
  private count: number;
  private readonly scratch = new Scratch();
  private global = new Float64Array(0);
  private mark = new Uint8Array(0);

  private constructor(tokenizer: Tokenizer, fields: FieldIndex[], rows: Float64Array, count: number) {
    this.tokenizer = tokenizer;
    this.fields = fields;
    this.rows = rows;
    this.count = count;
  }

  /** An empty index; `add` fills it. */
  static async create(options: FtsIndexOptions = {}): Promise<FtsIndex> {
    const { columns = ["text"], ...rest } = options ?? {};
    if (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => typeof c === "string" && c.length > 0)) {
      invalid("FTS columns must be a non-empty array of column names.");
    }
    if (new Set(columns).size !== columns.length) invalid("FTS columns must not repeat.");
    const tokenizer = await Tokenizer.create(rest);
    const fields = columns.map((c) => new FieldIndex(c, tokenizer.options.withPosition));
    return new FtsIndex(tokenizer, fields, new Float64Array(1024), 0);
  }

  /** Builds an index over `docs`. */
  static async build(docs: Iterable<FtsDocument>, options: FtsIndexOptions = {}, progress?: FtsProgress): Promise<FtsIndex> {
    const idx = await FtsIndex.create(options);
    const all = Array.isArray(docs) ? (docs as readonly FtsDocument[]) : [...docs];
    // In slices, yielding between them, so a page stays responsive while a large corpus is indexed.
    const slicer = new TimeSlicer();
    for (let at = 0; at === 0 || at < all.length; at += BUILD_SLICE) {
      idx.add(all.slice(at, at + BUILD_SLICE));
      progress?.(Math.min(all.length, at + BUILD_SLICE), all.length);
      if (slicer.due() && at + BUILD_SLICE < all.length) await slicer.yieldNow();
    }
    return idx;
  }

  /** The resolved tokenizer options (stored with the index). */
  get options(): Readonly<FtsOptions> {
    return this.tokenizer.options;
  }

  get columns(): string[] {
    return this.fields.map((f) => f.name);
  }

  /** Documents indexed (including rows deleted since: those are hidden with `allowed`). */
  get numDocs(): number {
    return this.count;
  }

  /** Sizes, for reports and tests. */
  stats(): { numDocs: number; columns: { name: string; docsWithText: number; terms: number; postings: number; avgLength: number }[] } {
    return {
      numDocs: this.count,
      columns: this.fields.map((f) => ({
        name: f.name,
        docsWithText: f.docCount,
        terms: f.termText.length,
        postings: f.numPostings(),
        avgLength: f.docCount ? f.totalLen / f.docCount : 0,
      })),
    };
  }

  /**
   * Indexes more rows; they are searchable as soon as this returns, and change N, df and avgdl.
   * The whole batch is checked first: a bad document throws INVALID_ARGUMENT and adds nothing.
   */
  add(docs: Iterable<FtsDocument>, progress?: FtsProgress): void {
    if (docs === null || typeof docs !== "object" || !(Symbol.iterator in docs)) invalid("FTS documents must be an array (or iterable) of { row, text } or { row, fields }.");
    const batch = Array.isArray(docs) ? (docs as readonly FtsDocument[]) : [...docs];
    const total = batch.length;
    const first = this.fields[0]!.name;
    const values: Record<string, unknown>[] = new Array(batch.length);
    batch.forEach((doc, i) => {
      if (doc === null || typeof doc !== "object") invalid(`FTS document ${i} must be an object { row, text } or { row, fields }.`, { row: i });
      const row = (doc as { row?: unknown }).row;
      if (typeof row !== "number" || !Number.isSafeInteger(row) || row < 0) {
        invalid(`FTS document ${i}: row must be a non-negative safe integer, got ${String(row)}.`, { row: i });
      }
      const v = "fields" in doc ? doc.fields : { [first]: (doc as { text?: unknown }).text };
      if (v === null || typeof v !== "object") invalid(`FTS document ${i}: fields must be an object.`, { row: i });
      for (const f of this.fields) {
        const x = (v as Record<string, unknown>)[f.name];
        if (x !== null && x !== undefined && typeof x !== "string") {
          invalid(`FTS document ${i}: column "${f.name}" must be a string or null, got ${typeof x}.`, { row: i, column: f.name });
        }
      }
      values[i] = v as Record<string, unknown>;
    });
    if (this.count + batch.length > this.rows.length) {
      const next = new Float64Array(Math.max(this.count + batch.length, this.rows.length * 2));
      next.set(this.rows.subarray(0, this.count));
      this.rows = next;
    }
    let done = 0;
    for (let i = 0; i < batch.length; i++) {
      for (const f of this.fields) f.addDoc(values[i]![f.name] as string | null | undefined, this.tokenizer);
      this.rows[this.count++] = batch[i]!.row;
      done++;
      if (progress && done % PROGRESS_EVERY === 0) progress(done, total);
    }
    progress?.(done, total);
  }

  /** The best `k` rows for `query` by BM25, best first. */
  search(query: string, options: FtsSearchOptions = {}): FtsResults {
    const k = options.k ?? 10;
    if (typeof k !== "number" || !(k >= 0) || (k !== Infinity && !Number.isInteger(k))) invalid(`FTS k must be a non-negative integer or Infinity, got ${String(k)}.`);
    const op = options.operator ?? "OR";
    if (op !== "OR" && op !== "AND") invalid(`FTS operator must be "OR" or "AND", got ${String(op)}.`);
    const combine = options.combine ?? "max";
    if (combine !== "sum" && combine !== "max") invalid(`FTS combine must be "sum" or "max", got ${String(combine)}.`);
    const params: Bm25Params = { k1: options.k1 ?? DEFAULT_K1, b: options.b ?? DEFAULT_B };
    if (!(params.k1 >= 0) || !Number.isFinite(params.k1)) invalid(`BM25 k1 must be a finite number >= 0, got ${String(params.k1)}.`);
    if (!(params.b >= 0 && params.b <= 1)) invalid(`BM25 b must be in 0..1, got ${String(params.b)}.`);
    const fields = this.pickColumns(options.columns);
    const boosts = options.boosts ?? [];
    if (!Array.isArray(boosts) || boosts.length > fields.length || !boosts.every((x) => typeof x === "number" && Number.isFinite(x) && x > 0)) {
      invalid(`FTS boosts must be at most ${fields.length} finite numbers > 0, one per searched column.`);
    }
    const keep = rowPredicate(options.allowed);
    const statsOf = options.statistics !== undefined ? this.givenStats(options.statistics) : this.corpusStats(options.corpus);
    const clauses = parseQuery(query, this.tokenizer, options.phrase);
    if (clauses.length > MAX_CLAUSES) invalid(`FTS query has ${clauses.length} distinct terms; the limit is ${MAX_CLAUSES}.`);
    if (k === 0 || clauses.length === 0 || this.count === 0) return { rows: new Float64Array(0), scores: new Float32Array(0) };

    const n = this.count;
    if (this.global.length < n) {
      this.global = new Float64Array(Math.max(n, this.global.length * 2));
      this.mark = new Uint8Array(this.global.length);
    }
    const g = this.global;
    const mark = this.mark;
    const matched: number[] = [];
    const s = this.scratch;
    for (let fi = 0; fi < fields.length; fi++) {
      const f = fields[fi]!;
      const boost = boosts[fi] ?? 1;
      const need = scoreColumn(f, clauses, op, params, s, statsOf?.(f.name));
      const t = s.touched.data;
      for (let i = 0; i < s.touched.length; i++) {
        const d = t[i]!;
        const score = s.acc[d]! * boost;
        const ok = s.hits[d]! >= need && need > 0;
        s.acc[d] = 0;
        s.hits[d] = 0;
        if (!ok) continue;
        if (mark[d] === 0) {
          mark[d] = 1;
          matched.push(d);
          g[d] = score;
        } else g[d] = combine === "sum" ? g[d]! + score : Math.max(g[d]!, score);
      }
    }
    try {
      return selectTopK(matched, g, this.rows, k, keep);
    } finally {
      // Also when `allowed` throws: the buffers must be zero for the next query.
      for (const d of matched) {
        mark[d] = 0;
        g[d] = 0;
      }
    }
  }

  /** Statistics given as data, falling back to this index's own for columns and terms they lack. */
  private givenStats(given: FtsCorpusStatistics): (column: string) => ColumnStats | undefined {
    return (column) => {
      const g = given[column];
      if (g === undefined) return undefined;
      const field = this.fields.find((f) => f.name === column)!;
      return {
        docCount: g.docCount, totalLen: g.totalLen,
        df: (term) => g.df[term] ?? field.df.data[field.terms.get(term) ?? -1] ?? 0,
      };
    };
  }

  /**
   * The statistics of `query`'s terms over `shards` (one logical index: the same columns and
   * tokenizer), for the columns searched: what a sharded view sums over its shards before each
   * scores with the sum.
   */
  static statistics(shards: readonly FtsIndex[], query: string, options: { phrase?: boolean; columns?: readonly string[] } = {}): FtsCorpusStatistics {
    const first = shards[0];
    if (first === undefined) return {};
    const clauses = parseQuery(query, first.tokenizer, options.phrase);
    const terms = new Set(clauses.flatMap((c) => (c.kind === "term" ? [c.term] : c.terms)));
    const tokenizer = JSON.stringify(first.tokenizer.options);
    const out: Record<string, FtsCorpusStatistics[string]> = {};
    for (const field of first.pickColumns(options.columns)) {
      const fields = shards.map((s) => s.fields.find((f) => f.name === field.name));
      if (fields.some((f) => f === undefined) || shards.some((s) => JSON.stringify(s.tokenizer.options) !== tokenizer)) {
        invalid("FTS shards must index the same columns with the same tokenizer options.");
      }
      let docCount = 0;
      let totalLen = 0;
      const df: Record<string, number> = {};
      for (const f of fields as FieldIndex[]) {
        f.flush();
        docCount += f.docCount;
        totalLen += f.totalLen;
        for (const term of terms) {
          const t = f.terms.get(term);
          if (t !== undefined) df[term] = (df[term] ?? 0) + f.df.data[t]!;
        }
      }
      out[field.name] = { docCount, totalLen, df, tokenizer };
    }
    return out;
  }

  /** Per-column statistics over `corpus` (undefined: this index's own). */
  private corpusStats(corpus: readonly FtsIndex[] | undefined): ((column: string) => ColumnStats) | undefined {
    if (corpus === undefined || (corpus.length === 1 && corpus[0] === this)) return undefined;
    if (!Array.isArray(corpus) || !corpus.includes(this) || !corpus.every((c) => c instanceof FtsIndex)) {
      invalid("FTS corpus must be an array of FtsIndex objects that includes the index searched.");
    }
    const same = JSON.stringify(this.tokenizer.options);
    for (const other of corpus) {
      if (other.columns.join("\u0000") !== this.columns.join("\u0000") || JSON.stringify(other.tokenizer.options) !== same) {
        invalid("FTS corpus indexes must index the same columns with the same tokenizer options.");
      }
    }
    return (column) => {
      const fields = corpus.map((c) => c.fields.find((f) => f.name === column)!);
      let docCount = 0;
      let totalLen = 0;
      for (const f of fields) {
        f.flush();
        docCount += f.docCount;
        totalLen += f.totalLen;
      }
      return {
        docCount, totalLen,
        df: (term) => {
          let df = 0;
          for (const f of fields) {
            const t = f.terms.get(term);
            if (t !== undefined) df += f.df.data[t]!;
          }
          return df;
        },
      };
    };
  }

  private pickColumns(columns: readonly string[] | undefined): FieldIndex[] {
    if (columns === undefined) return this.fields;
    if (!Array.isArray(columns)) invalid("FTS search columns must be an array of column names.");
    return columns.map((c) => {
      const f = this.fields.find((x) => x.name === c);
      if (!f) throw createError("UNKNOWN_COLUMN", `Column "${c}" has no full-text index here. Indexed: ${this.columns.join(", ")}.`, { column: c });
      return f;
    });
  }

  /** The whole index as bytes (format in docs/FTS.md). */
  serialize(): Uint8Array {
    return encodeIndex({ options: this.tokenizer.options, rows: this.rows.subarray(0, this.count), fields: this.fields });
  }

  /** Reads `serialize()`'s bytes back; damaged input throws CORRUPT_FILE. */
  static async deserialize(bytes: Uint8Array): Promise<FtsIndex> {
    let resolved: FtsOptions | undefined;
    const decoded = decodeIndex(bytes, (raw) => {
      try {
        if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new TypeError("not an object");
        resolved = resolveFtsOptions(raw as Partial<FtsOptions>);
      } catch (e) {
        corrupt(`stored options are invalid (${e instanceof Error ? e.message : String(e)})`);
      }
      return resolved.withPosition;
    });
    const o = resolved!;
    let tokenizer: Tokenizer;
    try {
      const needsLanguage = o.stem || (o.removeStopWords && o.customStopWords === undefined);
      tokenizer = new Tokenizer(o, needsLanguage && (o.baseTokenizer === "simple" || o.baseTokenizer === "whitespace") ? await loadLanguage(o.language) : undefined);
    } catch (e) {
      return corrupt(`stored options name an unknown language (${e instanceof Error ? e.message : String(e)})`);
    }
    if (decoded.fields.length === 0) corrupt("no columns");
    return new FtsIndex(tokenizer, decoded.fields, decoded.rows, decoded.rows.length);
  }
}

/**
 * Searches several separately built indexes (one per column, as LanceDB keeps them; each may be
 * shards, see `searchShards`) as one query:
 * each index scores all its matches, a row keeps its best score (or the sum, `combine: "sum"`), and
 * the best `k` come back. `boosts` here has one entry per index. Exact, at the cost of scoring every match
 * of every index.
 */
export function searchIndexes(indexes: readonly (FtsIndex | readonly FtsIndex[])[], query: string, options: FtsSearchOptions = {}): FtsResults {
  const search = (idx: FtsIndex | readonly FtsIndex[], opts: FtsSearchOptions): FtsResults => (idx instanceof FtsIndex ? idx.search(query, opts) : searchShards(idx, query, opts));
  if (indexes.length === 1) return search(indexes[0]!, options);
  const { boosts = [], ...rest } = options;
  if (!Array.isArray(boosts) || boosts.length > indexes.length || !boosts.every((x) => typeof x === "number" && Number.isFinite(x) && x > 0)) {
    invalid(`FTS boosts must be at most ${indexes.length} finite numbers > 0, one per index.`);
  }
  const combine = options.combine ?? "max";
  const acc = new Map<number, number>();
  indexes.forEach((idx, i) => {
    const boost = boosts[i] ?? 1;
    const { rows, scores } = search(idx, { ...rest, k: Infinity });
    for (let j = 0; j < rows.length; j++) {
      const r = rows[j]!;
      const s = scores[j]! * boost;
      const prev = acc.get(r);
      acc.set(r, prev === undefined ? s : combine === "sum" ? prev + s : Math.max(prev, s));
    }
  });
  const rows = Float64Array.from(acc.keys());
  const score = Float64Array.from(acc.values());
  const cands = Uint32Array.from(rows.keys());
  return selectTopK(cands, score, rows, options.k ?? 10, undefined);
}

/**
 * Searches shards of one logical index (disjoint rows, same columns and tokenizer) as that index:
 * each shard scores with the union's statistics and returns its top k; the best k of those are the
 * union's top k. Costs the shards' matches — the large shard is not copied or merged.
 */
export function searchShards(shards: readonly FtsIndex[], query: string, options: FtsSearchOptions = {}): FtsResults {
  if (shards.length === 1) return shards[0]!.search(query, options);
  const parts = shards.map((shard) => shard.search(query, options.statistics !== undefined ? options : { ...options, corpus: shards }));
  const rows = new Float64Array(parts.reduce((n, p) => n + p.rows.length, 0));
  const scores = new Float64Array(rows.length);
  let at = 0;
  for (const p of parts) {
    rows.set(p.rows, at);
    scores.set(p.scores, at);
    at += p.rows.length;
  }
  return selectTopK(Uint32Array.from(rows.keys()), scores, rows, options.k ?? 10, undefined);
}

/**
 * Sums statistics of disjoint shards of one logical corpus (each from `FtsIndex.statistics` for the
 * same query). Shards tokenized differently cannot be searched as one: INVALID_ARGUMENT.
 */
export function addStatistics(parts: readonly FtsCorpusStatistics[]): FtsCorpusStatistics {
  const out: Record<string, { docCount: number; totalLen: number; df: Record<string, number>; tokenizer: string }> = {};
  for (const part of parts) {
    for (const [column, s] of Object.entries(part)) {
      const o = out[column];
      if (o === undefined) {
        out[column] = { docCount: s.docCount, totalLen: s.totalLen, df: { ...s.df }, tokenizer: s.tokenizer };
        continue;
      }
      if (o.tokenizer !== s.tokenizer) invalid(`The full-text indexes of column "${column}" are tokenized differently in different shards; rebuild them with the same Index.fts() options.`, { column });
      o.docCount += s.docCount;
      o.totalLen += s.totalLen;
      for (const [term, n] of Object.entries(s.df)) o.df[term] = (o.df[term] ?? 0) + n;
    }
  }
  return out;
}

/**
 * The statistics of `query`'s terms over several indexes (one per column, each maybe in shards, as
 * a table keeps them): what one table contributes to a sharded view's sum.
 */
export function indexesStatistics(indexes: readonly (readonly FtsIndex[])[], query: string, options: { phrase?: boolean } = {}): FtsCorpusStatistics {
  return addStatistics(indexes.map((shards) => FtsIndex.statistics(shards, query, options)));
}
