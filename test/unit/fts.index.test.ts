import { describe, expect, it } from "vitest";
import { FtsIndex, searchIndexes, searchShards, type FtsDocument } from "../../src/fts/index.js";
import { isQuiverError } from "../../src/errors.js";
import { seededRandom as rng } from "../../bench/datasets.js";

const plain = { stem: false, removeStopWords: false } as const;


const WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon".split(" ");

function randomDocs(n: number, seed: number, firstRow = 0): FtsDocument[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 1 + Math.floor(r() * 12);
    // Skewed word choice so some terms are common and some rare.
    const text = Array.from({ length: len }, () => WORDS[Math.floor(r() ** 2 * WORDS.length)]).join(" ");
    return { row: firstRow + i * 3 + 1, text: r() < 0.05 ? null : text };
  });
}

const list = (res: { rows: Float64Array }) => Array.from(res.rows);

describe("BM25 scores", () => {
  it("match a hand-computed example (k1 = 1.2, b = 0.75, Lucene idf)", async () => {
    const idx = await FtsIndex.build(
      [
        { row: 10, text: "a cat sat" },
        { row: 11, text: "cat cat dog" },
        { row: 12, text: "dog bird" },
      ],
      plain,
    );
    // N = 3, avgdl = 8/3. "cat": df = 2, idf = ln(1 + 1.5 / 2.5) = ln 1.6 = 0.470004.
    // Row 10: tf 1, dl 3: norm = 1.2 · (0.25 + 0.75 · 1.125) = 1.3125; 2.2 · 1 / 2.3125 · idf = 0.447139
    // Row 11: tf 2, dl 3: 2.2 · 2 / 3.3125 · idf = 0.624307
    const res = idx.search("cat");
    expect(list(res)).toEqual([11, 10]);
    expect(res.scores[0]).toBeCloseTo(0.624307, 5);
    expect(res.scores[1]).toBeCloseTo(0.447139, 5);
    // "bird": df = 1, idf = ln(1 + 2.5 / 1.5) = 0.980829; dl 2: norm = 1.2 · (0.25 + 0.75 · 0.75) = 0.975
    expect(idx.search("bird").scores[0]).toBeCloseTo((0.980829 * 2.2) / 1.975, 5);
  });

  it("k1 and b change the scores as BM25 says", async () => {
    const idx = await FtsIndex.build([{ row: 0, text: "x y" }, { row: 1, text: "x x x x y y y y z z" }], plain);
    // b = 0: no length normalization; k1 = 0: tf does not matter, score = idf.
    const flat = idx.search("x", { k1: 0, b: 0 });
    const idfX = Math.log(1 + 0.5 / 2.5);
    expect(Array.from(flat.scores)).toEqual([Math.fround(idfX), Math.fround(idfX)]);
    expect(list(flat)).toEqual([0, 1]); // equal scores: rows ascending
    const noLen = idx.search("x", { b: 0 });
    expect(list(noLen)).toEqual([1, 0]); // tf 4 beats tf 1 when length is ignored
  });

  it("a repeated query word weighs more", async () => {
    const idx = await FtsIndex.build([{ row: 0, text: "apple pear" }, { row: 1, text: "pear pear kiwi" }, { row: 2, text: "kiwi plum" }], plain);
    const once = idx.search("apple pear");
    const twice = idx.search("apple apple pear");
    expect(twice.scores[0]! - once.scores[0]!).toBeGreaterThan(0.1);
  });
});

describe("match queries", () => {
  const docs = [
    { row: 0, text: "cat dog" },
    { row: 1, text: "cat" },
    { row: 2, text: "dog bird" },
    { row: 3, text: "bird" },
  ];

  it("OR returns every document with any term, AND only those with all", async () => {
    const idx = await FtsIndex.build(docs, plain);
    expect(list(idx.search("cat dog", { operator: "OR" })).sort()).toEqual([0, 1, 2]);
    expect(list(idx.search("cat dog", { operator: "AND" }))).toEqual([0]);
    expect(list(idx.search("cat unicorn", { operator: "AND" }))).toEqual([]);
    expect(list(idx.search("cat unicorn", { operator: "OR" })).sort()).toEqual([0, 1]);
  });

  it("k limits, Infinity returns all, 0 returns none; no match is an empty result", async () => {
    const idx = await FtsIndex.build(docs, plain);
    expect(idx.search("cat dog bird", { k: 2 }).rows.length).toBe(2);
    expect(idx.search("cat dog bird", { k: Infinity }).rows.length).toBe(4);
    expect(idx.search("cat", { k: 0 }).rows.length).toBe(0);
    expect(idx.search("zebra").rows.length).toBe(0);
    expect(idx.search("").rows.length).toBe(0);
    expect(() => idx.search("cat", { k: -1 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => idx.search("cat", { k: 1.5 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => idx.search("cat", { operator: "XOR" as never })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => idx.search("cat", { b: 2 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("top-k with a heap equals sorting all matches (random corpus)", async () => {
    const idx = await FtsIndex.build(randomDocs(500, 1), plain);
    for (const q of ["alpha", "beta gamma", "sigma tau upsilon", "alpha beta gamma delta"]) {
      const all = idx.search(q, { k: Infinity });
      const top = idx.search(q, { k: 7 });
      expect(list(top)).toEqual(list(all).slice(0, 7));
      expect(Array.from(top.scores)).toEqual(Array.from(all.scores).slice(0, 7));
      for (let i = 1; i < all.scores.length; i++) {
        const better = all.scores[i - 1]! > all.scores[i]! || (all.scores[i - 1] === all.scores[i] && all.rows[i - 1]! < all.rows[i]!);
        expect(better).toBe(true);
      }
    }
  });

  it("query text goes through the same tokenizer as documents", async () => {
    const idx = await FtsIndex.build([{ row: 0, text: "Running shoes for runners" }, { row: 1, text: "a café" }]);
    expect(list(idx.search("RUN"))).toEqual([0]);
    expect(list(idx.search("cafe"))).toEqual([1]);
    expect(list(idx.search("the of and"))).toEqual([]); // only stop words
  });
});

describe("phrase queries", () => {
  const docs = [
    { row: 0, text: "quick brown fox" },
    { row: 1, text: "brown quick fox" },
    { row: 2, text: "quick fox brown" },
    { row: 3, text: "quick brown fox and the quick brown dog" },
  ];

  it("match words in order and adjacent", async () => {
    const idx = await FtsIndex.build(docs, { ...plain, withPosition: true });
    expect(list(idx.search('"quick brown"')).sort()).toEqual([0, 3]);
    expect(list(idx.search('"brown fox"')).sort()).toEqual([0, 3]);
    expect(list(idx.search("quick brown", { phrase: true })).sort()).toEqual([0, 3]);
    expect(list(idx.search('"fox brown"'))).toEqual([2]);
    expect(list(idx.search('"brown dog fox"'))).toEqual([]);
  });

  it("score by phrase frequency: twice beats once at equal length", async () => {
    const idx = await FtsIndex.build(
      [{ row: 0, text: "new york new york city" }, { row: 1, text: "new york is a city" }, { row: 2, text: "york new" }],
      { ...plain, withPosition: true },
    );
    const res = idx.search('"new york"');
    expect(list(res)).toEqual([0, 1]);
    expect(res.scores[0]).toBeGreaterThan(res.scores[1]!);
  });

  it("stop words removed from both sides keep their gaps", async () => {
    const idx = await FtsIndex.build(
      [{ row: 0, text: "the cat in the hat" }, { row: 1, text: "cat hat" }, { row: 2, text: "a cat on a hat" }],
      { withPosition: true },
    );
    expect(list(idx.search('"cat in the hat"')).sort()).toEqual([0, 2]);
    expect(list(idx.search('"cat hat"'))).toEqual([1]);
  });

  it("mix with terms; AND requires the phrase too", async () => {
    const idx = await FtsIndex.build(docs, { ...plain, withPosition: true });
    expect(list(idx.search('dog "quick brown"', { operator: "AND" }))).toEqual([3]);
    expect(list(idx.search('dog "quick brown"', { operator: "OR" }))[0]).toBe(3);
    expect(list(idx.search('dog "quick brown"', { operator: "OR" })).sort()).toEqual([0, 3]);
  });

  it("without positions a phrase is INVALID_ARGUMENT; phrase: false reads quotes as text", async () => {
    const idx = await FtsIndex.build(docs, plain);
    const err = (() => {
      try {
        idx.search('"quick brown"');
      } catch (e) {
        return e;
      }
    })();
    expect(isQuiverError(err, "INVALID_ARGUMENT")).toBe(true);
    expect(String((err as Error).message)).toContain("withPosition");
    expect(list(idx.search('"quick brown"', { phrase: false })).sort()).toEqual([0, 1, 2, 3]);
    // A quoted single word is just a term.
    expect(list(idx.search('"dog"'))).toEqual([3]);
  });

  it("an unmatched quote is ignored", async () => {
    const idx = await FtsIndex.build(docs, { ...plain, withPosition: true });
    expect(list(idx.search('dog "'))).toEqual([3]);
    expect(list(idx.search('"dog'))).toEqual([3]);
  });
});

describe("several columns", () => {
  const docs: FtsDocument[] = [
    { row: 0, fields: { title: "heart disease", text: "a study of blood pressure" } },
    { row: 1, fields: { title: "blood pressure and heart", text: "heart rate and heart disease" } },
    { row: 2, fields: { title: "diet", text: null } },
    { row: 3, fields: { title: null, text: "diet and heart" } },
  ];

  it("searches all columns by default, or the ones named", async () => {
    const idx = await FtsIndex.build(docs, { ...plain, columns: ["title", "text"] });
    expect(list(idx.search("diet")).sort()).toEqual([2, 3]);
    expect(list(idx.search("diet", { columns: ["title"] }))).toEqual([2]);
    expect(list(idx.search("diet", { columns: ["text"] }))).toEqual([3]);
    expect(() => idx.search("diet", { columns: ["body"] })).toThrow(expect.objectContaining({ code: "UNKNOWN_COLUMN" }));
  });

  it("max (default, LanceDB's) takes the best column; sum adds the columns' BM25 scores", async () => {
    const idx = await FtsIndex.build(docs, { ...plain, columns: ["title", "text"] });
    const score = (res: { rows: Float64Array; scores: Float32Array }, row: number) => res.scores[list(res).indexOf(row)] ?? 0;
    const t = idx.search("heart", { columns: ["title"], k: Infinity });
    const x = idx.search("heart", { columns: ["text"], k: Infinity });
    const sum = idx.search("heart", { k: Infinity, combine: "sum" });
    const max = idx.search("heart", { k: Infinity });
    expect(score(sum, 0)).toBeCloseTo(score(t, 0), 5); // title only
    expect(score(t, 1)).toBeGreaterThan(0);
    expect(score(x, 1)).toBeGreaterThan(0);
    expect(score(sum, 1)).toBeCloseTo(score(t, 1) + score(x, 1), 5); // both columns
    expect(score(max, 1)).toBeCloseTo(Math.max(score(t, 1), score(x, 1)), 5);
    const both = idx.search("heart disease", { k: Infinity, combine: "sum" });
    const bt = idx.search("heart disease", { columns: ["title"], k: Infinity });
    const bx = idx.search("heart disease", { columns: ["text"], k: Infinity });
    const bmax = idx.search("heart disease", { k: Infinity });
    expect(score(bx, 0)).toBe(0);
    expect(score(both, 0)).toBeCloseTo(score(bt, 0), 5);
    expect(score(both, 1)).toBeCloseTo(score(bt, 1) + score(bx, 1), 5);
    expect(score(bmax, 1)).toBeCloseTo(Math.max(score(bt, 1), score(bx, 1)), 5);
    expect(max.rows.length).toBe(sum.rows.length);
  });

  it("boosts multiply each column's score (LanceDB's MultiMatchQuery boosts)", async () => {
    const idx = await FtsIndex.build(docs, { ...plain, columns: ["title", "text"] });
    const title = idx.search("heart", { columns: ["title"], k: Infinity });
    const text = idx.search("heart", { columns: ["text"], k: Infinity });
    const boosted = idx.search("heart", { boosts: [3, 0.5], k: Infinity, combine: "sum" });
    const boostedMax = idx.search("heart", { boosts: [3, 0.5], k: Infinity });
    const at = (res: { rows: Float64Array; scores: Float32Array }, row: number) => res.scores[Array.from(res.rows).indexOf(row)] ?? 0;
    for (const row of [0, 1, 3]) {
      expect(at(boosted, row)).toBeCloseTo(3 * at(title, row) + 0.5 * at(text, row), 5);
      expect(at(boostedMax, row)).toBeCloseTo(Math.max(3 * at(title, row), 0.5 * at(text, row)), 5);
    }
    expect(() => idx.search("heart", { boosts: [1, 1, 1] })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => idx.search("heart", { boosts: [0] })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("AND must be satisfied within one column (LanceDB's per-column match)", async () => {
    const idx = await FtsIndex.build(docs, { ...plain, columns: ["title", "text"] });
    // Rows 0 and 1 each have "disease" in one column and "pressure" in the other.
    expect(list(idx.search("disease pressure", { operator: "AND" }))).toEqual([]);
    expect(list(idx.search("disease pressure", { operator: "OR" })).sort()).toEqual([0, 1]);
    expect(list(idx.search("heart disease", { operator: "AND" })).sort()).toEqual([0, 1]);
  });

  it("separately built per-column indexes give the same results through searchIndexes", async () => {
    const both = await FtsIndex.build(docs, { ...plain, columns: ["title", "text"] });
    const title = await FtsIndex.build(docs.map((d) => ({ row: d.row, text: "fields" in d ? d.fields.title : null })), plain);
    const text = await FtsIndex.build(docs.map((d) => ({ row: d.row, text: "fields" in d ? d.fields.text : null })), plain);
    for (const q of ["heart", "blood pressure", "diet heart"]) {
      const a = both.search(q, { k: Infinity });
      const b = searchIndexes([title, text], q, { k: Infinity });
      expect(list(b)).toEqual(list(a));
      Array.from(a.scores).forEach((s, i) => expect(b.scores[i]).toBeCloseTo(s, 5));
      const ab = both.search(q, { k: 3, boosts: [2, 0.5] });
      const bb = searchIndexes([title, text], q, { k: 3, boosts: [2, 0.5] });
      expect(list(bb)).toEqual(list(ab));
    }
  });

  it("rejects a non-string value without changing the index", async () => {
    const idx = await FtsIndex.build(docs, { ...plain, columns: ["title", "text"] });
    expect(() => idx.add([{ row: 9, fields: { title: "ok", text: 42 as never } }])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => idx.add([{ row: -1, text: "x" }])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => idx.add([null as never])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    // A bad document anywhere in a batch adds nothing of the batch.
    expect(() => idx.add([{ row: 20, text: "fine words" }, { row: 21, text: 7 as never }])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(list(idx.search("fine"))).toEqual([]);
    expect(idx.numDocs).toBe(4);
    expect(list(idx.search("ok"))).toEqual([]);
  });
});

describe("shards searched as one index", () => {
  it("an index and one over later rows score and rank exactly as one index over all rows", async () => {
    const opts = { ...plain, withPosition: true };
    const early = randomDocs(800, 11);
    const late = randomDocs(120, 12, 10_000);
    const whole = await FtsIndex.build([...early, ...late], opts);
    const shards = [await FtsIndex.build(early, opts), await FtsIndex.build(late, opts)];
    const allowed = (row: number): boolean => row % 7 !== 0;
    for (const q of ["alpha", "upsilon tau", "beta gamma delta", '"alpha beta"', "omicron pi rho sigma", "nothing-here"]) {
      for (const options of [{ k: 15 }, { k: 15, operator: "AND" as const }, { k: 15, allowed }, { k: Infinity }]) {
        const a = whole.search(q, options);
        const b = searchShards(shards, q, options);
        expect(list(b)).toEqual(list(a));
        expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
      }
    }
    // Several columns (one index each), each made of shards.
    const titles = (docs: FtsDocument[]) => docs.map((d) => ({ row: d.row, text: "text" in d && d.text ? d.text.split(" ").reverse().slice(0, 3).join(" ") : null }));
    const wholeTitles = await FtsIndex.build(titles([...early, ...late]), opts);
    const titleShards = [await FtsIndex.build(titles(early), opts), await FtsIndex.build(titles(late), opts)];
    for (const q of ["alpha beta", "zeta"]) {
      const a = searchIndexes([whole, wholeTitles], q, { k: 12 });
      const b = searchIndexes([shards, titleShards], q, { k: 12 });
      expect(list(b)).toEqual(list(a));
    }
  });

  it("refuses a corpus that does not include the index or mixes tokenizers", async () => {
    const a = await FtsIndex.build(randomDocs(10, 1), plain);
    const b = await FtsIndex.build(randomDocs(10, 2, 100), { ...plain, stem: true });
    expect(() => a.search("alpha", { corpus: [b] })).toThrow(/includes the index/);
    expect(() => searchShards([a, b], "alpha")).toThrow(/same tokenizer/);
  });
});

describe("incremental add", () => {
  it("adding in many small batches, with searches in between, equals one build", async () => {
    const docs = randomDocs(600, 7);
    const opts = { ...plain, withPosition: true };
    const once = await FtsIndex.build(docs, opts);
    const inc = await FtsIndex.create(opts);
    const r = rng(3);
    for (let at = 0; at < docs.length; ) {
      const n = 1 + Math.floor(r() * 40);
      inc.add(docs.slice(at, at + n));
      at += n;
      inc.search("alpha beta"); // forces pending postings into segments
    }
    for (const q of ["alpha", "beta gamma delta", '"alpha beta"', '"gamma gamma"', "upsilon"]) {
      const a = once.search(q, { k: 20 });
      const b = inc.search(q, { k: 20 });
      expect(list(b)).toEqual(list(a));
      expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    }
    expect(inc.serialize()).toEqual(once.serialize());
  });

  it("rows added later are found and change the statistics", async () => {
    const idx = await FtsIndex.build([{ row: 1, text: "apple" }, { row: 2, text: "pear" }], plain);
    const before = idx.search("apple").scores[0]!;
    idx.add([{ row: 3, text: "apple pie" }]);
    const res = idx.search("apple", { k: 10 });
    expect(list(res).sort()).toEqual([1, 3]);
    expect(res.scores[0]).toBeLessThan(before); // apple is now in 2 of 3 documents: lower idf
  });

  it("reports progress", async () => {
    const calls: [number, number | undefined][] = [];
    await FtsIndex.build(randomDocs(2100, 2), plain, (done, total) => calls.push([done, total]));
    expect(calls).toEqual([[1024, 2100], [2048, 2100], [2100, 2100]]);
  });
});

describe("allowed rows (where prefilter, deletes)", () => {
  it("returns k allowed rows even when better rows are filtered out", async () => {
    const docs = Array.from({ length: 100 }, (_, i) => ({ row: 1000 + i, text: `term ${"filler ".repeat(i % 10)}${i % 2 ? "term" : ""}` }));
    const idx = await FtsIndex.build(docs, plain);
    const allowed = new Set(docs.filter((d) => d.row % 7 === 0).map((d) => d.row));
    const all = idx.search("term", { k: Infinity });
    const expected = list(all).filter((r) => allowed.has(r)).slice(0, 5);
    expect(expected.length).toBe(5);
    expect(list(idx.search("term", { k: 5, allowed }))).toEqual(expected);
    expect(list(idx.search("term", { k: 5, allowed: (row) => allowed.has(row) }))).toEqual(expected);
    // Without the filter, the best 5 are not all allowed.
    expect(list(idx.search("term", { k: 5 })).every((r) => allowed.has(r))).toBe(false);
  });

  it("a throwing filter leaves the index usable", async () => {
    const idx = await FtsIndex.build(randomDocs(200, 12), plain);
    const before = idx.search("alpha beta", { k: 5 });
    expect(() => idx.search("alpha beta", { k: 5, allowed: () => { throw new Error("boom"); } })).toThrow("boom");
    const after = idx.search("alpha beta", { k: 5 });
    expect(list(after)).toEqual(list(before));
    expect(Array.from(after.scores)).toEqual(Array.from(before.scores));
  });

  it("returns fewer than k only when fewer allowed rows match", async () => {
    const idx = await FtsIndex.build(randomDocs(200, 11), plain);
    const res = idx.search("alpha", { k: 50, allowed: { has: (row: number) => row === 4 || row === 7 } });
    expect(list(res).every((r) => r === 4 || r === 7)).toBe(true);
  });
});
