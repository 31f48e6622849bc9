import { describe, expect, it } from "vitest";
import { stemmer as frenchStemmer } from "@orama/stemmers/french";
import { asciiFold, DEFAULT_FTS_OPTIONS, loadLanguage, resolveFtsOptions, SUPPORTED_LANGUAGES, Tokenizer } from "../../src/fts/index.js";
import { isQuiverError } from "../../src/errors.js";

const tok = (text: string, options = {}) => Tokenizer.create(options).then((t) => t.tokenize(text));

describe("FTS options", () => {
  it("defaults follow LanceDB's Index.fts()", () => {
    expect(resolveFtsOptions()).toMatchObject({
      baseTokenizer: "simple",
      language: "English",
      lowercase: true,
      stem: true,
      removeStopWords: true,
      asciiFolding: true,
      withPosition: false,
      maxTokenLength: 40,
      ngramMinLength: 3,
      ngramMaxLength: 3,
      prefixOnly: false,
    });
  });

  it.each([
    [{ baseTokenizer: "icu" }],
    [{ lowercase: "yes" }],
    [{ maxTokenLength: 0 }],
    [{ ngramMinLength: 4, ngramMaxLength: 3 }],
    [{ customStopWords: [1, 2] }],
    [{ stemming: true }],
  ])("rejects %j with INVALID_ARGUMENT", (bad) => {
    expect(() => resolveFtsOptions(bad as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("rejects an unknown language and lists the supported ones", async () => {
    const err = await Tokenizer.create({ language: "Klingon" }).catch((e: unknown) => e);
    expect(isQuiverError(err, "INVALID_ARGUMENT")).toBe(true);
    expect(String((err as Error).message)).toContain("French");
    expect(SUPPORTED_LANGUAGES).toContain("English");
    expect(SUPPORTED_LANGUAGES.length).toBeGreaterThanOrEqual(18);
  });

  it("the defaults object cannot be changed by a caller", () => {
    expect(Object.isFrozen(DEFAULT_FTS_OPTIONS)).toBe(true);
  });
});

describe("Tokenizer", () => {
  it("default pipeline: split, lowercase, drop stop words, Porter-stem", async () => {
    expect(await tok("The Runners were RUNNING quickly, and studies generalize!")).toEqual(["runner", "run", "quickli", "studi", "gener"]);
  });

  it("each filter can be turned off", async () => {
    const text = "The Cats were running";
    expect(await tok(text, { stem: false })).toEqual(["cats", "running"]);
    expect(await tok(text, { removeStopWords: false, stem: false })).toEqual(["the", "cats", "were", "running"]);
    expect(await tok(text, { lowercase: false, stem: false, removeStopWords: false })).toEqual(["The", "Cats", "were", "running"]);
  });

  it("custom stop words replace the language's list", async () => {
    expect(await tok("the cat and the hat", { customStopWords: ["cat"], stem: false })).toEqual(["the", "and", "the", "hat"]);
    expect(await tok("the cat", { customStopWords: [], stem: false })).toEqual(["the", "cat"]);
  });

  it("splits on anything that is not a letter, digit or mark (Unicode-aware)", async () => {
    expect(await tok("naïve café—東京 x86_64 COVID-19", { stem: false, removeStopWords: false, asciiFolding: false })).toEqual([
      "naïve", "café", "東京", "x86", "64", "covid", "19",
    ]);
  });

  it("ASCII folding: accents, ligatures and special Latin letters", async () => {
    expect(asciiFold("Crème Brûlée, Straße, Øresund, ﬁne, Łódź")).toBe("Creme Brulee, Strasse, Oresund, fine, Lodz");
    expect(await tok("Crème brûlée STRASSE straße", { stem: false })).toEqual(["creme", "brulee", "strasse", "strasse"]);
    expect(await tok("Crème", { stem: false, asciiFolding: false })).toEqual(["crème"]);
    // Decomposed input folds the same as composed input.
    expect(await tok("cafe\u0301", { stem: false })).toEqual(["cafe"]);
  });

  it("whitespace tokenizer keeps punctuation inside tokens", async () => {
    expect(await tok("e-mail foo,bar  x", { baseTokenizer: "whitespace", stem: false, removeStopWords: false })).toEqual(["e-mail", "foo,bar", "x"]);
  });

  it("raw tokenizer keeps the whole value as one token (lowercased, folded, never stemmed)", async () => {
    expect(await tok("Running Shoes Café", { baseTokenizer: "raw" })).toEqual(["running shoes cafe"]);
    expect(await tok("x".repeat(41), { baseTokenizer: "raw" })).toEqual([]);
    expect(await tok("x".repeat(41), { baseTokenizer: "raw", maxTokenLength: null })).toEqual(["x".repeat(41)]);
  });

  it("ngram tokenizer grams each word; short words stay whole; prefixOnly keeps word starts", async () => {
    expect(await tok("Hello ai", { baseTokenizer: "ngram" })).toEqual(["hel", "ell", "llo", "ai"]);
    expect(await tok("abcd", { baseTokenizer: "ngram", ngramMinLength: 2, ngramMaxLength: 3 })).toEqual(["ab", "abc", "bc", "bcd", "cd"]);
    expect(await tok("abcd", { baseTokenizer: "ngram", ngramMinLength: 1, ngramMaxLength: 3, prefixOnly: true })).toEqual(["a", "ab", "abc"]);
    // Grams are code points: an astral character is never split.
    expect(await tok("a𠀀b", { baseTokenizer: "ngram", ngramMinLength: 2, ngramMaxLength: 2 })).toEqual(["a𠀀", "𠀀b"]);
  });

  it("drops tokens longer than maxTokenLength", async () => {
    const long = "a".repeat(41);
    expect(await tok(`${long} ${"b".repeat(40)} ok`, { stem: false })).toEqual(["b".repeat(40), "ok"]);
    expect(await tok(`${long} ok`, { stem: false, maxTokenLength: 5 })).toEqual(["ok"]);
  });

  it("positions count base tokens, so dropped stop words leave gaps", async () => {
    const t = await Tokenizer.create({ stem: false });
    expect(t.tokenizeWithPositions("The cat in the hat")).toEqual([
      { term: "cat", position: 1 },
      { term: "hat", position: 4 },
    ]);
  });

  it("loads other languages on demand (French Snowball stemmer and stop words)", async () => {
    const pack = await loadLanguage("french");
    expect(pack.name).toBe("French");
    expect(pack.stopWords).toContain("les");
    const terms = await tok("Les chats mangeaient continuellement", { language: "French" });
    expect(terms).toEqual(["chat", frenchStemmer("mangeaient"), frenchStemmer("continuellement")]);
    expect(terms[1]).not.toBe("mangeaient");
  });

  it("every supported language loads, with its stemmer and its stop words", async () => {
    for (const name of SUPPORTED_LANGUAGES) {
      const pack = await loadLanguage(name);
      expect(pack.name).toBe(name);
      expect(typeof pack.stem, name).toBe("function");
      expect(pack.stopWords!.length, name).toBeGreaterThan(10);
    }
  });

  it("a word its stemmer throws on stays unstemmed (Bulgarian's stemmer fails on some words in strict mode)", async () => {
    const { stemmer } = await import("@orama/stemmers/bulgarian");
    expect(() => stemmer("автентичен")).toThrow();
    const terms = await tok("автентичен документ", { language: "Bulgarian", removeStopWords: false });
    expect(terms[0]).toBe("автентичен");
    expect(terms).toHaveLength(2);
  });

  it("stop words of a language are matched after folding too", async () => {
    // "été" is a French stop word; folded it is "ete" and must still be dropped.
    expect(await tok("été Été chat", { language: "French", stem: false })).toEqual(["chat"]);
  });
});
