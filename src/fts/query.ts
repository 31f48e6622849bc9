/**
 * A query string → clauses. Words outside double quotes become term clauses; a quoted span becomes a
 * phrase clause (its words must appear in order, at the same distances as in the query, which keeps
 * gaps left by stop words). A quoted span of one word is a term clause. An unmatched quote is ignored.
 *
 *   `heart "blood pressure" risk`  →  term heart, phrase [blood pressure], term risk
 *
 * `phrase: true` makes the whole query one phrase; `phrase: false` reads quotes as plain characters.
 * The `raw` and `ngram` tokenizers never parse quotes (a raw value may contain them, and grams have
 * no word positions).
 */
import { createError } from "../errors.js";
import type { Tokenizer } from "./tokenizer.js";

export interface TermClause {
  readonly kind: "term";
  readonly term: string;
  /** How many times the term occurs in the query (its weight). */
  readonly count: number;
}

export interface PhraseClause {
  readonly kind: "phrase";
  readonly terms: readonly string[];
  /** Position of each term relative to the first. */
  readonly offsets: readonly number[];
}

export type Clause = TermClause | PhraseClause;

export function parseQuery(query: string, tokenizer: Tokenizer, phrase: boolean | undefined): Clause[] {
  if (typeof query !== "string") throw createError("INVALID_ARGUMENT", `A full-text query must be a string, got ${typeof query}.`);
  const base = tokenizer.options.baseTokenizer;
  const wordMode = base === "simple" || base === "whitespace";
  if (phrase === true && !wordMode) {
    throw createError("INVALID_ARGUMENT", `Phrase queries need the "simple" or "whitespace" tokenizer; this index uses "${base}".`);
  }
  const bare: string[] = [];
  const phrases: string[] = [];
  if (phrase === true) phrases.push(query);
  else if (phrase === false || !wordMode) bare.push(query);
  else {
    const parts = query.split('"');
    // Even parts are outside quotes; odd parts inside. With an odd number of quotes the last
    // quoted part has no closing quote and is read as bare words.
    const closed = parts.length % 2 === 1 ? parts.length : parts.length - 1;
    for (let i = 0; i < parts.length; i++) (i % 2 === 1 && i < closed ? phrases : bare).push(parts[i]!);
  }

  const clauses: Clause[] = [];
  const counts = new Map<string, number>();
  const addTerm = (t: string): void => {
    counts.set(t, (counts.get(t) ?? 0) + 1);
  };
  for (const text of bare) tokenizer.forEachTerm(text, addTerm);
  for (const text of phrases) {
    const toks = tokenizer.tokenizeWithPositions(text);
    if (toks.length === 1) addTerm(toks[0]!.term);
    else if (toks.length > 1) {
      const p0 = toks[0]!.position;
      clauses.push({ kind: "phrase", terms: toks.map((t) => t.term), offsets: toks.map((t) => t.position - p0) });
    }
  }
  const terms: Clause[] = [...counts].map(([term, count]) => ({ kind: "term", term, count }));
  return [...terms, ...clauses];
}
