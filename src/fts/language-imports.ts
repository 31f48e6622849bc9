/**
 * The language loader for bundlers that split dynamic imports into chunks (esbuild, Rollup, webpack,
 * Vite's dev server and ES-format workers) and for Node, Deno and workerd: every language is a
 * literal `import()` of @orama/stemmers and @orama/stopwords, so each becomes a chunk of its own
 * and shares code with an app's own imports of those packages. Selected by package.json "imports"
 * ("#fts-language-loader"); ./language-files.ts is the other loader.
 */
import type { LanguageModule } from "./language-names.js";

const both = (stem: Promise<{ stemmer: (w: string) => string }>, stop: Promise<{ stopwords: string[] }>): Promise<LanguageModule> =>
  Promise.all([stem, stop]).then(([a, b]) => ({ stemmer: a.stemmer, stopwords: b.stopwords }));

// Each specifier is a literal so bundlers can see and split every language.
const LOADERS: Record<string, () => Promise<LanguageModule>> = {
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

/** The stemmer and stop words of `name` (one of LANGUAGES), imported. */
export function importLanguage(name: string): Promise<LanguageModule> {
  return LOADERS[name]!();
}
