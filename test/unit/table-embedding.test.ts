import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasData } from "../../bench/datasets.js";
import { connect, getRegistry, isQuiverError } from "../../src/index.js";
import { LetterCounts, registerLetterCounts } from "./letter-embedding.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

registerLetterCounts();

describe("tables with an embedding function", () => {
  it("embeds on createTable/add/update/mergeInsert, embeds text queries, and survives reopening", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-embed-"));
    dirs.push(dir);
    const db = await connect(dir);
    const fn = getRegistry().get("letter-counts").create({ salt: 1 });
    const t = await db.createTable("docs", [
      { id: 1, text: "aaaa" },
      { id: 2, text: "bbbb" },
      { id: 3, text: null },
    ], { embeddingFunction: { sourceColumn: "text", function: fn } });
    expect((await t.quiverSchema()).fields.map((f) => [f.name, f.type.kind])).toEqual([["id", "float"], ["text", "utf8"], ["vector", "vector"]]);

    const phases = new Set<string>();
    await t.add([{ id: 4, text: "cccc" }], { progress: (p) => phases.add(p.phase) });
    expect(phases).toEqual(new Set(["embed", "convert"]));
    expect((await t.search("ccc").limit(1).toArray())[0]!.id).toBe(4);
    expect((await t.search("aab").select(["id"]).limit(1).toArray())[0]).toMatchObject({ id: 1 });

    await t.update({ where: "id = 2", values: { text: "zzzz" } });
    expect((await t.search("z").select(["id"]).limit(1).toArray())[0]!.id).toBe(2);
    await t.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([{ id: 5, text: "yyyy" }]);
    expect((await t.search("y").select(["id"]).limit(1).toArray())[0]!.id).toBe(5);
    const nullRow = (await t.query().where("id = 3").toArray())[0]!;
    expect(nullRow.vector).toBeNull();

    const code = async (p: Promise<unknown>): Promise<string> => p.then(() => "none", (e: unknown) => (isQuiverError(e) ? e.code : String(e)));
    expect(await code(t.update({ where: "id = 1", valuesSql: { text: "upper(text)" } }))).toBe("UNSUPPORTED");

    // Reopened in a new connection, the saved config rebuilds the function through the registry.
    const again = await (await connect(dir)).openTable("docs");
    expect((await again.search("cccc").select(["id"]).limit(1).toArray())[0]!.id).toBe(4);
    LetterCounts.embedded = [];
    await again.add([{ id: 6, text: "xxxx" }]);
    expect(LetterCounts.embedded).toEqual(["xxxx"]);
  });

  it("re-adding the same text is served from the cache", async () => {
    const db = await connect("memory://");
    const fn = getRegistry().get("letter-counts").create({ salt: 2 });
    LetterCounts.embedded = [];
    const t = await db.createTable("t", [{ text: "hello world" }], { embeddingFunction: { sourceColumn: "text", function: fn } });
    await t.add([{ text: "hello world" }, { text: "another" }]);
    expect(LetterCounts.embedded).toEqual(["hello world", "another"]);
  });

  it("rejects text queries without a function, and configs that do not fit the table", async () => {
    const db = await connect("memory://");
    const plain = await db.createTable("plain", [{ text: "a", vector: [1, 2] }]);
    await expect(plain.search("a", "vector").toArray()).rejects.toMatchObject({ code: "UNSUPPORTED" });
    const fn = new LetterCounts();
    await expect(db.createTable("x", [{ title: "a" }], { embeddingFunction: { sourceColumn: "text", function: fn } }))
      .rejects.toMatchObject({ code: "SCHEMA_MISMATCH" });
    await expect(db.createTable("y", [{ text: "a" }], { embeddingFunction: { sourceColumn: "text", function: {} as never } }))
      .rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await db.tableNames()).toEqual(["plain"]);
  });

  it.skipIf(!hasData("use-tfjs-energetic-ai", "model.json"))("works with the real Universal Sentence Encoder example", async () => {
    const { registerUse } = await import("../../examples/use-embedding.js");
    registerUse();
    const db = await connect("memory://");
    const fn = getRegistry().get("use").create({});
    const t = await db.createTable("notes", [
      { id: 1, text: "The kitten sleeps on the sofa." },
      { id: 2, text: "Stock markets fell sharply on Monday." },
      { id: 3, text: "A recipe for chocolate cake." },
    ], { embeddingFunction: { sourceColumn: "text", function: fn } });
    const hits = await t.search("a small cat is napping").distanceType("cosine").select(["id"]).limit(1).toArray();
    expect(hits[0]!.id).toBe(1);
  }, 60_000);
});
