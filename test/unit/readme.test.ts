import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, expect, it } from "vitest";

// README snippets are tests: the usage example runs against the sources, and its `// N` comments
// after expressions are checked as expected values.
const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(root, "test", ".readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("runs the README usage example", async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const checks: string[] = [];
  const body = block!
    .replace(/from "quiverdb"/g, `from ${JSON.stringify(pathToFileURL(join(root, "src", "index.ts")).href)}`)
    .replace(/^(await [^;\n]+);\s*\/\/\s*(-?\d+)\s*$/gm, (_, expr: string, want: string) => {
      checks.push(want);
      return `__results.push(${expr});`;
    });
  const file = join(dir, "snippet.ts");
  writeFileSync(file, `export const __results: unknown[] = [];\n${body}\n`);
  const mod = (await import(pathToFileURL(file).href)) as { __results: unknown[] };
  expect(checks.length).toBeGreaterThan(0);
  expect(mod.__results.map(String)).toEqual(checks);
});
