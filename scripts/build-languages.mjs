#!/usr/bin/env node
// Part of `npm run build:ts`: writes dist/languages/<name>.js, one self-contained ES module per
// language loaded on demand (its stemmer from @orama/stemmers and its stop words from
// @orama/stopwords, bundled and minified, no imports left), with a source map. dist/fts/language-files.js
// loads them by URL in Vite's production builds (see src/fts/language-files.ts for why).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { LANGUAGES } = await import(join(root, "dist/fts/language-names.js"));
const version = (name) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
// The notice of the bundled code (@orama/stemmers and @orama/stopwords: both Apache-2.0, OramaSearch Inc.).
const notice = (language) =>
  `/*! ${language}: stemmer from @orama/stemmers ${version("@orama/stemmers")} and stop words from @orama/stopwords ${version("@orama/stopwords")}.\n` +
  ` * Copyright 2023 OramaSearch Inc. Licensed under the Apache License, Version 2.0: http://www.apache.org/licenses/LICENSE-2.0 */`;

await Promise.all(LANGUAGES.map((language) => build({
  stdin: {
    contents: `export { stemmer } from "@orama/stemmers/${language}";\nexport { stopwords } from "@orama/stopwords/${language}";\n`,
    resolveDir: root,
    sourcefile: `languages/${language}.js`,
  },
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  minify: true,
  sourcemap: true,
  banner: { js: notice(language) },
  outfile: join(root, "dist/languages", `${language}.js`),
  logLevel: "error",
})));
