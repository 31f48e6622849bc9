/**
 * Large index answers without sorted row lists (issue 12): row masks (per-fragment row lists or
 * bitmaps) against plain Set arithmetic; BTREE ranges set straight into bitmaps against the sorted
 * row-set lookup, BITMAP / LABEL_LIST value groups likewise; counts from BTREE page statistics against the rows a lookup lists; and through a
 * table, counts and rows with a BTREE against a table without one — fresh, with NULLs, after
 * deletes, with appended rows and after optimize.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/ann/common.js";
import { connect, Index, type Row, type Table } from "../../src/index.js";
import { BitmapIndex, buildBitmap } from "../../src/scalar/bitmap.js";
import { buildBTree, BTreeIndex } from "../../src/scalar/btree.js";
import type { KeyRange } from "../../src/scalar/keys.js";
import { RowMask, type FragmentRows } from "../../src/scalar/rowmask.js";

const SEED = 1205;
const FRAGMENT = 2 ** 32;

/** A random mask over fragments 0..3 of `numRows` rows each: each part sparse or dense at random, of random density. */
function randomMask(rand: () => number, numRows: number): { mask: RowMask; set: Set<number> } {
  const parts = new Map<number, FragmentRows>();
  const set = new Set<number>();
  for (let id = 0; id < 4; id++) {
    if (rand() < 0.2) continue;
    const density = [0.001, 0.02, 0.3, 0.9][Math.floor(rand() * 4)]!;
    const rows: number[] = [];
    for (let r = 0; r < numRows; r++) if (rand() < density) rows.push(r);
    if (rows.length === 0) continue;
    for (const r of rows) set.add(id * FRAGMENT + r);
    if (rand() < 0.5) parts.set(id, { rows: Int32Array.from(rows) });
    else {
      // Dense parts of one fragment may differ in length: a missing word is all zeros.
      const bits = new Uint32Array(((rows.at(-1)! + 1 + Math.floor(rand() * 200)) + 31) >>> 5);
      for (const r of rows) bits[r >>> 5]! |= 1 << (r & 31);
      parts.set(id, { bits, count: rows.length });
    }
  }
  return { mask: new RowMask(parts), set };
}

const sorted = (xs: Iterable<number>): number[] => [...xs].sort((a, b) => a - b);

describe("row masks", () => {
  it("and, or, andNot, size and rows agree with Set arithmetic in every mix of row lists and bitmaps", () => {
    const rand = seededRandom(SEED);
    for (let c = 0; c < 300; c++) {
      const numRows = [1, 31, 32, 33, 700, 5000][c % 6]!;
      const a = randomMask(rand, numRows);
      const b = randomMask(rand, numRows);
      const at = `case ${c}, ${numRows} rows`;
      expect([...a.mask.toAddresses()], at).toEqual(sorted(a.set));
      expect(a.mask.size, at).toBe(a.set.size);
      expect([...a.mask.and(b.mask).toAddresses()], at).toEqual(sorted([...a.set].filter((x) => b.set.has(x))));
      expect([...a.mask.or(b.mask).toAddresses()], at).toEqual(sorted(new Set([...a.set, ...b.set])));
      expect([...a.mask.andNot(b.mask).toAddresses()], at).toEqual(sorted([...a.set].filter((x) => !b.set.has(x))));
      expect(a.mask.or(b.mask).size, at).toBe(new Set([...a.set, ...b.set]).size);
      for (let id = 0; id < 4; id++) {
        const rows = sorted([...a.set].filter((x) => Math.floor(x / FRAGMENT) === id).map((x) => x % FRAGMENT));
        expect([...a.mask.rowsOf(id)], at).toEqual(rows);
        expect(a.mask.countOf(id), at).toBe(rows.length);
      }
      // Operations never change their operands.
      expect([...a.mask.toAddresses()], at).toEqual(sorted(a.set));
    }
  });

  it("builds from ascending row addresses across fragments", () => {
    const addresses = [0, 5, 1000, FRAGMENT, 3 * FRAGMENT + 7];
    const mask = RowMask.fromAddresses(Float64Array.from(addresses));
    expect([...mask.parts.keys()]).toEqual([0, 1, 3]);
    expect([...mask.rowsOf(0)]).toEqual([0, 5, 1000]);
    expect([...mask.rowsOf(3)]).toEqual([7]);
    expect([...mask.toAddresses()]).toEqual(addresses);
  });
});

describe("btree ranges as masks and counts", () => {
  const rand = seededRandom(SEED + 1);
  const n = 20_000;
  // Rows spread over fragments 0, 1 and 3 (of 8,000 rows each); keys with NULLs, NaN and repeats.
  const rows = Float64Array.from({ length: n }, (_, i) => [0, 1, 3][Math.floor(i / 8000)]! * FRAGMENT + (i % 8000));
  const keys = Array.from({ length: n }, () => (rand() < 0.05 ? null : rand() < 0.02 ? NaN : Math.floor(rand() * 500) / 4));
  const bytes = buildBTree("number", keys, rows, 256);
  const frames = {
    all: { numRows: (id: number) => ([0, 1, 3].includes(id) ? 8000 : undefined), totalRows: 24_000 },
    "fragments 0 and 3": { numRows: (id: number) => ([0, 3].includes(id) ? 8000 : undefined), totalRows: 16_000 },
  };
  const randomRange = (): KeyRange => {
    const k = (): number => pick([Math.floor(rand() * 520) / 4 - 2, NaN, -Infinity, Infinity]);
    const pick = <X>(xs: X[]): X => (rand() < 0.9 ? xs[0]! : xs[1 + Math.floor(rand() * (xs.length - 1))]!);
    const r: KeyRange = {};
    if (rand() < 0.8) Object.assign(r, { lower: k(), lowerInclusive: rand() < 0.5 });
    if (rand() < 0.8) Object.assign(r, { upper: k(), upperInclusive: rand() < 0.5 });
    if (rand() < 0.2 && r.lower !== undefined) Object.assign(r, { upper: r.lower, upperInclusive: true, lowerInclusive: true });
    return r;
  };

  it("a range set into bitmaps from the pages equals the sorted row-set lookup, within the frame's fragments", async () => {
    const index = BTreeIndex.fromBytes(bytes);
    let dense = 0;
    for (let c = 0; c < 200; c++) {
      const range = randomRange();
      const listed = await index.range(range);
      expect([...listed], `sorted: ${JSON.stringify(range)}`).toEqual(sorted(listed));
      for (const [name, frame] of Object.entries(frames)) {
        const mask = await index.rangeMask(range, frame);
        const want = [...listed].filter((a) => frame.numRows(Math.floor(a / FRAGMENT)) !== undefined);
        if ([...mask.parts.values()].some((p) => p.bits !== undefined)) dense++;
        // A sparse answer keeps every row the index holds (the caller intersects with live rows).
        const got = [...mask.toAddresses()].filter((a) => frame.numRows(Math.floor(a / FRAGMENT)) !== undefined);
        expect(got, `case ${c}, ${name}: ${JSON.stringify(range)}`).toEqual(want);
      }
    }
    expect(dense).toBeGreaterThan(50);
  });

  it("counts a range from page statistics, reading at most the two pages at its ends", async () => {
    const reference = BTreeIndex.fromBytes(bytes);
    for (let c = 0; c < 300; c++) {
      const range = randomRange();
      const fresh = await BTreeIndex.open(async (offset, length) => bytes.subarray(offset, offset + length));
      const count = await fresh.countRange(range);
      expect(count, JSON.stringify(range)).toBe((await reference.range(range)).length);
      expect(fresh.stats.pagesRead, JSON.stringify(range)).toBeLessThanOrEqual(2);
    }
    const wide = await BTreeIndex.open(async (offset, length) => bytes.subarray(offset, offset + length));
    expect(await wide.countRange({ lower: 10, lowerInclusive: true, upper: 100, upperInclusive: false })).toBe(keys.filter((k) => k !== null && k >= 10 && k < 100).length);
    expect(wide.stats.pages).toBeGreaterThan(50);
    expect(wide.stats.pagesRead).toBeLessThanOrEqual(2);
  });
});

describe("bitmap lookups as masks", () => {
  const rand = seededRandom(SEED + 2);
  const n = 20_000;
  // Rows over fragments 0, 1 and 3 (8,000 rows each) in shuffled order; 40 values, a few frequent, NULLs and NaN.
  const rows = Float64Array.from({ length: n }, (_, i) => [0, 1, 3][Math.floor(i / 8000)]! * FRAGMENT + (i % 8000));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  const keys = Array.from({ length: n }, () => (rand() < 0.05 ? null : rand() < 0.01 ? NaN : rand() < 0.5 ? Math.floor(rand() * 3) : Math.floor(rand() * 40)));
  const index = new BitmapIndex(buildBitmap("number", keys, rows));
  const frames = {
    all: { numRows: (id: number) => ([0, 1, 3].includes(id) ? 8000 : undefined), totalRows: 24_000 },
    "fragments 0 and 3": { numRows: (id: number) => ([0, 3].includes(id) ? 8000 : undefined), totalRows: 16_000 },
  };

  it("an equality or range set from the value groups equals the sorted row-set lookup, within the frame's fragments", async () => {
    let dense = 0;
    let sparse = 0;
    const ranges: KeyRange[] = [];
    for (let v = -1; v <= 41; v++) ranges.push({ lower: v, lowerInclusive: true, upper: v, upperInclusive: true });
    ranges.push({ lower: NaN, lowerInclusive: true, upper: NaN, upperInclusive: true }, {}, { lower: 3, lowerInclusive: false }, { upper: 2, upperInclusive: true }, { lower: 10, lowerInclusive: true, upper: 12, upperInclusive: false });
    for (const range of ranges) {
      const listed = [...(await index.range(range))];
      for (const [name, frame] of Object.entries(frames)) {
        const mask = await index.rangeMask(range, frame);
        if ([...mask.parts.values()].some((p) => p.bits !== undefined)) dense++;
        else if (mask.size > 0) sparse++;
        const within = (a: number): boolean => frame.numRows(Math.floor(a / FRAGMENT)) !== undefined;
        expect([...mask.toAddresses()].filter(within), `${name}: ${JSON.stringify(range)}`).toEqual(listed.filter(within));
      }
    }
    expect(dense).toBeGreaterThan(10);
    expect(sparse).toBeGreaterThan(10);
  });
});

describe("btree-backed where through a table", () => {
  const rowsOf = (count: number, seed: number, from = 0): Row[] => {
    const rand = seededRandom(seed);
    return Array.from({ length: count }, (_, k) => ({
      id: from + k,
      x: rand() < 0.05 ? null : Math.floor(rand() * 1000) / 10,
      g: (from + k) % 7,
      vector: Float32Array.from({ length: 4 }, () => rand() * 2 - 1),
    }));
  };
  const FILTERS = [
    "x < 50", "x >= 25 AND x < 75", "x > 99.5", "x = 42.5", "x BETWEEN 10 AND 90", "NOT (x < 50)", "x != 3.3", "x < 50 OR g = 2",
    "x >= 0", "x < 50 AND g IN (1, 2)", "x IS NULL OR x > 60", "x < 50 AND x >= 50", "x <= 100 AND x > -1 AND x != 50",
  ];
  const ids = (rows: Row[]): number[] => rows.map((r) => r.id as number);

  async function expectSame(plain: Table, indexed: Table, when: string): Promise<void> {
    const q = Float32Array.from([0.1, -0.2, 0.3, 0.05]);
    for (const f of FILTERS) {
      const at = `${when}: ${f}`;
      expect(await indexed.countRows(f), at).toBe(await plain.countRows(f));
      expect(ids(await indexed.query().where(f).select(["id"]).toArray()), at).toEqual(ids(await plain.query().where(f).select(["id"]).toArray()));
      const want = await plain.search(q).where(f).select(["id"]).limit(10).toArray();
      expect(ids(await indexed.search(q).where(f).select(["id"]).nprobes(64).limit(10).toArray()), at).toEqual(ids(want));
    }
  }

  it("gives the rows and counts of a scan: fresh, after deletes, with appended rows, after optimize", async () => {
    const db = await connect("memory://rowmask-table");
    const first = rowsOf(6000, 3);
    const plain = await db.createTable("plain", first);
    const indexed = await db.createTable("indexed", first);
    for (const t of [plain, indexed]) await t.add(rowsOf(5000, 4, 6000)); // two fragments
    await indexed.createIndex("x", { config: Index.btree({ pageRows: 128 }) });
    await indexed.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 8, distanceType: "l2" }) });
    await expectSame(plain, indexed, "fresh");
    for (const t of [plain, indexed]) await t.delete("id % 9 = 4 OR (id >= 6000 AND id < 6100)");
    await expectSame(plain, indexed, "after deletes");
    for (const t of [plain, indexed]) await t.add(rowsOf(700, 5, 20_000));
    await expectSame(plain, indexed, "with appended rows");
    for (const t of [plain, indexed]) await t.optimize();
    await expectSame(plain, indexed, "after optimize");
  }, 120_000);
});
