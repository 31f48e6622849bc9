/**
 * Every index file is checked (issue 9): single-bit flips anywhere in a stored index — header,
 * meta, sections, partition bodies — either fail with CORRUPT_FILE or, where the bit lies in
 * padding no reader uses, change nothing. Never different results, never an untyped error.
 * Each kind is built through the public API on a memory volume; each flip is read through a new
 * connection (so nothing cached hides it), for whole-file and range-read (IVF) opens alike.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/ann/common.js";
import { connect, DataTypes, field, Index, isQuiverError, schema, type Row } from "../../src/index.js";
import { MemoryStore, MemoryVolume } from "../../src/storage/memory-store.js";

const DIM = 16;
const rand = seededRandom(7);
const ROWS: Row[] = Array.from({ length: 400 }, (_, i) => ({
  id: i,
  text: `doc ${i} ${["red", "green", "blue", "cyan"][i % 4]} ${["fox", "dog", "cat"][i % 3]} ${i % 7 === 0 ? "rare" : "common"}`,
  vector: Float32Array.from({ length: DIM }, () => rand() * 2 - 1),
  bits: Uint8Array.from({ length: 8 }, () => Math.floor(rand() * 256)),
}));
const QUERIES = [0, 17, 123].map((i) => ROWS[i]!);

interface Kind { name: string; column: string; config: Parameters<typeof Index.ivfPq>[0] | unknown; build: () => unknown; search: (t: Awaited<ReturnType<typeof open>>, q: Row) => Promise<Row[]> }

async function open(volume: MemoryVolume) {
  return (await connect(new MemoryStore("memory://flip", volume))).openTable("t");
}

const vectorSearch = (t: Awaited<ReturnType<typeof open>>, q: Row): Promise<Row[]> =>
  t.search(q.vector as Float32Array).column("vector").nprobes(2).refineFactor(2).select(["id"]).limit(5).toArray();

const KINDS: { name: string; column: string; config: () => unknown; search: (t: Awaited<ReturnType<typeof open>>, q: Row) => Promise<Row[]> }[] = [
  { name: "IVF_FLAT", column: "vector", config: () => Index.ivfFlat({ numPartitions: 4 }), search: vectorSearch },
  { name: "IVF_PQ", column: "vector", config: () => Index.ivfPq({ numPartitions: 4, numSubVectors: 4 }), search: vectorSearch },
  { name: "IVF_SQ", column: "vector", config: () => Index.ivfSq({ numPartitions: 4 }), search: vectorSearch },
  { name: "IVF_RQ", column: "vector", config: () => Index.ivfRq({ numPartitions: 4 }), search: vectorSearch },
  { name: "HNSW", column: "vector", config: () => Index.hnsw({ m: 8, efConstruction: 40 }), search: vectorSearch },
  { name: "HNSW_SQ", column: "vector", config: () => Index.hnswSq({ m: 8, efConstruction: 40 }), search: vectorSearch },
  { name: "HNSW_PQ", column: "vector", config: () => Index.hnswPq({ m: 8, efConstruction: 40, numSubVectors: 4 }), search: vectorSearch },
  {
    name: "IVF_BINARY", column: "bits", config: () => Index.ivfFlat({ numPartitions: 4 }),
    search: (t, q) => t.search(q.bits as Uint8Array).column("bits").distanceType("hamming").nprobes(2).select(["id"]).limit(5).toArray(),
  },
  { name: "FTS", column: "text", config: () => Index.fts(), search: (t) => t.search("rare fox", "fts").select(["id"]).limit(5).toArray() },
];

describe("index files are checked: every bit flip is detected or harmless", () => {
  for (const kind of KINDS) {
    it(kind.name, async () => {
      const volume = new MemoryVolume();
      const db = await connect(new MemoryStore("memory://flip", volume));
      const t = await db.createTable("t", ROWS, { schema: schema([
        field("id", DataTypes.int32()), field("text", DataTypes.utf8()), field("vector", DataTypes.vector(DIM)), field("bits", DataTypes.vector(64, "bit")),
      ]) });
      await t.createIndex(kind.column, { config: kind.config() as never });
      expect((await t.listIndices()).length).toBe(1);
      const indexKey = [...volume.objects.keys()].find((k) => k.includes("/_indices/"))!;
      const file = volume.objects.get(indexKey)!.data;
      const baseline = JSON.stringify(await Promise.all(QUERIES.map(async (q) => kind.search(await open(volume), q))));

      // Every bit of the first 96 bytes (preamble and the start of the meta), then a seeded sample.
      const r = seededRandom(kind.name.length * 31);
      const bits = [...Array.from({ length: Math.min(96, file.length) * 8 }, (_, b) => b), ...Array.from({ length: 160 }, () => Math.floor(r() * file.length * 8))];
      let detected = 0;
      let harmless = 0;
      for (const bit of bits) {
        file[bit >> 3]! ^= 1 << (bit & 7);
        try {
          const got = JSON.stringify(await Promise.all(QUERIES.map(async (q) => kind.search(await open(volume), q))));
          expect(got, `bit ${bit} of ${file.length * 8} changed results without an error`).toBe(baseline);
          harmless++;
        } catch (e) {
          if (!isQuiverError(e, "CORRUPT_FILE")) throw new Error(`bit ${bit}: expected CORRUPT_FILE, got ${isQuiverError(e) ? e.code : "untyped"}: ${(e as Error).message}`);
          detected++;
        } finally {
          file[bit >> 3]! ^= 1 << (bit & 7);
        }
      }
      expect(detected).toBeGreaterThan(bits.length * 0.8);
      expect(harmless + detected).toBe(bits.length);
    }, 60_000);
  }
});
