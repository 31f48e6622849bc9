import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasData, loadGlove } from "../../bench/datasets.js";
import { connect, DataTypes, field, Index, isQuiverError, schema, type Row, type Table } from "../../src/index.js";

/**
 * An IVF over Hamming space for bit-vector columns, on binary codes derived from real data: the
 * signs of the first 96 dimensions of the GloVe vectors (sign binarization, as binary embeddings
 * are made). Recall is tie-aware: Hamming distances are integers, so a result counts when its
 * distance is within the exact k-th distance.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const BITS = 96;
const N = 40_000;
let rows: Row[];
let queries: Uint8Array[];

function signs(v: Float32Array): Uint8Array {
  const out = new Uint8Array(BITS / 8);
  for (let j = 0; j < BITS; j++) if (v[j]! > 0) out[j >> 3]! |= 0x80 >> (j & 7);
  return out;
}

beforeAll(() => {
  if (!hasData("glove-100d-100k", "glove100k_base.fvecs")) throw new Error("glove-100d-100k not found in ../shared/data");
  const g = loadGlove("cosine");
  rows = Array.from({ length: N }, (_, i) => ({ id: i, word: g.words![i]!, code: signs(g.base.data.subarray(i * 100, i * 100 + 100)) }));
  queries = Array.from({ length: 60 }, (_, q) => signs(g.queries.data.subarray(q * 100, q * 100 + 100)));
});

async function table(uri: string): Promise<Table> {
  const db = await connect(uri);
  const t = await db.createTable("codes", rows.slice(0, 30_000), {
    schema: schema([field("id", DataTypes.float64()), field("word", DataTypes.utf8()), field("code", DataTypes.vector(BITS, "bit"))]),
  });
  return t;
}

async function tieAwareRecall(t: Table, configure: (q: ReturnType<Table["search"]>) => ReturnType<Table["search"]>): Promise<number> {
  let hit = 0;
  for (const q of queries) {
    const exact = await t.search(q).bypassVectorIndex().select(["id"]).limit(10).toArray();
    const kth = exact[exact.length - 1]!._distance as number;
    const got = await configure(t.search(q)).select(["id"]).limit(10).toArray();
    hit += got.filter((r) => (r._distance as number) <= kth).length;
  }
  return hit / (queries.length * 10);
}

describe("IVF over Hamming space (bit-vector columns)", () => {
  it("reaches high recall against exact Hamming search, persists, takes rows added later and filters", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quiver-binary-"));
    dirs.push(dir);
    const t = await table(dir);
    const phases = new Set<string>();
    await t.createIndex("code", { config: Index.ivfFlat({ numPartitions: 64 }), progress: (p) => phases.add(p.phase) });
    expect(phases).toEqual(new Set(["sample", "kmeans", "assign"]));
    expect(await t.listIndices()).toMatchObject([{ name: "code_idx", indexType: "IvfFlat", columns: ["code"], kind: "IVF_BINARY" }]);
    expect((await t.indexStats("code_idx"))!).toMatchObject({ distanceType: "hamming", numIndexedRows: 30_000 });

    const r4 = await tieAwareRecall(t, (q) => q.nprobes(4));
    const r16 = await tieAwareRecall(t, (q) => q.nprobes(16));
    expect(r16).toBeGreaterThanOrEqual(0.9);
    expect(r16).toBeGreaterThan(r4);
    const all = await tieAwareRecall(t, (q) => q.nprobes(64));
    console.log(`binary IVF recall@10 (tie-aware), 30K × 96 bits, 64 partitions: nprobes 4 → ${r4.toFixed(3)}, 16 → ${r16.toFixed(3)}, 64 → ${all.toFixed(3)}`);
    expect(all).toBe(1);

    // Reopened from disk: the same answers.
    const again = await (await connect(dir)).openTable("codes");
    for (const q of queries.slice(0, 10)) {
      expect(await again.search(q).nprobes(16).select(["id"]).limit(10).toArray()).toEqual(await t.search(q).nprobes(16).select(["id"]).limit(10).toArray());
    }

    // Rows added later are searched exactly until optimize() folds them in.
    await t.add(rows.slice(30_000));
    const target = rows[35_000]!.code as Uint8Array;
    expect((await t.search(target).nprobes(1).select(["id"]).limit(1).toArray())[0]).toMatchObject({ _distance: 0 });
    await t.optimize();
    expect((await t.indexStats("code_idx"))!.numUnindexedRows).toBe(0);
    const top = await t.search(target).nprobes(8).select(["id"]).limit(3).toArray();
    expect(top[0]!._distance).toBe(0);

    // A selective filter still returns k rows (more partitions are probed).
    const filtered = await t.search(queries[0]!).where("id < 500").nprobes(1).select(["id"]).limit(10).toArray();
    expect(filtered).toHaveLength(10);
    for (const r of filtered) expect(r.id as number).toBeLessThan(500);
  }, 120_000);

  it("only IVF_FLAT applies to bit vectors", async () => {
    const t = await table("memory://");
    const err = await t.createIndex("code", { config: Index.ivfPq() }).then(() => undefined, (e: unknown) => e);
    expect(isQuiverError(err, "UNSUPPORTED")).toBe(true);
  }, 60_000);
});
