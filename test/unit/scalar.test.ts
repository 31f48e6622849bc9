import { describe, expect, it } from "vitest";
import { buildColumn, type Column, type ColumnSource } from "../../src/data/column.js";
import { DataTypes as T, field, schema } from "../../src/data/schema.js";
import { isQuiverError } from "../../src/errors.js";
import { compileFilter, parseExpression } from "../../src/filter/index.js";
import { seededRandom } from "../../src/ann/common.js";
import { buildBTree, BTreeIndex } from "../../src/scalar/btree.js";
import { buildBitmap, BitmapIndex } from "../../src/scalar/bitmap.js";
import { indexMask, numericKeyOf, stringKeyOf, type IndexResolver } from "../../src/scalar/mask.js";
import { intersectRows, subtractRows, toRowSet, unionRows } from "../../src/scalar/rowset.js";

const SEED = 20_261_205;
const N = 3000;
const r = seededRandom(SEED);
const pick = <X>(xs: readonly X[]): X => xs[Math.floor(r() * xs.length)]!;

// i: ints with NULLs; f: floats with NULLs and NaN; s: low-cardinality strings with NULLs.
const I = Array.from({ length: N }, () => (r() < 0.1 ? null : Math.floor(r() * 200) - 100));
const F = Array.from({ length: N }, () => (r() < 0.1 ? null : r() < 0.02 ? NaN : Math.round((r() * 20 - 10) * 4) / 4));
const S = Array.from({ length: N }, () => (r() < 0.1 ? null : pick(["a", "b", "c", "dd", "", "é"])));
const ROWS = Float64Array.from({ length: N }, (_, k) => k);

const SCHEMA = schema([field("i", T.int32()), field("f", T.float64()), field("s", T.utf8())]);
const COLUMNS = new Map<string, Column>([
  ["i", buildColumn(T.int32(), I, true, { column: "i", rowOffset: 0 })],
  ["f", (() => {
    const col = buildColumn(T.float64(), F.map((v) => (Number.isNaN(v) ? 0 : v)), true, { column: "f", rowOffset: 0 });
    F.forEach((v, k) => { if (Number.isNaN(v)) (col.data as Float64Array)[k] = NaN; });
    return col;
  })()],
  ["s", buildColumn(T.utf8(), S, true, { column: "s", rowOffset: 0 })],
]);
const SOURCE: ColumnSource = { numRows: N, column: (name) => COLUMNS.get(name)! };

function scanRows(sql: string, live: Float64Array): Float64Array {
  const mask = compileFilter(sql, SCHEMA).evaluate(SOURCE);
  return live.filter((row) => mask[row] === 1);
}

describe("row sets", () => {
  it("intersect, union and subtract agree with Set arithmetic", () => {
    const a = toRowSet(Array.from({ length: 300 }, () => Math.floor(r() * 500)));
    const b = toRowSet(Array.from({ length: 300 }, () => Math.floor(r() * 500)));
    const sb = new Set(b);
    expect([...intersectRows(a, b)]).toEqual([...a].filter((x) => sb.has(x)));
    expect([...unionRows(a, b)]).toEqual([...new Set([...a, ...b])].sort((x, y) => x - y));
    expect([...subtractRows(a, b)]).toEqual([...a].filter((x) => !sb.has(x)));
  });
});

describe("btree index", () => {
  const bytes = buildBTree("number", I, ROWS, 64);

  it("answers ranges like a scan, reading only the pages the range touches", async () => {
    const reads: number[] = [];
    const idx = await BTreeIndex.open(async (offset, length) => { reads.push(length); return bytes.subarray(offset, offset + length); });
    const headBytes = reads.reduce((a, b) => a + b, 0);
    const hits = await idx.equals(17);
    expect([...hits]).toEqual([...ROWS].filter((k) => I[k] === 17));
    expect(idx.stats.pagesRead).toBeLessThanOrEqual(2);
    const pointBytes = reads.reduce((a, b) => a + b, 0) - headBytes;
    expect(pointBytes * 10).toBeLessThan(bytes.byteLength);
    expect([...(await idx.range({ lower: -5, lowerInclusive: false, upper: 40, upperInclusive: true }))])
      .toEqual([...ROWS].filter((k) => I[k] !== null && I[k]! > -5 && I[k]! <= 40));
    expect([...idx.isNull()]).toEqual([...ROWS].filter((k) => I[k] === null));
    expect(idx.stats).toMatchObject({ kind: "btree", rows: N, pages: Math.ceil(I.filter((v) => v !== null).length / 64) });
  });

  it("holds strings and NaN", async () => {
    const s = BTreeIndex.fromBytes(buildBTree("string", S, ROWS, 50));
    expect([...(await s.range({ lower: "b", lowerInclusive: true, upper: "dd", upperInclusive: false }))])
      .toEqual([...ROWS].filter((k) => S[k] !== null && S[k]! >= "b" && S[k]! < "dd"));
    const f = BTreeIndex.fromBytes(buildBTree("number", F, ROWS, 50));
    expect([...(await f.range({ lower: 9, lowerInclusive: true }))]).toEqual([...ROWS].filter((k) => F[k] !== null && F[k]! >= 9));
    expect((await f.equals(NaN)).length).toBe(0);
  });

  it("reports any damaged byte as CORRUPT_FILE", async () => {
    const small = buildBTree("string", S.slice(0, 200), ROWS.slice(0, 200), 16);
    let caught = 0;
    for (let at = 0; at < small.byteLength; at += 7) {
      const copy = small.slice();
      copy[at] ^= 0x5a;
      const run = async (): Promise<void> => {
        const idx = BTreeIndex.fromBytes(copy);
        await idx.range({});
      };
      const err = await run().then(() => undefined, (e: unknown) => e);
      // Alignment padding is covered by no checksum; every other byte is.
      if (err === undefined) continue;
      expect(isQuiverError(err, "CORRUPT_FILE"), `byte ${at}: ${String(err)}`).toBe(true);
      caught++;
    }
    expect(caught).toBeGreaterThan((small.byteLength / 7) * 0.9);
    const flipped = small.slice();
    flipped[flipped.byteLength - 20] ^= 0xff;
    await expect(BTreeIndex.fromBytes(flipped).range({})).rejects.toMatchObject({ code: "CORRUPT_FILE" });
  });
});

describe("bitmap index", () => {
  it("answers equality and IN like a scan, and rejects damage", () => {
    const bytes = buildBitmap("string", S, ROWS);
    const idx = new BitmapIndex(bytes);
    expect(idx.stats.distinctValues).toBe(new Set(S.filter((v) => v !== null)).size);
    expect([...idx.equals("dd")]).toEqual([...ROWS].filter((k) => S[k] === "dd"));
    expect([...idx.in(["a", "é", "zz"])]).toEqual([...ROWS].filter((k) => S[k] === "a" || S[k] === "é"));
    expect([...idx.isNull()]).toEqual([...ROWS].filter((k) => S[k] === null));
    const small = buildBitmap("string", S.slice(0, 100), ROWS.slice(0, 100));
    let caught = 0;
    for (let at = 0; at < small.byteLength; at++) {
      const copy = small.slice();
      copy[at] ^= 0x5a;
      try {
        new BitmapIndex(copy);
      } catch (e) {
        expect(isQuiverError(e, "CORRUPT_FILE"), `byte ${at}: ${String(e)}`).toBe(true);
        caught++;
      }
    }
    // Only the 16-byte alignment padding and reserved bytes escape the checksums.
    expect(caught).toBeGreaterThan(small.byteLength * 0.9);
  });
});

describe("index-backed filters match the scan (seeded fuzz)", () => {
  const btreeI = BTreeIndex.fromBytes(buildBTree("number", I, ROWS, 128));
  const btreeF = BTreeIndex.fromBytes(buildBTree("number", F, ROWS, 128));
  const bitmapS = new BitmapIndex(buildBitmap("string", S, ROWS));
  const btreeS = BTreeIndex.fromBytes(buildBTree("string", S, ROWS, 128));
  const resolvers: Record<string, IndexResolver> = {
    "btree i,f + bitmap s": (c) => c === "i" ? { kind: "btree", lookup: btreeI, keyOf: numericKeyOf } : c === "f" ? { kind: "btree", lookup: btreeF, keyOf: numericKeyOf } : c === "s" ? { kind: "bitmap", lookup: bitmapS, keyOf: stringKeyOf } : undefined,
    "btree s only": (c) => (c === "s" ? { kind: "btree", lookup: btreeS, keyOf: stringKeyOf } : undefined),
    "bitmap i only": (c) => (c === "i" ? { kind: "bitmap", lookup: new BitmapIndex(buildBitmap("number", I, ROWS)), keyOf: numericKeyOf } : undefined),
  };

  const num = (): string => pick(["-100", "-3", "0", "5", "17", "99", "2.5", "-0.25", "NULL", "9007199254740993"]);
  const str = (): string => pick(["'a'", "'b'", "'dd'", "''", "'é'", "'zz'", "NULL"]);
  const leaf = (): string => {
    const c = pick(["i", "f", "s", "i", "f", "s"]);
    const v = c === "s" ? str : num;
    return pick([
      () => `${c} ${pick(["=", "!=", "<", "<=", ">", ">=", "<>"])} ${v()}`,
      () => `${v()} ${pick(["=", "<", ">="])} ${c}`,
      () => `${c} ${pick(["IN", "NOT IN"])} (${Array.from({ length: 1 + Math.floor(r() * 3) }, v).join(", ")})`,
      () => `${c} ${pick(["BETWEEN", "NOT BETWEEN"])} ${v()} AND ${v()}`,
      () => `${c} IS ${pick(["", "NOT "])}NULL`,
      () => pick(["i + 1 > 3", "length(s) = 1", "f * 2 < 1", "s LIKE 'd%'"]), // never index-backed
    ])();
  };
  const cond = (d: number): string => {
    if (d <= 0 || r() < 0.3) return leaf();
    return pick([
      () => `(${cond(d - 1)}) AND (${cond(d - 1)})`,
      () => `(${cond(d - 1)}) OR (${cond(d - 1)})`,
      () => `NOT (${cond(d - 1)})`,
      () => `${cond(d - 1)} AND ${cond(d - 1)} AND ${cond(d - 1)}`,
    ])();
  };

  it("identical rows with and without each index, with deleted rows", async () => {
    // Every seventh row deleted: the index still holds them, `live` does not.
    const live = ROWS.filter((k) => k % 7 !== 3);
    let exact = 0;
    let candidates = 0;
    for (let c = 0; c < 600; c++) {
      const sql = cond(3);
      const expected = scanRows(sql, live);
      for (const [name, resolve] of Object.entries(resolvers)) {
        const mask = await indexMask(parseExpression(sql), live, resolve);
        let got: Float64Array;
        if (!mask) got = expected;
        else if (mask.exact) { exact++; got = mask.t.toAddresses(); }
        else {
          candidates++;
          const rows = mask.candidates.toAddresses();
          const m = compileFilter(sql, SCHEMA).evaluate(SOURCE, Int32Array.from(rows));
          got = rows.filter((_, k) => m[k] === 1);
        }
        expect([...got], `seed ${SEED}, case ${c}, ${name}: ${sql}`).toEqual([...expected]);
      }
    }
    // The generator must exercise both paths, or the test proves little.
    expect(exact).toBeGreaterThan(200);
    expect(candidates).toBeGreaterThan(50);
  });
});
