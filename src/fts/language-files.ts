/**
 * The language loader for Vite's production builds (the "production" export condition of
 * "#fts-language-loader" in package.json; webpack, which sets that condition too, is matched first
 * and gets ./language-imports.ts). Vite builds workers as one IIFE by default, which inlines every
 * `import()` it can follow: with literal imports all 25 languages would sit in the worker script.
 * Here each language is one self-contained module, dist/languages/<name>.js (stemmer and stop words,
 * built by scripts/build-languages.mjs), found with `new URL(…, import.meta.url)`: Vite emits every
 * file that template matches as an asset and gives the URL of the one asked for, also inside an
 * IIFE worker, and the `import()` it goes through is left to the browser. `?no-inline` keeps Vite
 * from inlining the smallest files (under its 4 KB assetsInlineLimit) into the script as data: URLs.
 */
import { createError } from "../errors.js";
import type { LanguageModule } from "./language-names.js";

/** The stemmer and stop words of `name` (one of LANGUAGES), fetched from its own file on first use. */
export async function importLanguage(name: string): Promise<LanguageModule> {
  const url = new URL(`../languages/${name}.js?no-inline`, import.meta.url).href;
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ url)) as LanguageModule;
  } catch (e) {
    throw createError("NETWORK_ERROR", `The FTS language file for "${name}" did not load from ${url}: is it served with the rest of the app?`, { url }, e);
  }
}
