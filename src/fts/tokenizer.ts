/**
 * Text → terms, the same way for documents and queries. The pipeline per base token ("word"):
 *
 *   split (baseTokenizer) → drop if longer than maxTokenLength → lowercase → drop stop words
 *     → stem → ASCII-fold
 *
 * Stop words are checked before stemming (tantivy, which LanceDB uses, stems first, so "was" becomes
 * "wa" and survives its own stop list). Stemming runs before folding because the Snowball stemmers
 * know their language's accented suffixes. Each word keeps the position it had in the split stream,
 * so dropped words leave gaps and a phrase query still lines up with the document.
 *
 * `raw` and `ngram` only lowercase and fold: stemming or stop-listing a whole value or a 3-gram would
 * make exact and substring matching wrong.
 */
import { loadLanguage, type LanguagePack } from "./languages.js";
import { resolveFtsOptions, type FtsOptions } from "./options.js";

/** Called once per term, in text order; `position` counts base tokens from 0. */
export type TermSink = (term: string, position: number) => void;

const SIMPLE = /[\p{L}\p{N}\p{M}]+/gu;
const WHITESPACE = /\S+/gu;
const NON_ASCII = /[^\x00-\x7f]/;
const MARKS = /\p{M}+/gu;

// Latin letters NFKD leaves alone (they are letters of their own, not a base + accent).
const FOLD_SPECIAL: Record<string, string> = {
  ß: "ss", ẞ: "SS", æ: "ae", Æ: "AE", œ: "oe", Œ: "OE", ø: "o", Ø: "O", ł: "l", Ł: "L", đ: "d", Đ: "D",
  ð: "d", Ð: "D", þ: "th", Þ: "TH", ı: "i", ħ: "h", Ħ: "H", ŧ: "t", Ŧ: "T", ŀ: "l", Ŀ: "L", ĸ: "q", ŋ: "n", Ŋ: "N",
};
const SPECIAL = new RegExp(`[${Object.keys(FOLD_SPECIAL).join("")}]`, "gu");

/** "Crème Brûlée" → "Creme Brulee", "Straße" → "Strasse", "ﬁ" → "fi". ASCII input is returned as is. */
export function asciiFold(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  return s.normalize("NFKD").replace(MARKS, "").replace(SPECIAL, (c) => FOLD_SPECIAL[c]!);
}

const STEM_CACHE_LIMIT = 100_000;

export class Tokenizer {
  readonly options: Readonly<FtsOptions>;
  private readonly stemFn: ((w: string) => string) | undefined;
  private readonly stopWords: ReadonlySet<string> | undefined;
  private readonly cache = new Map<string, string | null>();
  private readonly wordMode: boolean;

  /** `pack` must be the loaded language of `options.language` when stemming or stop words are on. */
  constructor(options: FtsOptions, pack: LanguagePack | undefined) {
    this.options = Object.freeze({ ...options });
    this.wordMode = options.baseTokenizer === "simple" || options.baseTokenizer === "whitespace";
    this.stemFn = options.stem && this.wordMode ? pack?.stem : undefined;
    if (options.removeStopWords && this.wordMode) {
      const list = options.customStopWords ?? pack?.stopWords ?? [];
      const set = new Set<string>();
      for (const w of list) {
        const lw = options.lowercase ? w.toLowerCase() : w;
        set.add(lw);
        if (options.asciiFolding) set.add(asciiFold(lw));
      }
      this.stopWords = set;
    }
  }

  /** Resolves the options and loads the language they need. */
  static async create(options: Partial<FtsOptions> = {}): Promise<Tokenizer> {
    const o = resolveFtsOptions(options);
    const needsLanguage = (o.stem || (o.removeStopWords && o.customStopWords === undefined)) && (o.baseTokenizer === "simple" || o.baseTokenizer === "whitespace");
    return new Tokenizer(o, needsLanguage ? await loadLanguage(o.language) : undefined);
  }

  /** The terms of `text`, in order (repeats kept). */
  tokenize(text: string): string[] {
    const out: string[] = [];
    this.forEachTerm(text, (t) => out.push(t));
    return out;
  }

  /** Terms with their positions. */
  tokenizeWithPositions(text: string): { term: string; position: number }[] {
    const out: { term: string; position: number }[] = [];
    this.forEachTerm(text, (term, position) => out.push({ term, position }));
    return out;
  }

  /** The allocation-light form used by the index: calls `sink` once per term. */
  forEachTerm(text: string, sink: TermSink): void {
    const o = this.options;
    const max = o.maxTokenLength ?? Infinity;
    if (o.baseTokenizer === "raw") {
      if (text.length > 0 && text.length <= max) sink(this.normalize(text), 0);
      return;
    }
    const re = o.baseTokenizer === "whitespace" ? WHITESPACE : SIMPLE;
    re.lastIndex = 0;
    let position = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text), position++) {
      const word = m[0];
      if (word.length > max) continue;
      if (o.baseTokenizer === "ngram") this.emitGrams(this.normalize(word), position, sink);
      else {
        const term = this.wordTerm(word);
        if (term !== undefined) sink(term, position);
      }
    }
  }

  private normalize(s: string): string {
    if (this.options.lowercase) s = s.toLowerCase();
    return this.options.asciiFolding ? asciiFold(s) : s;
  }

  // One lookup per token: the raw word → its term, or null for a stop word. Cleared when it grows
  // past STEM_CACHE_LIMIT entries, which bounds memory on unbounded vocabularies.
  private wordTerm(word: string): string | undefined {
    let term = this.cache.get(word);
    if (term === undefined) {
      term = this.computeTerm(word);
      if (this.cache.size >= STEM_CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, term);
    }
    return term ?? undefined;
  }

  private computeTerm(word: string): string | null {
    const w = this.options.lowercase ? word.toLowerCase() : word;
    if (this.stopWords?.has(w)) return null;
    const stemmed = this.stemFn ? this.stemFn(w) : w;
    return this.options.asciiFolding ? asciiFold(stemmed) : stemmed;
  }

  private emitGrams(word: string, position: number, sink: TermSink): void {
    const { ngramMinLength: lo, ngramMaxLength: hi, prefixOnly } = this.options;
    // Code points, so a gram never splits a surrogate pair.
    const cps = Array.from(word);
    if (cps.length < lo) {
      if (cps.length > 0) sink(word, position);
      return;
    }
    const last = prefixOnly ? 0 : cps.length - lo;
    for (let start = 0; start <= last; start++) {
      for (let n = lo; n <= hi && start + n <= cps.length; n++) sink(cps.slice(start, start + n).join(""), position);
    }
  }
}
