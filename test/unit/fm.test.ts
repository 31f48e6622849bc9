/**
 * The FM index (src/scalar/fm.ts) against plain string search: substrings, prefixes, suffixes and
 * whole values over random texts with NULLs, empty strings, repeats, NUL characters and non-ASCII;
 * the suffix array against sorting; damaged files are CORRUPT_FILE.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/ann/common.js";
import { isQuiverError } from "../../src/errors.js";
import { buildFm, FmIndex, suffixArray } from "../../src/scalar/fm.js";

const ALPHABET = ["a", "b", "c", "ab", "é", "\u0000", " ", "Z", "€"];

function texts(n: number, seed: number): (string | null)[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => {
    if (r() < 0.08) return null;
    if (r() < 0.05) return "";
    return Array.from({ length: Math.floor(r() * 12) }, () => ALPHABET[Math.floor(r() * ALPHABET.length)]!).join("");
  });
}

describe("FM index", () => {
  it("the suffix array orders every suffix", () => {
    const r = seededRandom(3);
    for (const n of [1, 2, 7, 100, 600]) {
      const s = Int32Array.from({ length: n }, (_, i) => (i === n - 1 ? 0 : 1 + Math.floor(r() * 3)));
      const sa = suffixArray(s, 4);
      const key = (i: number): string => Array.from(s.subarray(i), (c) => String.fromCharCode(65 + c)).join("");
      const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
      expect(Array.from(sa)).toEqual(expected);
    }
  });

  it("finds exactly the rows a plain search finds, for substrings, prefixes, suffixes and whole values", () => {
    const values = texts(3000, 11);
    const rows = values.map((_, i) => 7 * 2 ** 32 + i * 3);
    const index = new FmIndex(buildFm(values, rows));
    const r = seededRandom(12);
    let nonEmpty = 0;
    for (let c = 0; c < 400; c++) {
      const pick = values[Math.floor(r() * values.length)] ?? "ab";
      const start = Math.floor(r() * (pick.length + 1));
      const text = r() < 0.1 ? "zz" : pick.slice(start, start + Math.floor(r() * 4));
      const anchoredStart = r() < 0.3;
      const anchoredEnd = r() < 0.3;
      const want = rows.filter((_, i) => {
        const v = values[i];
        if (v === null || v === undefined) return false;
        if (anchoredStart && anchoredEnd) return v === text;
        if (anchoredStart) return v.startsWith(text);
        if (anchoredEnd) return v.endsWith(text);
        return v.includes(text);
      });
      const q = { text, anchoredStart, anchoredEnd };
      expect(Array.from(index.search(q)), JSON.stringify(q)).toEqual(want);
      expect(index.count(q)).toBeGreaterThanOrEqual(want.length);
      if (want.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(200);
    expect(Array.from(index.isNull())).toEqual(rows.filter((_, i) => values[i] === null));
  });

  it("texts whose length is a multiple of the checkpoint block are searched to the end", () => {
    // A separator, 18 × (6 characters + separator), the end: 128 code units, one whole block.
    const values = Array.from({ length: 18 }, (_, i) => (i % 2 ? "abcdef" : "fedcba"));
    const index = new FmIndex(buildFm(values, values.map((_, i) => i)));
    expect(index.stats.textLength % 128).toBe(0);
    expect(index.search({ text: "cde", anchoredStart: false, anchoredEnd: false }).length).toBe(9);
    expect(index.search({ text: "fed", anchoredStart: true, anchoredEnd: false }).length).toBe(9);
  });

  it("damaged bytes are CORRUPT_FILE", () => {
    const bytes = buildFm(texts(200, 5), Array.from({ length: 200 }, (_, i) => i));
    let corrupt = 0;
    for (let at = 0; at < bytes.length; at += Math.max(1, Math.floor(bytes.length / 97))) {
      const copy = bytes.slice();
      copy[at] ^= 0x20;
      try {
        new FmIndex(copy);
      } catch (e) {
        expect(isQuiverError(e, "CORRUPT_FILE"), String(e)).toBe(true);
        corrupt++;
      }
    }
    expect(corrupt).toBeGreaterThan(80);
  });
});
