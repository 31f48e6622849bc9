/**
 * Stemmers and stop-word lists per language, from `@orama/stemmers` and `@orama/stopwords`: ESM,
 * one small module per language (2–30 KB), Apache-2.0, no dependencies, and browser-safe. English
 * is bundled; every other language is a dynamic `import()`, so a bundler splits it into its own chunk
 * and an app only downloads the languages it indexes. The stemmers are Snowball ports except English,
 * which is Porter's original algorithm (see docs/FTS.md for how it compares on SciFact).
 *
 * Names follow LanceDB (tantivy's `Language`), matched case-insensitively.
 */
import { stemmer as englishStemmer } from "@orama/stemmers/english";
import { stopwords as englishStopWords } from "@orama/stopwords/english";
import { createError } from "../errors.js";

export interface LanguagePack {
  /** Canonical name ("English"). */
  readonly name: string;
  /** Reduces a lowercase word to its stem; absent when no stemmer exists for the language. */
  readonly stem?: (word: string) => string;
  /** Lowercase stop words; absent when no list exists for the language. */
  readonly stopWords?: readonly string[];
}

type Loader = () => Promise<{ stem?: (w: string) => string; stopWords?: readonly string[] }>;

const both = (stem: Promise<{ stemmer: (w: string) => string }>, stop: Promise<{ stopwords: string[] }>): ReturnType<Loader> =>
  Promise.all([stem, stop]).then(([a, b]) => ({ stem: a.stemmer, stopWords: b.stopwords }));

// Each specifier is a literal so bundlers can see and split every language.
const LOADERS: Record<string, Loader> = {
  arabic: () => both(import("@orama/stemmers/arabic"), import("@orama/stopwords/arabic")),
  armenian: () => both(import("@orama/stemmers/armenian"), import("@orama/stopwords/armenian")),
  bulgarian: () => both(import("@orama/stemmers/bulgarian"), import("@orama/stopwords/bulgarian")),
  danish: () => both(import("@orama/stemmers/danish"), import("@orama/stopwords/danish")),
  dutch: () => both(import("@orama/stemmers/dutch"), import("@orama/stopwords/dutch")),
  finnish: () => both(import("@orama/stemmers/finnish"), import("@orama/stopwords/finnish")),
  french: () => both(import("@orama/stemmers/french"), import("@orama/stopwords/french")),
  german: () => both(import("@orama/stemmers/german"), import("@orama/stopwords/german")),
  greek: () => both(import("@orama/stemmers/greek"), import("@orama/stopwords/greek")),
  hungarian: () => both(import("@orama/stemmers/hungarian"), import("@orama/stopwords/hungarian")),
  indonesian: () => both(import("@orama/stemmers/indonesian"), import("@orama/stopwords/indonesian")),
  irish: () => both(import("@orama/stemmers/irish"), import("@orama/stopwords/irish")),
  italian: () => both(import("@orama/stemmers/italian"), import("@orama/stopwords/italian")),
  lithuanian: () => both(import("@orama/stemmers/lithuanian"), import("@orama/stopwords/lithuanian")),
  nepali: () => both(import("@orama/stemmers/nepali"), import("@orama/stopwords/nepali")),
  norwegian: () => both(import("@orama/stemmers/norwegian"), import("@orama/stopwords/norwegian")),
  portuguese: () => both(import("@orama/stemmers/portuguese"), import("@orama/stopwords/portuguese")),
  romanian: () => both(import("@orama/stemmers/romanian"), import("@orama/stopwords/romanian")),
  russian: () => both(import("@orama/stemmers/russian"), import("@orama/stopwords/russian")),
  serbian: () => both(import("@orama/stemmers/serbian"), import("@orama/stopwords/serbian")),
  spanish: () => both(import("@orama/stemmers/spanish"), import("@orama/stopwords/spanish")),
  swedish: () => both(import("@orama/stemmers/swedish"), import("@orama/stopwords/swedish")),
  tamil: () => both(import("@orama/stemmers/tamil"), import("@orama/stopwords/tamil")),
  turkish: () => both(import("@orama/stemmers/turkish"), import("@orama/stopwords/turkish")),
  ukrainian: () => both(import("@orama/stemmers/ukrainian"), import("@orama/stopwords/ukrainian")),
};

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Every language name `language` accepts. */
export const SUPPORTED_LANGUAGES: readonly string[] = ["English", ...Object.keys(LOADERS).map(capitalize)].sort();

const loaded = new Map<string, LanguagePack>([
  ["english", { name: "English", stem: englishStemmer, stopWords: englishStopWords }],
]);

function key(language: string): string {
  const k = language.trim().toLowerCase();
  if (!loaded.has(k) && !(k in LOADERS)) {
    throw createError("INVALID_ARGUMENT", `FTS language "${language}" is not supported. Supported: ${SUPPORTED_LANGUAGES.join(", ")}.`);
  }
  return k;
}

/** Loads (once) the stemmer and stop words of `language`. English resolves without a network fetch. */
export async function loadLanguage(language: string): Promise<LanguagePack> {
  const k = key(language);
  const have = loaded.get(k);
  if (have) return have;
  const { stem, stopWords } = await LOADERS[k]!();
  const pack: LanguagePack = { name: capitalize(k), ...(stem ? { stem } : {}), ...(stopWords ? { stopWords } : {}) };
  loaded.set(k, pack);
  return pack;
}

/** The pack of an already loaded language; throws INVALID_ARGUMENT if it was never loaded. */
export function loadedLanguage(language: string): LanguagePack {
  const pack = loaded.get(key(language));
  if (!pack) throw createError("INVALID_ARGUMENT", `FTS language "${language}" is not loaded yet: await loadLanguage("${language}") first.`);
  return pack;
}
