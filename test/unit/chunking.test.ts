import { describe, expect, it } from "vitest";
import { RecursiveTextSplitter, chunkDocuments, splitText, type TextChunk } from "../../src/chunking/index.js";
import { isQuiverError } from "../../src/errors.js";
import { seededRandom as rng } from "../../bench/datasets.js";

const codePoints = (s: string): number => [...s].length;

/** The invariants every split must keep. */
function checkChunks(doc: string, chunks: TextChunk[], size: number, overlap: number, length = codePoints): void {
  const covered = new Uint8Array(doc.length);
  let prev: TextChunk | undefined;
  for (const c of chunks) {
    expect(c.text).toBe(doc.slice(c.start, c.end));
    expect(c.text.length).toBeGreaterThan(0);
    expect(c.text).toBe(c.text.trim());
    // Only a single grapheme longer than chunkSize may exceed it.
    if (length(c.text) > size) expect([...new Intl.Segmenter().segment(c.text)].length).toBe(1);
    if (prev) {
      expect(c.start).toBeGreaterThan(prev.start);
      expect(c.end).toBeGreaterThan(prev.end);
      if (c.start < prev.end) expect(length(doc.slice(c.start, prev.end))).toBeLessThanOrEqual(overlap);
    }
    covered.fill(1, c.start, c.end);
    prev = c;
  }
  let lost = -1;
  for (let i = 0; i < doc.length && lost < 0; i++) if (!covered[i] && !/\s/.test(doc[i]!)) lost = i;
  expect(lost, `character ${lost} (${JSON.stringify(doc[lost])}) is in no chunk`).toBe(-1);
  // No chunk starts or ends inside a surrogate pair.
  expect(chunks.filter((c) => /^[\udc00-\udfff]/.test(c.text) || /[\ud800-\udbff]$/.test(c.text))).toEqual([]);
}


const WORDS = ["the", "protein", "binds", "to", "receptors", "in", "mice", "and", "humans", "über", "naïve", "日本語", "テキスト", "👍🏽", "👨‍👩‍👧", "é", "supercalifragilisticexpialidocious", "e.g.", "x"];
const ENDS = [" ", " ", " ", " ", ". ", "! ", "? ", ", ", "\n", "\n\n", "。", "  \n \n"];

function randomDoc(random: () => number, words: number): string {
  let s = "";
  for (let i = 0; i < words; i++) s += WORDS[Math.floor(random() * WORDS.length)]! + ENDS[Math.floor(random() * ENDS.length)]!;
  return s;
}

const PROSE =
  "Vector databases store embeddings. They answer nearest-neighbour queries quickly! Do they need a server? Not always.\n\n" +
  "Quiver runs in the browser. It keeps tables in OPFS or IndexedDB, and it searches them with WebAssembly.\n\n" +
  "Chunking splits long documents into pieces. Each piece becomes a row with its own vector.";

describe("splitText", () => {
  it("keeps paragraphs whole when each fits", () => {
    const chunks = splitText(PROSE, { chunkSize: 120, chunkOverlap: 0 });
    expect(chunks.map((c) => c.text)).toEqual(PROSE.split("\n\n"));
    checkChunks(PROSE, chunks, 120, 0);
  });

  it("cuts a paragraph that is too long at sentence ends", () => {
    // The longest sentence has 76 characters, the longest paragraph 156.
    const chunks = splitText(PROSE, { chunkSize: 80, chunkOverlap: 0 });
    for (const c of chunks) expect(c.text).toMatch(/[.!?]$/);
    expect(chunks.map((c) => c.text)).toContain("They answer nearest-neighbour queries quickly! Do they need a server?");
    checkChunks(PROSE, chunks, 80, 0);
    // A sentence longer than chunkSize is cut between words.
    const words = splitText(PROSE, { chunkSize: 60, chunkOverlap: 0 });
    expect(words.map((c) => c.text)).toContain("It keeps tables in OPFS or IndexedDB, and it searches them");
    checkChunks(PROSE, words, 60, 0);
  });

  it("packs several sentences into one chunk up to chunkSize", () => {
    const chunks = splitText(PROSE, { chunkSize: 90, chunkOverlap: 0 });
    expect(chunks[0]!.text).toBe("Vector databases store embeddings. They answer nearest-neighbour queries quickly!");
    checkChunks(PROSE, chunks, 90, 0);
  });

  it("repeats whole words of the previous chunk as overlap, never more than chunkOverlap", () => {
    const text = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    const chunks = splitText(text, { chunkSize: 50, chunkOverlap: 15 });
    checkChunks(text, chunks, 50, 15);
    expect(chunks.length).toBeGreaterThan(5);
    for (let i = 1; i < chunks.length; i++) {
      const shared = text.slice(chunks[i]!.start, chunks[i - 1]!.end);
      expect(shared.length).toBeGreaterThan(0);
      expect(chunks[i - 1]!.text.endsWith(shared.trim())).toBe(true);
      expect(shared.trim()).toMatch(/^(word\d+ ?)+$/); // whole words
    }
    const none = splitText(text, { chunkSize: 50, chunkOverlap: 0 });
    for (let i = 1; i < none.length; i++) expect(none[i]!.start).toBeGreaterThanOrEqual(none[i - 1]!.end);
  });

  it("returns nothing for empty or whitespace-only text", () => {
    expect(splitText("")).toEqual([]);
    expect(splitText(" \n\n\t  \n")).toEqual([]);
  });

  it("returns short text as one chunk, trimmed, with offsets", () => {
    expect(splitText("  hello world \n")).toEqual([{ text: "hello world", start: 2, end: 13 }]);
  });

  it("cuts one huge word into chunkSize pieces with the overlap", () => {
    const word = "a".repeat(100_000);
    const chunks = splitText(word, { chunkSize: 1000, chunkOverlap: 100 });
    checkChunks(word, chunks, 1000, 100);
    for (const c of chunks.slice(0, -1)) expect(c.text.length).toBe(1000);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.start).toBe(chunks[i - 1]!.end - 100);
    expect(chunks.at(-1)!.end).toBe(100_000);
  });

  it("works with chunkSize 1", () => {
    const chunks = splitText("ab c", { chunkSize: 1, chunkOverlap: 0 });
    expect(chunks.map((c) => c.text)).toEqual(["a", "b", "c"]);
  });

  it("counts code points, and never splits a surrogate pair or a grapheme", () => {
    const emoji = "😀".repeat(10); // 20 UTF-16 units, 10 code points
    expect(splitText(emoji, { chunkSize: 10, chunkOverlap: 0 })).toEqual([{ text: emoji, start: 0, end: 20 }]);
    const halves = splitText(emoji, { chunkSize: 5, chunkOverlap: 0 });
    expect(halves.map((c) => c.text)).toEqual(["😀".repeat(5), "😀".repeat(5)]);
    const family = "👨‍👩‍👧".repeat(4); // 5 code points each, one grapheme
    const fam = splitText(family, { chunkSize: 6, chunkOverlap: 0 });
    expect(fam.map((c) => c.text)).toEqual(["👨‍👩‍👧", "👨‍👩‍👧", "👨‍👩‍👧", "👨‍👩‍👧"]);
    const accents = "e\u0301".repeat(8); // é as e + combining acute
    for (const c of splitText(accents, { chunkSize: 4, chunkOverlap: 0 })) expect(c.text).toBe("e\u0301e\u0301");
  });

  it("keeps graphemes whole in long runs without spaces (segmented in windows)", () => {
    const run = Array.from({ length: 400 }, (_, i) => (i % 50 === 49 ? "日本" : "") + "👨‍👩‍👧" + "e\u0301").join("");
    const chunks = splitText(run, { chunkSize: 7, chunkOverlap: 0 });
    checkChunks(run, chunks, 7, 0);
    for (const c of chunks) expect(c.text).toMatch(/^(日本|日|本|👨‍👩‍👧|e\u0301)+$/u);
    expect(chunks.map((c) => c.text).join("")).toBe(run);
  });

  it("splits CJK text at 。 and inside long sentences by grapheme", () => {
    const text = "日本語の文章です。次の文です。とても長い文がここにありますけれども、区切りはありません";
    const chunks = splitText(text, { chunkSize: 10, chunkOverlap: 2 });
    expect(chunks[0]!.text).toBe("日本語の文章です。");
    expect(chunks[1]!.text).toBe("次の文です。");
    checkChunks(text, chunks, 10, 2);
  });

  it("keeps its invariants on random documents", () => {
    const random = rng(7);
    for (let trial = 0; trial < 60; trial++) {
      const doc = randomDoc(random, 5 + Math.floor(random() * 300));
      const size = 1 + Math.floor(random() * 120);
      const overlap = Math.floor(random() * size * 0.5);
      checkChunks(doc, splitText(doc, { chunkSize: size, chunkOverlap: overlap }), size, overlap);
    }
  });

  it("sizes chunks with a length function (here: words), calling it sparingly", () => {
    let calls = 0;
    const words = (s: string): number => { calls++; return s.split(/\s+/).filter(Boolean).length; };
    const text = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(" ");
    const chunks = splitText(text, { chunkSize: 50, chunkOverlap: 5, lengthFunction: words });
    checkChunks(text, chunks, 50, 5, words);
    for (const c of chunks.slice(0, -1)) expect(words(c.text)).toBe(50);
    expect(chunks.length).toBe(Math.ceil((2000 - 5) / 45));
    // One call per word (is it short enough to pack?), then galloping + bisection: a few dozen
    // calls per chunk rather than one per word per chunk (which would be 2000 × 50).
    expect(calls).toBeLessThan(2000 + chunks.length * 40);
  });

  it("rejects bad options", () => {
    const bad = (o: object): unknown => { try { new RecursiveTextSplitter(o); } catch (e) { return e; } return undefined; };
    for (const o of [{ chunkSize: 0 }, { chunkSize: 1.5 }, { chunkSize: 10, chunkOverlap: 10 }, { chunkSize: 10, chunkOverlap: -1 }, { separators: [/x/] }]) {
      expect(isQuiverError(bad(o), "INVALID_ARGUMENT"), JSON.stringify(o)).toBe(true);
    }
    expect(() => splitText(null as unknown as string)).toThrow(/needs a string/);
  });

  it("takes custom separators", () => {
    const chunks = splitText("a|b|c|d", { chunkSize: 4, chunkOverlap: 0, separators: [/\|/g] });
    expect(chunks.map((c) => c.text)).toEqual(["a|b|", "c|d"]);
  });
});

describe("chunkDocuments", () => {
  it("turns documents into rows with source ids, chunk indexes and offsets", () => {
    const docs = [
      { id: "d1", title: "Quiver", text: PROSE },
      { id: "d2", title: "Empty", text: "" },
      { id: "d3", title: "Null", text: null },
      { id: 4, title: "Short", text: "Just one sentence." },
    ];
    const rows = chunkDocuments(docs, { chunkSize: 120, chunkOverlap: 0, keepFields: ["title"] });
    expect(rows.filter((r) => r.source_id === "d1").map((r) => r.chunk_index)).toEqual([0, 1, 2]);
    expect(rows.find((r) => r.source_id === 4)).toEqual({ source_id: 4, chunk_index: 0, text: "Just one sentence.", start: 0, end: 18, title: "Short" });
    expect(rows.some((r) => r.source_id === "d2" || r.source_id === "d3")).toBe(false);
    for (const r of rows) expect(r.text).toBe((docs.find((d) => d.id === r.source_id)!.text as string).slice(r.start, r.end));
  });

  it("reads other field names and rejects documents without an id or with non-text", () => {
    expect(chunkDocuments([{ key: "k", body: "hi" }], { idField: "key", textField: "body" })).toEqual([{ source_id: "k", chunk_index: 0, text: "hi", start: 0, end: 2 }]);
    expect(() => chunkDocuments([{ text: "hi" }])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", details: { row: 0, column: "id" } }));
    expect(() => chunkDocuments([{ id: 1, text: 5 }])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
