/**
 * Shards as one table in Chromium: a 3,000-row table (seeded 32-d vectors, text from a small
 * vocabulary, a category) is published whole and as 4 shards (`publish --shards 4`) into one
 * directory, served by a static server on another origin with CORS and Range support. The page
 * opens both over HTTP — the view on its main thread and inside a quiverdb/worker worker — and the
 * sharded answers must equal the whole table's for vector, full-text and hybrid queries.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { connect } from "../../src/connection.js";
import { Index } from "../../src/indexes/config.js";
import { publishTable } from "../../src/cli/publish.js";
import { publishShardedTable } from "../../src/cli/publish-shards.js";
import { seededRandom } from "../../src/ann/common.js";
import { serveStatic, type StaticServer } from "../unit/static-server.js";
import type { ShardReport } from "./fixture/shards-main.js";

const WORDS = ["river", "stone", "maple", "harbor", "lantern", "meadow", "copper", "orchid", "glacier", "ember", "willow", "falcon"];
let dir: string;
let server: StaticServer;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "quiver-browser-shards-"));
  const r = seededRandom(11);
  const rows = Array.from({ length: 3000 }, (_, i) => ({
    id: i, category: `c${i % 3}`,
    // Every 100th row holds "zephyr" 1–3 times among a unique number of other words, so the
    // full-text scores of the query "zephyr" never tie (ties may be ordered differently by shards).
    text: i % 100 === 0
      ? [..."zephyr ".repeat(1 + ((i / 100) % 3)).trim().split(" "), ...Array.from({ length: i / 100 }, (_, k) => WORDS[k % WORDS.length])].join(" ")
      : Array.from({ length: 3 + (i % 7) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" "),
    vector: Array.from({ length: 32 }, () => r() * 2 - 1),
  }));
  const db = await connect(join(dir, "src"));
  const t = await db.createTable("docs", rows);
  await t.createIndex("text", { config: Index.fts() });
  await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 8 }) });
  await db.close();
  await publishTable(join(dir, "src"), "docs", join(dir, "site"));
  await publishShardedTable(join(dir, "src"), "docs", join(dir, "site"), { shards: 4 });
  server = await serveStatic(join(dir, "site"), { cors: "full" });
});

test.afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a sharded remote table answers as the whole table, on the page and in a worker", async ({ page }) => {
  test.setTimeout(90_000);
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/shards.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
  const vector = Array.from({ length: 32 }, (_, i) => Math.sin(i));
  const report = await page.evaluate(
    ([base, v, text]) => (globalThis as unknown as { quiverShards: { compare(b: string, v: number[], t: string): Promise<ShardReport> } }).quiverShards.compare(base, v, text),
    [server.origin, vector, "zephyr"] as const,
  );
  expect(report.numShards).toBe(4);
  expect(report.counts[1]).toBe(report.counts[0]);
  for (const kind of ["vector", "fts", "hybrid"] as const) {
    const [one, sharded] = report[kind];
    expect(one).toHaveLength(10);
    expect(sharded).toEqual(one);
  }
  expect(report.worker.fts).toEqual(report.fts[0]);
  expect(report.worker.vector).toEqual(report.vector[0]);
  expect(report.worker.writeError).toBe("READ_ONLY");
  // The page read the shards over HTTP ranges: every shard's files were asked for.
  for (let i = 0; i < 4; i++) expect(server.log.some((r) => r.path.startsWith(`/docs-${i}-of-4.quiver/`))).toBe(true);
});
