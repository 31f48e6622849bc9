import { describe, expect, it } from "vitest";
import { readAll } from "../../src/data/column.js";
import { rowsToBatch, type Row } from "../../src/data/rows.js";
import { DataTypes, field, schema } from "../../src/data/schema.js";
import { isQuiverError } from "../../src/errors.js";
import { crc32 } from "../../src/storage/crc32.js";
import { decodeDeletions, encodeDeletions } from "../../src/storage/deletion-file.js";
import { joinParts } from "../../src/storage/blob-store.js";
import { encodeFragment, encodeFragmentParts, FragmentFile } from "../../src/storage/fragment-file.js";
import { decodeManifest, encodeManifest, type Manifest } from "../../src/storage/manifest.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { seededRandom as rng } from "../../bench/datasets.js";


const s = schema([
  field("id", DataTypes.int32(), false),
  field("i64", DataTypes.int64()),
  field("u16", DataTypes.uint16()),
  field("f16", DataTypes.float16()),
  field("f64", DataTypes.float64()),
  field("ok", DataTypes.bool()),
  field("name", DataTypes.utf8()),
  field("at", DataTypes.timestamp()),
  field("tags", DataTypes.list(DataTypes.utf8())),
  field("nested", DataTypes.list(DataTypes.list(DataTypes.int32()))),
  field("vector", DataTypes.vector(5)),
  field("half", DataTypes.vector(3, "float16")),
  field("q", DataTypes.vector(4, "int8")),
  field("bits", DataTypes.vector(16, "bit")),
]);

function sampleRows(n: number, seed = 1): Row[] {
  const r = rng(seed);
  const pick = <T>(v: T): T | null => (r() < 0.2 ? null : v);
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    i64: pick(BigInt(i) * 10_000_000_000n),
    u16: pick(i % 65536),
    f16: pick(0.5 * i),
    f64: pick(r() * 1e6),
    ok: pick(r() < 0.5),
    name: pick(i % 7 === 0 ? `ünïcødé ${i} — ✓` : `name-${i}`),
    at: pick(new Date(1_600_000_000_000 + i * 1000)),
    tags: pick(Array.from({ length: i % 4 }, (_, j) => (j === 1 ? null : `t${j}`))),
    nested: pick([[i, i + 1], [], [i * 2]]),
    vector: pick(Array.from({ length: 5 }, () => r() * 2 - 1)),
    half: pick([1, 0.5, -2]),
    q: pick([i % 128, -1, 0, 1]),
    bits: pick([i % 256, 255]),
  }));
}

async function writeSample(n: number): Promise<{ store: MemoryStore; bytes: Uint8Array; rows: Row[] }> {
  const rows = sampleRows(n);
  const batch = rowsToBatch(rows, s);
  const bytes = encodeFragment(s.fields, batch.columns, n);
  const store = new MemoryStore();
  await store.put("t.quiver/data/f.qvf", bytes);
  return { store, bytes, rows };
}

describe("fragment files", () => {
  it("columns given as pieces (a stream's batches) give the same file as the pieces joined", () => {
    const dense = schema([field("id", DataTypes.int32(), false), field("vector", DataTypes.vector(384), false), field("label", DataTypes.utf8())]);
    const r = rng(7);
    const denseRows = Array.from({ length: 1003 }, (_, i) => ({ id: i, vector: Array.from({ length: 384 }, () => r()), label: i % 5 === 0 ? null : `l${i}` }));
    for (const [sch, rows] of [[dense, denseRows], [s, sampleRows(1003)]] as const) {
      const whole = encodeFragment(sch.fields, rowsToBatch(rows, sch).columns, rows.length);
      // Cuts that fall inside 4 KiB checksum chunks (a 384-d row is 1,536 bytes), and a one-row piece.
      const cuts = [0, 137, 1000, 1001, 1003];
      const pieces = cuts.slice(1).map((end, i) => rowsToBatch(rows.slice(cuts[i], end), sch).columns);
      const columns = new Map(sch.fields.map((f) => [f.name, pieces.map((p) => p.get(f.name)!)] as const));
      const parts = encodeFragmentParts(sch.fields, columns, rows.length);
      const joined = joinParts(parts);
      expect(joined.length).toBe(whole.length);
      expect(Buffer.compare(joined, whole)).toBe(0);
      if (sch === dense) expect(parts.some((p) => p.buffer === (pieces[1]!.get("vector")!.data as Float32Array).buffer)).toBe(true); // written from the piece, not a joined copy
    }
  });

  it("round-trips every type, column by column", async () => {
    const { store, bytes, rows } = await writeSample(300);
    const file = await FragmentFile.open(store, "t.quiver/data/f.qvf", bytes.length);
    expect(file.numRows).toBe(300);
    expect(file.columnNames()).toEqual(s.fields.map((f) => f.name));
    const expected = rowsToBatch(rows, s);
    for (const f of s.fields) {
      const col = await file.readColumn(f.name, f.type);
      expect(readAll(col)).toEqual(readAll(expected.columns.get(f.name)!));
    }
  });

  it("aligns every buffer to 64 bytes so vectors can be viewed in place", async () => {
    const { store, bytes } = await writeSample(33);
    const file = await FragmentFile.open(store, "t.quiver/data/f.qvf");
    const col = await file.readColumn("vector", DataTypes.vector(5));
    expect(col.data).toBeInstanceOf(Float32Array);
    const dv = new DataView(bytes.buffer);
    const footerLen = dv.getUint32(bytes.length - 12, true);
    const footer = JSON.parse(new TextDecoder().decode(bytes.subarray(bytes.length - 12 - footerLen, bytes.length - 12))) as {
      columns: Record<string, unknown>[];
    };
    const offsets: number[] = [];
    const collect = (layout: Record<string, unknown>): void => {
      for (const k of ["validity", "values", "offsets"]) if (Array.isArray(layout[k])) offsets.push((layout[k] as number[])[0]!);
      if (layout.child) collect(layout.child as Record<string, unknown>);
    };
    footer.columns.forEach(collect);
    expect(offsets.length).toBeGreaterThan(s.fields.length);
    for (const o of offsets) expect(o % 64).toBe(0);
  });

  it("refuses a column whose stored type differs from the schema", async () => {
    const { store } = await writeSample(10);
    const file = await FragmentFile.open(store, "t.quiver/data/f.qvf");
    await expect(file.readColumn("vector", DataTypes.vector(6))).rejects.toMatchObject({ code: "CORRUPT_FILE" });
    await expect(file.readColumn("nope", DataTypes.int32())).rejects.toMatchObject({ code: "CORRUPT_FILE" });
  });

  it("turns every truncation and 3,000 random corruptions into CORRUPT_FILE or correct data", async () => {
    const { bytes, rows } = await writeSample(40);
    const expected = rowsToBatch(rows, s);
    const r = rng(42);
    const cases: Uint8Array[] = [];
    for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 300))) cases.push(bytes.slice(0, cut));
    for (let i = 0; i < 3000; i++) {
      const m = bytes.slice();
      const flips = 1 + Math.floor(r() * 4);
      for (let k = 0; k < flips; k++) m[Math.floor(r() * m.length)] ^= 1 << Math.floor(r() * 8);
      cases.push(m);
    }
    let corruptSeen = 0;
    for (const c of cases) {
      const store = new MemoryStore();
      await store.put("x.qvf", c);
      try {
        const file = await FragmentFile.open(store, "x.qvf", c.length);
        for (const f of s.fields) {
          const col = await file.readColumn(f.name, f.type);
          // A flip that lands in padding changes nothing; anything that decodes must be the truth.
          expect(readAll(col)).toEqual(readAll(expected.columns.get(f.name)!));
        }
      } catch (e) {
        if (!isQuiverError(e, "CORRUPT_FILE")) throw new Error(`unexpected ${String(e)} for a corrupted file`);
        corruptSeen++;
      }
    }
    expect(corruptSeen).toBeGreaterThan(cases.length * 0.5);
  });
});

describe("manifests and deletion files", () => {
  const manifest: Manifest = {
    version: 3, timestamp: 1_700_000_000_000, schema: s, nextFragmentId: 2, indices: [], config: { a: 1n },
    operation: { type: "append", readVersion: 2, touched: [] },
    fragments: [{ id: 0, files: [{ file: "data/a.qvf", size: 100, columns: { id: "id" } }], numRows: 10, deletionFile: null, deletedRows: 0 }],
  };

  it("round-trip", () => {
    expect(decodeManifest(encodeManifest(manifest), "m")).toEqual(manifest);
    const del = new Uint8Array(19);
    del[0] = 1; del[7] = 1; del[8] = 1; del[18] = 1;
    expect(decodeDeletions(encodeDeletions(del), 19, "d")).toEqual(del);
  });

  it("detect damage", () => {
    const bytes = encodeManifest(manifest);
    const r = rng(3);
    for (let i = 0; i < 2000; i++) {
      const m = bytes.slice(0, r() < 0.3 ? Math.floor(r() * bytes.length) : bytes.length);
      if (m.length === bytes.length) m[Math.floor(r() * m.length)] ^= 1 << Math.floor(r() * 8);
      expect(() => decodeManifest(m, "m")).toThrowError(expect.objectContaining({ code: "CORRUPT_FILE" }));
    }
    expect(() => decodeDeletions(encodeDeletions(new Uint8Array(5)), 6, "d")).toThrowError(expect.objectContaining({ code: "CORRUPT_FILE" }));
  });

  it("turn every single-bit flip of a deletion file, and of a manifest's header and checksum, into CORRUPT_FILE", () => {
    const del = new Uint8Array(37);
    del[3] = del[30] = 1;
    const d = encodeDeletions(del);
    const m = encodeManifest(manifest);
    const positions = (bytes: Uint8Array): number[] => (bytes === d ? [...bytes.keys()] : [...Array(12).keys(), ...[0, 1, 2, 3].map((i) => bytes.length - 4 + i)]);
    for (const [bytes, open] of [[d, (b: Uint8Array) => decodeDeletions(b, 37, "d")], [m, (b: Uint8Array) => decodeManifest(b, "m")]] as const) {
      for (const at of positions(bytes)) {
        for (let bit = 0; bit < 8; bit++) {
          const damaged = bytes.slice();
          damaged[at]! ^= 1 << bit;
          expect(() => open(damaged), `byte ${at} bit ${bit}`).toThrowError(expect.objectContaining({ code: "CORRUPT_FILE" }));
        }
      }
    }
  });

  it("read version 1 envelopes (checksum over the payload alone) and call a sealed newer version UNSUPPORTED", () => {
    const del = Uint8Array.of(1, 0, 1);
    const v2 = encodeDeletions(del);
    const v1 = v2.slice();
    const dv = new DataView(v1.buffer);
    dv.setUint32(4, 1, true);
    dv.setUint32(v1.length - 4, crc32(v1.subarray(12, v1.length - 4)), true);
    expect(decodeDeletions(v1, 3, "d")).toEqual(del);
    const v3 = v2.slice();
    new DataView(v3.buffer).setUint32(4, 3, true);
    new DataView(v3.buffer).setUint32(v3.length - 4, crc32(v3.subarray(0, v3.length - 4)), true);
    expect(() => decodeDeletions(v3, 3, "d")).toThrowError(expect.objectContaining({ code: "UNSUPPORTED" }));
  });

  it("crc32 matches the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });
});
