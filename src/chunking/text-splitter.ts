/**
 * A recursive text splitter for RAG ingestion: long documents become rows of chunks, each an exact
 * substring of its document with its offsets, small enough to embed.
 *
 * A span longer than `chunkSize` is cut at the strongest boundary it contains, and pieces that are
 * still too long are cut at the next one:
 *
 *   paragraphs (blank line) → lines → sentences (. ! ? … 。！？) → words (whitespace) → graphemes
 *
 * Neighbouring pieces of one level are then packed greedily into chunks of at most `chunkSize`, and
 * each chunk after the first starts with the last whole pieces of the one before, up to
 * `chunkOverlap`. Separators stay with the piece they end, so every character of the input lies in
 * some chunk (chunks are trimmed of whitespace at their ends) and `text === doc.slice(start, end)`.
 */
import { createError } from "../errors.js";
import type { Row } from "../data/rows.js";

export interface TextSplitterOptions {
  /**
   * Most characters per chunk (Unicode code points; or units of `lengthFunction`). Default 1000.
   * Smaller chunks match queries more precisely but carry less context; keep them within the
   * embedding model's input limit (256–512 tokens for MiniLM-type models, about 4 characters a token).
   */
  chunkSize?: number;
  /** Characters a chunk repeats from the one before, as whole pieces. Default 200; must be < chunkSize. */
  chunkOverlap?: number;
  /**
   * How long a piece of text is, e.g. `(s) => tokenizer.encode(s).length` to size chunks in tokens.
   * Must grow with the text. Default: code points (emoji and other astral characters count once).
   */
  lengthFunction?: (text: string) => number;
  /** Boundaries to cut at, strongest first (global regexes; a match ends a piece). Default: see the top of this file. */
  separators?: readonly RegExp[];
}

export interface TextChunk {
  text: string;
  /** UTF-16 offsets into the document: `text === document.slice(start, end)`. */
  start: number;
  end: number;
}

/** One chunk as a table row. Offsets are UTF-16 code units (JavaScript string indices). */
export interface ChunkRow extends Row {
  source_id: unknown;
  chunk_index: number;
  text: string;
  start: number;
  end: number;
}

export interface ChunkDocumentsOptions extends TextSplitterOptions {
  /** Field holding a document's id, copied to `source_id`. Default "id". */
  idField?: string;
  /** Field holding its text. Default "text". */
  textField?: string;
  /** Other fields copied to each of a document's chunk rows (e.g. "title", "url"). */
  keepFields?: readonly string[];
}

export const DEFAULT_SEPARATORS: readonly RegExp[] = [
  /\n[ \t]*\n\s*/g, // paragraphs
  /\n\s*/g, // lines
  /[.!?…]+["'”’)\]]*\s+|[。！？]+["'”’」』）]*\s*/g, // sentences
  /\s+/g, // words
];

type Span = readonly [start: number, end: number];

const WHITESPACE = /\s/;

let segmenter: Intl.Segmenter | null | undefined;

/** CJK ideographs and kana begin a grapheme (unless a ZWJ precedes them), like ASCII does. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** Whether a grapheme surely begins at `i`: windows are cut there, so no cluster straddles two. */
function safeCut(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0x80) return !(c === 10 && text.charCodeAt(i - 1) === 13);
  return CJK.test(text[i]!) && text.charCodeAt(i - 1) !== 0x200d;
}

function appendGraphemes(text: string, start: number, end: number, starts: number[]): void {
  let ascii = true;
  for (let i = start; i < end && ascii; i++) ascii = text.charCodeAt(i) < 0x80;
  if (ascii) {
    for (let i = start; i < end; i++) if (i === start || safeCut(text, i)) starts.push(i);
    return;
  }
  segmenter ??= typeof Intl.Segmenter === "function" ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
  if (segmenter) {
    for (const s of segmenter.segment(text.slice(start, end))) starts.push(start + s.index);
    return;
  }
  for (let i = start; i < end; i++) {
    starts.push(i);
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) i++; // keep surrogate pairs whole
  }
}

/**
 * Start offsets of the graphemes in [start, end). Intl.Segmenter slows down on long strings, so it
 * sees windows of about 1K code units, cut where a grapheme surely begins; ASCII skips it.
 */
function graphemeStarts(text: string, start: number, end: number): number[] {
  const starts: number[] = [];
  for (let from = start; from < end; ) {
    let to = Math.min(end, from + 1024);
    if (to < end) {
      let c = to;
      while (c > from && !safeCut(text, c)) c--;
      if (c === from) for (c = to; c < end && !safeCut(text, c); ) c++;
      to = c;
    }
    appendGraphemes(text, from, to, starts);
    from = to;
  }
  return starts;
}

export class RecursiveTextSplitter {
  readonly chunkSize: number;
  readonly chunkOverlap: number;
  readonly #lengthFunction: ((text: string) => number) | undefined;
  readonly #separators: readonly RegExp[];

  constructor(options: TextSplitterOptions = {}) {
    const size = options.chunkSize ?? 1000;
    const overlap = options.chunkOverlap ?? Math.min(200, Math.floor(size / 5));
    if (!Number.isInteger(size) || size < 1) throw createError("INVALID_ARGUMENT", `chunkSize must be an integer >= 1, got ${String(size)}.`);
    if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
      throw createError("INVALID_ARGUMENT", `chunkOverlap must be an integer from 0 to chunkSize - 1 (${size - 1}), got ${String(overlap)}.`);
    }
    if (options.lengthFunction !== undefined && typeof options.lengthFunction !== "function") throw createError("INVALID_ARGUMENT", "lengthFunction must be a function.");
    for (const s of options.separators ?? []) {
      if (!(s instanceof RegExp) || !s.global) throw createError("INVALID_ARGUMENT", `separators must be global regular expressions (with the g flag), got ${String(s)}.`);
    }
    this.chunkSize = size;
    this.chunkOverlap = overlap;
    this.#lengthFunction = options.lengthFunction;
    this.#separators = options.separators ?? DEFAULT_SEPARATORS;
  }

  /** Chunks of `text`, in order. Empty or all-whitespace text gives none. */
  splitText(text: string): TextChunk[] {
    if (typeof text !== "string") throw createError("INVALID_ARGUMENT", `splitText needs a string, got ${text === null ? "null" : typeof text}.`);
    const measure = this.measurer(text);
    const spans = this.split(text, measure, 0, text.length, 0);
    const out: TextChunk[] = [];
    for (let [s, e] of spans) {
      while (s < e && WHITESPACE.test(text[s]!)) s++;
      while (e > s && WHITESPACE.test(text[e - 1]!)) e--;
      const prev = out[out.length - 1];
      // A chunk holding nothing but overlap (a word's tail and its trailing space) adds nothing.
      if (s < e && !(prev && s >= prev.start && e <= prev.end)) out.push({ text: text.slice(s, e), start: s, end: e });
    }
    return out;
  }

  /** Rows `{ source_id, chunk_index, text, start, end, ...keepFields }` for every document's chunks. */
  chunkDocuments(docs: readonly Row[], options: Omit<ChunkDocumentsOptions, keyof TextSplitterOptions> = {}): ChunkRow[] {
    const idField = options.idField ?? "id";
    const textField = options.textField ?? "text";
    const keep = options.keepFields ?? [];
    const rows: ChunkRow[] = [];
    docs.forEach((doc, i) => {
      const id = doc?.[idField];
      if (id === undefined || id === null) throw createError("INVALID_ARGUMENT", `Document ${i} has no "${idField}" to use as source_id.`, { row: i, column: idField });
      const text = doc[textField];
      if (text === undefined || text === null) return;
      if (typeof text !== "string") throw createError("INVALID_ARGUMENT", `Document ${i}: "${textField}" must be a string, got ${typeof text}.`, { row: i, column: textField });
      this.splitText(text).forEach((c, k) => {
        const row: ChunkRow = { source_id: id, chunk_index: k, text: c.text, start: c.start, end: c.end };
        for (const f of keep) row[f] = doc[f] ?? null;
        rows.push(row);
      });
    });
    return rows;
  }

  /** length(start, end) of a slice: O(1) from code point prefix counts, or the user's function. */
  private measurer(text: string): (s: number, e: number) => number {
    const fn = this.#lengthFunction;
    if (fn) return (s, e) => fn(text.slice(s, e));
    const prefix = new Uint32Array(text.length + 1);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const lowAfterHigh = c >= 0xdc00 && c <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff;
      prefix[i + 1] = prefix[i]! + (lowAfterHigh ? 0 : 1);
    }
    return (s, e) => prefix[e]! - prefix[s]!;
  }

  /** Chunks (untrimmed spans) covering [start, end), cut at separator `level` or finer. */
  private split(text: string, measure: (s: number, e: number) => number, start: number, end: number, level: number): Span[] {
    if (start >= end) return [];
    if (measure(start, end) <= this.chunkSize) return [[start, end]];
    if (level >= this.#separators.length) {
      const starts = graphemeStarts(text, start, end);
      return this.merge(measure, starts.map((s, i) => [s, starts[i + 1] ?? end] as const));
    }
    const pieces = this.pieces(text, start, end, this.#separators[level]!);
    if (pieces.length <= 1) return this.split(text, measure, start, end, level + 1);
    const out: Span[] = [];
    let group: Span[] = [];
    for (const p of pieces) {
      if (measure(p[0], p[1]) <= this.chunkSize) {
        group.push(p);
        continue;
      }
      out.push(...this.merge(measure, group), ...this.split(text, measure, p[0], p[1], level + 1));
      group = [];
    }
    out.push(...this.merge(measure, group));
    return out;
  }

  /** [start, end) cut after each separator match; the pieces cover it exactly. */
  private pieces(text: string, start: number, end: number, separator: RegExp): Span[] {
    const re = new RegExp(separator.source, separator.flags);
    const slice = text.slice(start, end);
    const out: Span[] = [];
    let from = 0;
    for (const m of slice.matchAll(re)) {
      const cut = m.index + m[0].length;
      if (m[0].length === 0 || cut <= from) continue;
      out.push([start + from, start + cut]);
      from = cut;
    }
    if (from < slice.length) out.push([start + from, end]);
    return out;
  }

  /**
   * Packs contiguous pieces (each within chunkSize, except a lone grapheme longer than it) into
   * chunks, each starting with up to chunkOverlap of the previous chunk's last pieces.
   */
  private merge(measure: (s: number, e: number) => number, pieces: readonly Span[]): Span[] {
    const n = pieces.length;
    const out: Span[] = [];
    const fits = (from: number, to: number, limit: number): boolean => measure(pieces[from]![0], pieces[to - 1]![1]) <= limit;
    let first = 0;
    while (first < n) {
      // Largest `last` with pieces[first, last) within chunkSize: gallop, then bisect, so a costly
      // lengthFunction is called O(log n) times per chunk on slices near chunkSize.
      let last = first + 1; // always taken, even if it alone is too long
      let bad = -1;
      for (let step = 1; last < n; step *= 2) {
        const probe = Math.min(n, last + step);
        if (!fits(first, probe, this.chunkSize)) { bad = probe; break; }
        last = probe;
      }
      if (bad !== -1) {
        let b = bad - 1; // fits(first, last) holds, fits(first, bad) does not
        while (last < b) {
          const mid = (last + b + 1) >> 1;
          if (fits(first, mid, this.chunkSize)) last = mid; else b = mid - 1;
        }
      }
      out.push([pieces[first]![0], pieces[last - 1]![1]]);
      if (last >= n) break;
      // Back up over whole pieces for the overlap, as long as the next piece still fits after them.
      let next = last;
      while (next - 1 > first && fits(next - 1, last, this.chunkOverlap) && fits(next - 1, last + 1, this.chunkSize)) next--;
      first = next;
    }
    return out;
  }
}

/** `new RecursiveTextSplitter(options).splitText(text)`. */
export function splitText(text: string, options: TextSplitterOptions = {}): TextChunk[] {
  return new RecursiveTextSplitter(options).splitText(text);
}

/** Chunk rows for documents: `{ source_id, chunk_index, text, start, end, ...keepFields }`. */
export function chunkDocuments(docs: readonly Row[], options: ChunkDocumentsOptions = {}): ChunkRow[] {
  const { idField, textField, keepFields, ...splitter } = options;
  return new RecursiveTextSplitter(splitter).chunkDocuments(docs, { idField, textField, keepFields });
}
