/**
 * A prefilter's rows as a bitmap over a vector index's positions (src/query/allowed-bitmap.ts):
 * fragment bitmaps shifted in word by word where a fragment's rows sit at consecutive positions,
 * mapped row by row elsewhere, row lists mapped row by row — each against a plain row → position
 * mapping, over fragments at word-aligned and unaligned offsets, shuffled and with rows the index
 * does not hold.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/ann/common.js";
import type { VectorIndex } from "../../src/ann/index.js";
import type { TableState } from "../../src/dataset/dataset.js";
import { allowedBitmap } from "../../src/query/allowed-bitmap.js";
import { rowPositions } from "../../src/query/live-rows.js";
import type { FragmentRows } from "../../src/scalar/rowmask.js";
import type { IndexEntry } from "../../src/storage/manifest.js";

const FRAGMENT = 2 ** 32;

describe("allowedBitmap", () => {
  // Fragments 1 (1,000 rows), 2 (77), 3 (3,000) indexed whole and in order: positions 0, 1,000
  // (unaligned: 1000 & 31 = 8) and 1,077. Fragment 4 (500) indexed in shuffled order; fragment 5
  // (300) without its rows 100 … 149 (deleted before the build).
  const rand = seededRandom(412);
  const sizes = new Map([[1, 1000], [2, 77], [3, 3000], [4, 500], [5, 300]]);
  const rowIds: number[] = [];
  for (const id of [1, 2, 3]) for (let r = 0; r < sizes.get(id)!; r++) rowIds.push(id * FRAGMENT + r);
  const shuffled = Array.from({ length: 500 }, (_, r) => r).sort(() => rand() - 0.5);
  for (const r of shuffled) rowIds.push(4 * FRAGMENT + r);
  for (let r = 0; r < 300; r++) if (r < 100 || r >= 150) rowIds.push(5 * FRAGMENT + r);
  const index = { size: rowIds.length, rowId: (p: number) => rowIds[p]! } as unknown as VectorIndex;
  const state = { fragments: [...sizes].map(([id, numRows]) => ({ id, numRows, liveRows: numRows, deletions: null })) } as unknown as TableState;
  const entry = { fragments: [...sizes.keys()] } as unknown as IndexEntry;
  const positionOf = new Map(rowIds.map((a, p) => [a, p] as const));

  it.each([0.001, 0.1, 0.5, 0.97])("equals the row-by-row mapping for bitmaps and row lists (density %f)", (density) => {
    for (let c = 0; c < 20; c++) {
      const parts = new Map<number, FragmentRows>();
      const want = new Uint8Array(Math.ceil(index.size / 8));
      for (const [id, n] of sizes) {
        const rows: number[] = [];
        for (let r = 0; r < n; r++) if (rand() < density) rows.push(r);
        if (rows.length === 0 || rand() < 0.1) continue;
        for (const r of rows) {
          const p = positionOf.get(id * FRAGMENT + r);
          if (p !== undefined) want[p >> 3]! |= 1 << (p & 7);
        }
        if (rand() < 0.3) parts.set(id, { rows: Int32Array.from(rows) });
        else {
          const bits = new Uint32Array((n + 31) >>> 5);
          for (const r of rows) bits[r >>> 5]! |= 1 << (r & 31);
          parts.set(id, { bits, count: rows.length });
        }
      }
      const got = allowedBitmap(index, state, entry, (frag) => parts.get(frag.id), rowPositions);
      expect(got.length).toBe(want.length);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });
});
