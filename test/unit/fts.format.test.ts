import { describe, expect, it } from "vitest";
import { FtsIndex, FTS_FORMAT_VERSION, type FtsDocument } from "../../src/fts/index.js";
import { crc32 } from "../../src/fts/bytes.js";
import { isQuiverError } from "../../src/errors.js";
import { seededRandom as rng } from "../../bench/datasets.js";


const docs: FtsDocument[] = [
  { row: 2 ** 40 + 5, fields: { title: "Crème brûlée recipes", text: "The quick brown fox jumps over the lazy dog" } },
  { row: 7, fields: { title: "東京 travel", text: "quick quick brown foxes, naïve dogs" } },
  { row: 3, fields: { title: null, text: "brown bread and brown rice" } },
  { row: 2 ** 32, fields: { title: "lazy sunday", text: null } },
  { row: 9, fields: { title: "", text: "the the the" } },
];

const ALL_WORDS = [...new Set(docs.flatMap((d) => ("fields" in d ? Object.values(d.fields) : [d.text]).join(" ").split(/\s+/)))].join(" ");

const QUERIES = ['"quick brown"', "brown dog", "creme", "東京", "lazy fox", '"brown rice" bread'];

async function build(): Promise<FtsIndex> {
  return FtsIndex.build(docs, { columns: ["title", "text"], withPosition: true });
}

function same(a: FtsIndex, b: FtsIndex, opts = {}): void {
  for (const q of QUERIES) {
    const x = a.search(q, { k: Infinity, ...opts });
    const y = b.search(q, { k: Infinity, ...opts });
    expect(Array.from(y.rows)).toEqual(Array.from(x.rows));
    expect(Array.from(y.scores)).toEqual(Array.from(x.scores));
  }
}

describe("FTS serialization", () => {
  it("round trips: same options, stats and results; rows above 2^32 survive", async () => {
    const idx = await build();
    const bytes = idx.serialize();
    expect(Array.from(bytes.subarray(0, 5))).toEqual([0x51, 0x46, 0x54, 0x53, FTS_FORMAT_VERSION]);
    const back = await FtsIndex.deserialize(bytes);
    expect(back.options).toEqual(idx.options);
    expect(back.columns).toEqual(["title", "text"]);
    expect(back.stats()).toEqual(idx.stats());
    same(idx, back);
    expect(Array.from(back.search("creme").rows)).toEqual([2 ** 40 + 5]);
    // Serializing the copy gives the same bytes.
    expect(back.serialize()).toEqual(bytes);
  });

  it("a deserialized index keeps growing", async () => {
    const idx = await build();
    const back = await FtsIndex.deserialize(idx.serialize());
    const more = [{ row: 100, fields: { title: "quick brown", text: "fox" } }];
    idx.add(more);
    back.add(more);
    same(idx, back);
  });

  it("round trips every tokenizer and a non-default language", async () => {
    for (const options of [
      { baseTokenizer: "whitespace" as const, stem: false },
      { baseTokenizer: "raw" as const },
      { baseTokenizer: "ngram" as const, ngramMinLength: 2, ngramMaxLength: 4 },
      { language: "German", withPosition: true },
      { removeStopWords: false, customStopWords: ["brown"] },
    ]) {
      const idx = await FtsIndex.build(
        docs.map((d) => ({ row: d.row, text: "fields" in d ? d.fields.text : null })),
        options,
      );
      const back = await FtsIndex.deserialize(idx.serialize());
      expect(back.options).toEqual(idx.options);
      same(idx, back, { phrase: false });
    }
  });

  it("an empty index round trips", async () => {
    const idx = await FtsIndex.create({ columns: ["a", "b"] });
    const back = await FtsIndex.deserialize(idx.serialize());
    expect(back.numDocs).toBe(0);
    expect(back.search("x").rows.length).toBe(0);
  });

  it("postings are compact: smaller than the text they index", async () => {
    const text = Array.from({ length: 2000 }, (_, i) => ({ row: i, text: `document ${i % 50} about topic ${i % 7} and more words here` }));
    const idx = await FtsIndex.build(text);
    const bytes = idx.serialize().length;
    const raw = text.reduce((n, d) => n + d.text.length, 0);
    expect(bytes).toBeLessThan(raw / 4);
  });
});

describe("FTS corrupt input", () => {
  const expectCorrupt = async (bytes: Uint8Array): Promise<void> => {
    const err = await FtsIndex.deserialize(bytes).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isQuiverError(err, "CORRUPT_FILE"), `got ${String(err)}`).toBe(true);
  };

  it("names the problem: magic, version, truncation, checksum", async () => {
    const good = (await build()).serialize();
    await expectCorrupt(new Uint8Array(0));
    await expectCorrupt(good.subarray(0, good.length - 1));
    const badMagic = good.slice();
    badMagic[0] = 0;
    await expectCorrupt(badMagic);
    const future = good.slice();
    future[4] = FTS_FORMAT_VERSION + 1;
    const err = await FtsIndex.deserialize(future).catch((e: Error) => e);
    expect(String((err as Error).message)).toContain("version");
    const flipped = good.slice();
    flipped[40]! ^= 1;
    const err2 = await FtsIndex.deserialize(flipped).catch((e: Error) => e);
    expect(String((err2 as Error).message)).toContain("checksum");
    await expectCorrupt("not bytes" as never);
  });

  it("rejects structurally invalid files that carry a valid checksum", async () => {
    // Tamper with a built index's internals; the encoder writes what it is given, checksum included.
    type Internals = { fields: { termText: string[]; docCount: number; main: { docs: Uint32Array } }[] };
    const textDocs = docs.map((d) => ({ row: d.row, text: "fields" in d ? d.fields.text : null }));
    const tampered = async (edit: (f: Internals["fields"][number]) => void, input = textDocs): Promise<Uint8Array> => {
      const idx = await FtsIndex.build(input, { stem: false });
      idx.search("x"); // flush pending postings into the main segment
      edit((idx as unknown as Internals).fields[0]!);
      return idx.serialize();
    };
    const message = async (bytes: Uint8Array): Promise<string> => {
      const e = await FtsIndex.deserialize(bytes).then(() => undefined, (x: unknown) => x);
      expect(isQuiverError(e, "CORRUPT_FILE"), `got ${String(e)}`).toBe(true);
      return (e as Error).message;
    };
    expect(await message(await tampered((f) => (f.main.docs[f.main.docs.length - 1] = 99)))).toContain("out of range");
    expect(await message(await tampered((f) => (f.termText[1] = f.termText[0]!)))).toContain("out of order");
    const distinct = ["apple", "pear", "plum"].map((text, row) => ({ row, text }));
    expect(await message(await tampered((f) => (f.docCount = 1), distinct))).toContain("claims");
    // A count far larger than the file must not be believed (no huge allocation).
    const good = (await build()).serialize();
    // Header, options "{}" (2 bytes), then a document count of 2^42.
    const huge = Uint8Array.from([...good.subarray(0, 12), 0x02, 0x7b, 0x7d, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0, 0, 0]);
    expect(await message(reseal(huge))).toMatch(/document count|outside/);
  });

  /** Re-seals a mutated body: right length field and checksum, so the structural checks are what stop it. */
  function reseal(body: Uint8Array): Uint8Array {
    const out = body.slice();
    if (out.length < 16) return out;
    const v = new DataView(out.buffer);
    v.setUint32(8, out.length - 16, true);
    v.setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
    return out;
  }

  function mutate(src: Uint8Array, r: () => number): Uint8Array {
    const pick = (n: number) => Math.floor(r() * n);
    let b = src.slice();
    const kind = pick(6);
    const edits = 1 + pick(4);
    for (let e = 0; e < edits; e++) {
      if (kind === 0) b[pick(b.length)]! ^= 1 << pick(8); // bit flip
      else if (kind === 1) b[pick(b.length)] = pick(256); // random byte
      else if (kind === 2) b[pick(b.length)] = [0, 0x7f, 0x80, 0xff][pick(4)]!; // varint edge bytes
      else if (kind === 3) b = b.subarray(0, pick(b.length)).slice(); // truncate
      else if (kind === 4) {
        const at = pick(b.length);
        const ins = new Uint8Array(b.length + 1);
        ins.set(b.subarray(0, at));
        ins[at] = pick(256);
        ins.set(b.subarray(at), at + 1);
        b = ins;
      } else {
        const at = pick(b.length);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]);
      }
    }
    return b;
  }

  it("10,000 seeded mutations: CORRUPT_FILE or a working index, never another error or a hang", async () => {
    const sources = [
      (await build()).serialize(),
      (await FtsIndex.build(docs.map((d) => ({ row: d.row, text: "fields" in d ? d.fields.text : null })), { stem: false })).serialize(),
    ];
    const r = rng(20261121);
    let corrupt = 0;
    let loaded = 0;
    for (let i = 0; i < 10_000; i++) {
      const src = sources[i % sources.length]!;
      const m = mutate(src, r);
      // Half keep their damage visible to the checksum; half are resealed to reach the parser.
      const bytes = i % 2 === 0 ? m : reseal(m);
      let idx: FtsIndex | undefined;
      try {
        idx = await FtsIndex.deserialize(bytes);
      } catch (e) {
        if (!isQuiverError(e, "CORRUPT_FILE")) throw new Error(`mutation ${i} threw ${String(e)}`, { cause: e });
        corrupt++;
        continue;
      }
      loaded++;
      // Whatever loads must be consistent: every term searchable with finite scores and real rows,
      // and serializing it again reproduces the same index.
      for (const operator of ["OR", "AND"] as const) {
        const res = idx.search(ALL_WORDS, { k: Infinity, phrase: false, operator });
        for (const s of res.scores) expect(Number.isFinite(s)).toBe(true);
        for (const row of res.rows) expect(Number.isSafeInteger(row) && row >= 0).toBe(true);
      }
      const again = idx.serialize();
      expect((await FtsIndex.deserialize(again)).serialize()).toEqual(again);
    }
    expect(corrupt + loaded).toBe(10_000);
    expect(corrupt).toBeGreaterThan(9_000);
  });
});
