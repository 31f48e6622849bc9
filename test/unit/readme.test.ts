import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, expect, it } from "vitest";

// README snippets are tests: every ```ts block runs against the sources, and its `expr; // value`
// lines (a number, true or false) are checked as expected values.
const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(root, "test", ".readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readme = readFileSync(join(root, "README.md"), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

it.each(blocks.map((b, i) => [i, b] as const))("runs README example %i", async (i, block) => {
  const checks: string[] = [];
  const body = block
    .replace(/from "quiverdb"/g, `from ${JSON.stringify(pathToFileURL(join(root, "src", "index.ts")).href)}`)
    .replace(/from "quiverdb\/interop"/g, `from ${JSON.stringify(pathToFileURL(join(root, "src", "interop.ts")).href)}`)
    .replace(/from "quiverdb\/langchain"/g, `from ${JSON.stringify(pathToFileURL(join(root, "src", "langchain", "index.ts")).href)}`)
    .replace(/^((?:await )?[A-Za-z_][^;\n]*);\s*\/\/\s*(-?\d+|true|false)\s*$/gm, (_, expr: string, want: string) => {
      checks.push(want);
      return `__results.push(${expr});`;
    });
  const file = join(dir, `snippet${i}.ts`);
  writeFileSync(file, `export const __results: unknown[] = [];\n${body}\n`);
  const mod = (await import(pathToFileURL(file).href)) as { __results: unknown[] };
  expect(checks.length).toBeGreaterThan(0);
  expect(mod.__results.map(String)).toEqual(checks);
});
