/**
 * The languages loaded on demand (English is bundled), lowercase: the keys of both language loaders
 * and the names of the files scripts/build-languages.mjs writes to dist/languages/.
 */
export const LANGUAGES = [
  "arabic", "armenian", "bulgarian", "danish", "dutch", "finnish", "french", "german", "greek", "hungarian", "indonesian",
  "irish", "italian", "lithuanian", "nepali", "norwegian", "portuguese", "romanian", "russian", "serbian", "spanish",
  "swedish", "tamil", "turkish", "ukrainian",
] as const;

/** What a language's module gives: its stemmer and its stop words (as @orama/stemmers and @orama/stopwords name them). */
export interface LanguageModule {
  readonly stemmer: (word: string) => string;
  readonly stopwords: readonly string[];
}
