// Run by test/runtimes/deno.test.ts under the real Deno binary: a file-system table written,
// reopened and searched through the public API. Argument: an empty directory to write into.
import { connect } from "../../../src/index.js";

const dir = (globalThis as unknown as { Deno: { args: string[] } }).Deno.args[0]!;
const rows = Array.from({ length: 500 }, (_, i) => ({ id: i, tag: i % 2 === 0 ? "even" : "odd", vector: [i, i % 10, 1] }));

const db = await connect(dir);
const t = await db.createTable("docs", rows.slice(0, 300));
await t.add(rows.slice(300));
await t.delete("id < 10");
await db.close();

const again = await connect(dir);
const t2 = await again.openTable("docs");
const nearest = await t2.search([42, 2, 1]).limit(3).toArray();
const filtered = await t2.search([42, 2, 1]).where("tag = 'odd'").select(["id"]).limit(2).toArray();
console.log(JSON.stringify({
  version: await t2.version(),
  count: await t2.countRows(),
  nearest: nearest.map((r) => r.id),
  filtered: filtered.map((r) => r.id),
}));
