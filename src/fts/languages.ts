/**
 * Stemmers and stop-word lists per language, from `@orama/stemmers` and `@orama/stopwords`: ESM,
 * one small module per language (2–30 KB), Apache-2.0, no dependencies, and browser-safe. English
 * is bundled; every other language loads on first use from a file of its own (a chunk a bundler
 * splits off, or dist/languages/<name>.js), so an app only downloads the languages it indexes. The
 * stemmers are Snowball ports except English, which is Porter's original algorithm (see docs/FTS.md
 * for how it compares on SciFact).
 *
 * Names follow LanceDB (tantivy's `Language`), matched case-insensitively.
 */
import { stemmer as englishStemmer } from "@orama/stemmers/english";
import { stopwords as englishStopWords } from "@orama/stopwords/english";
// One of two loaders, chosen by export condition (package.json "imports"): ./language-imports.ts
// (literal import()s that bundlers split) or ./language-files.ts (one self-contained file per
// language, for Vite's production builds, whose default IIFE workers would inline every import()).
import { importLanguage } from "#fts-language-loader";
import { LANGUAGES } from "./language-names.js";
import { createError } from "../errors.js";

export interface LanguagePack {
  /** Canonical name ("English"). */
  readonly name: string;
  /** Reduces a lowercase word to its stem; absent when no stemmer exists for the language. */
  readonly stem?: (word: string) => string;
  /** Lowercase stop words; absent when no list exists for the language. */
  readonly stopWords?: readonly string[];
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Every language name `language` accepts. */
export const SUPPORTED_LANGUAGES: readonly string[] = ["English", ...LANGUAGES.map(capitalize)].sort();

const loaded = new Map<string, LanguagePack>([
  ["english", { name: "English", stem: englishStemmer, stopWords: englishStopWords }],
]);

function key(language: string): string {
  const k = language.trim().toLowerCase();
  if (!loaded.has(k) && !(LANGUAGES as readonly string[]).includes(k)) {
    throw createError("INVALID_ARGUMENT", `FTS language "${language}" is not supported. Supported: ${SUPPORTED_LANGUAGES.join(", ")}.`);
  }
  return k;
}

/** Loads (once) the stemmer and stop words of `language`. English resolves without a network fetch. */
export async function loadLanguage(language: string): Promise<LanguagePack> {
  const k = key(language);
  const have = loaded.get(k);
  if (have) return have;
  const { stemmer, stopwords } = await importLanguage(k);
  // A stemmer that throws on a word (Bulgarian's does for some, in strict mode) leaves it unstemmed.
  const stem = (w: string): string => {
    try {
      return stemmer(w);
    } catch {
      return w;
    }
  };
  const pack: LanguagePack = { name: capitalize(k), stem, stopWords: stopwords };
  loaded.set(k, pack);
  return pack;
}

/** The pack of an already loaded language; throws INVALID_ARGUMENT if it was never loaded. */
export function loadedLanguage(language: string): LanguagePack {
  const pack = loaded.get(key(language));
  if (!pack) throw createError("INVALID_ARGUMENT", `FTS language "${language}" is not loaded yet: await loadLanguage("${language}") first.`);
  return pack;
}
