/**
 * Imports run downward. Each folder of src/ sits on a layer and may import only from its own layer
 * and the layers below; src/ never imports test code (only the compiled kernels in build/). The table below is the architecture as code:
 * a new upward import fails here with the file and the import that broke the rule.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(__dirname, "../../src");

/** Lowest first. A module in layer i may import layers 0 … i. */
const LAYERS: readonly (readonly string[])[] = [
  ["errors.ts"],
  ["util", "data"],
  ["storage", "kernels", "filter", "fts", "chunking", "arrow"],
  ["ann", "scalar", "indexes", "embeddings"],
  ["rerank", "pool"],
  ["session.ts"],
  ["dataset"],
  ["query"],
  ["table"],
  ["table.ts", "connection.ts", "shard"],
  ["worker", "interop"],
  ["index.ts", "index.workerd.ts", "edge.ts", "interop.ts", "cli", "langchain"],
];

function layerOf(pathInSrc: string): number {
  const top = pathInSrc.split("/")[0]!;
  const layer = LAYERS.findIndex((names) => names.includes(top));
  if (layer < 0) throw new Error(`src/${pathInSrc}: folder or file "${top}" has no layer in test/unit/layers.test.ts`);
  return layer;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) ? [path] : [];
  });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|new URL\(\s*["']([^"']+)["']/g;

function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]!).filter((s) => s.startsWith("."));
}

describe("layering of src/", () => {
  const files = sourceFiles(SRC);

  it("finds the sources", () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it("every import points to the same layer or one below", () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = relative(SRC, file);
      for (const spec of relativeImports(file)) {
        const target = relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, ".ts");
        if (/^\.\.\/build\/quiver\.[\w<>]+\.wasm$/.test(target)) continue; // the compiled kernels
        if (target.startsWith("..")) {
          violations.push(`src/${from} imports ${spec}, outside src/`);
          continue;
        }
        if (layerOf(target) > layerOf(from)) violations.push(`src/${from} imports ${spec} (layer ${layerOf(target)} above ${layerOf(from)})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("the scan pool, embeddings and rerankers do not reach into the database worker facade or query plans", () => {
    const offenders = files
      .filter((f) => /\/(pool|embeddings|rerank)\//.test(f))
      .flatMap((f) => relativeImports(f).filter((s) => /\/(worker|query)\//.test(`/${relative(SRC, resolve(dirname(f), s))}`)).map((s) => `${relative(SRC, f)}: ${s}`));
    expect(offenders).toEqual([]);
  });

  it("the test oracle and test-only helpers are not shipped in src/", () => {
    const names = files.map((f) => relative(SRC, f));
    expect(names.filter((n) => /reference\.ts$|(^|\/)ann\/recall\.ts$|fault-store\.ts$/.test(n))).toEqual([]);
  });
});
