/**
 * What a bundler that inlines every dynamic import (Vite's default IIFE worker format) puts into the
 * worker script: esbuild without code splitting does the same, so its metafile lists every module
 * the worker script can reach. apache-arrow must not be among them (Arrow objects are built on the
 * page), nor, with the loader Vite's production builds get, any language but English.
 */
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { LANGUAGES } from "../../src/fts/language-names.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

async function inputsOf(entry: string, languageLoader: string): Promise<string[]> {
  const result = await build({
    entryPoints: [`${root}${entry}`],
    bundle: true,
    splitting: false,
    format: "esm",
    platform: "browser",
    write: false,
    metafile: true,
    logLevel: "silent",
    alias: { "#fts-language-loader": `${root}${languageLoader}` },
  });
  return Object.keys((result.metafile as Metafile).inputs);
}

describe("the worker script, every dynamic import inlined", () => {
  for (const entry of ["src/worker/worker.ts", "src/worker/serve.ts"]) {
    it(`${entry}: no apache-arrow; languages by URL under Vite's production loader`, async () => {
      const inputs = await inputsOf(entry, "src/fts/language-files.ts");
      expect(inputs.some((p) => p.includes("src/fts/languages.ts")), "the FTS code is in the worker").toBe(true);
      expect(inputs.filter((p) => p.includes("node_modules/apache-arrow/"))).toEqual([]);
      expect(inputs.filter((p) => p.includes("node_modules/@orama/") && !/\/en\.js$/.test(p))).toEqual([]);
    });
  }

  it("the page entry does reach apache-arrow, so the checks above would see it", async () => {
    const inputs = await inputsOf("src/index.ts", "src/fts/language-files.ts");
    expect(inputs.some((p) => p.includes("node_modules/apache-arrow/"))).toBe(true);
  });

  it("the literal loader (other bundlers, Node) names every language, so each becomes a chunk of its own", async () => {
    const inputs = await inputsOf("src/worker/worker.ts", "src/fts/language-imports.ts");
    const orama = inputs.filter((p) => p.includes("node_modules/@orama/stemmers/")).length;
    expect(orama).toBe(LANGUAGES.length + 1); // and English
    expect(inputs.filter((p) => p.includes("node_modules/apache-arrow/"))).toEqual([]);
  });
});
