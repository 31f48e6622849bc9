/**
 * FM index over a text column: finds the rows whose value contains a string (LIKE '%x%',
 * contains(col, 'x')), starts or ends with one (LIKE 'x%' / '%x') or equals one, without reading the
 * column. The values are joined into one text T = SEP v0 SEP v1 … SEP $, its suffixes sorted (suffix
 * array by prefix doubling), and the Burrows–Wheeler transform L kept with occurrence counts, so a
 * pattern's occurrences are counted by backward search in |pattern| steps and located through a
 * sample of the suffix array (every SAMPLE-th text position) and LF steps.
 *
 * Characters are UTF-16 code units remapped to a dense alphabet (codes 2…; 0 is the end $, 1 the
 * separator), so any character in a value — NUL included — is an ordinary symbol, and a pattern with
 * a character no value has matches nothing.
 *
 * File: the shared index layout (ann/format.ts), kind "fm", params { block, sample, symbols }:
 *   "alphabet" u16 × (symbols − 2)  code units, ascending (code c + 2 is alphabet[c])
 *   "bwt"      u16 × n              L, as codes
 *   "counts"   i32 × (symbols + 1)  C: how many codes of T are smaller than each code
 *   "occ"      i32 × symbols × (n / block + 1)  occurrences of each code in L[0, j·block)
 *   "marks"    u32 × ⌈n / 32⌉       bit i: suffix i starts at a multiple of `sample`
 *   "ranks"    i32 × ⌈n / 32⌉       marks set before word w
 *   "samples"  i32                  text positions of the marked suffixes, in suffix order
 *   "starts"   i32 × values         text position of each value's first character
 *   "rows"     f64 × values         row address of each value
 *   "nulls"    f64                  rows whose value is NULL
 */
import { corruptIndex, IndexHead, IndexWriter } from "../ann/format.js";
import { toRowSet, type RowSet } from "./rowset.js";

const END = 0;
const SEP = 1;
const SAMPLE = 16;

/** What LIKE asks of the text: `text` as a substring, a prefix, a suffix or the whole value. */
export interface SubstringQuery {
  readonly text: string;
  readonly anchoredStart: boolean;
  readonly anchoredEnd: boolean;
}

/** Suffix array of `s` (codes < `alphabet`, ending in a unique smallest code) by prefix doubling with counting sorts. */
export function suffixArray(s: Uint16Array | Int32Array, alphabet: number): Int32Array {
  const n = s.length;
  const sa = new Int32Array(n);
  const rank = new Int32Array(n);
  const next = new Int32Array(n);
  const bySecond = new Int32Array(n);
  const count = new Int32Array(Math.max(alphabet, n) + 1);
  let m = alphabet;
  for (let i = 0; i < n; i++) count[(rank[i] = s[i]!)]!++;
  for (let c = 1; c < m; c++) count[c]! += count[c - 1]!;
  for (let i = n - 1; i >= 0; i--) sa[--count[rank[i]!]!] = i;
  for (let k = 1; m < n; k <<= 1) {
    // Order by the second half (suffixes shorter than k first), then stably by the first.
    let p = 0;
    for (let i = n - k; i < n; i++) bySecond[p++] = i;
    for (let j = 0; j < n; j++) if (sa[j]! >= k) bySecond[p++] = sa[j]! - k;
    count.fill(0, 0, m);
    for (let i = 0; i < n; i++) count[rank[i]!]!++;
    for (let c = 1; c < m; c++) count[c]! += count[c - 1]!;
    for (let j = n - 1; j >= 0; j--) {
      const i = bySecond[j]!;
      sa[--count[rank[i]!]!] = i;
    }
    let r = 0;
    next[sa[0]!] = 0;
    for (let j = 1; j < n; j++) {
      const a = sa[j - 1]!;
      const b = sa[j]!;
      const same = rank[a] === rank[b] && (a + k < n ? rank[a + k]! : -1) === (b + k < n ? rank[b + k]! : -1);
      if (!same) r++;
      next[b] = r;
    }
    rank.set(next);
    m = r + 1;
  }
  return sa;
}

/** Builds the index file over `values` (NULL or text) of `rows`. */
export function buildFm(values: readonly (string | null)[], rows: ArrayLike<number>): Uint8Array {
  const units = new Set<number>();
  let length = 2; // the first separator and the end
  const kept: number[] = [];
  const nulls: number[] = [];
  values.forEach((v, i) => {
    if (v === null) return void nulls.push(rows[i]!);
    kept.push(i);
    length += v.length + 1;
    for (let j = 0; j < v.length; j++) units.add(v.charCodeAt(j));
  });
  const alphabet = Uint16Array.from([...units].sort((a, b) => a - b));
  const codeOf = new Int32Array(65536);
  alphabet.forEach((u, c) => (codeOf[u] = c + 2));
  const symbols = alphabet.length + 2;
  const text = new Uint16Array(length);
  const starts = new Int32Array(kept.length);
  let at = 0;
  text[at++] = SEP;
  kept.forEach((i, j) => {
    const v = values[i]!;
    starts[j] = at;
    for (let c = 0; c < v.length; c++) text[at++] = codeOf[v.charCodeAt(c)]!;
    text[at++] = SEP;
  });
  text[at++] = END;
  const n = text.length;
  const sa = suffixArray(text, symbols);

  // Blocks of L between occurrence checkpoints: wider for big alphabets, so the table stays ~4n bytes.
  let block = 128;
  while (block < symbols) block <<= 1;
  const bwt = new Uint16Array(n);
  const counts = new Int32Array(symbols + 1);
  const occ = new Int32Array(symbols * (Math.floor(n / block) + 1));
  const running = new Int32Array(symbols);
  const words = Math.ceil(n / 32);
  const marks = new Uint32Array(words);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % block === 0) occ.set(running, (i / block) * symbols);
    const p = sa[i]!;
    const c = p === 0 ? END : text[p - 1]!;
    bwt[i] = c;
    running[c]!++;
    if (p % SAMPLE === 0) {
      marks[i >> 5]! |= 1 << (i & 31);
      samples.push(p);
    }
  }
  // The checkpoint at n itself (when n is a multiple of the block, no row above wrote it).
  if (n % block === 0) occ.set(running, (n / block) * symbols);
  for (let i = 0; i < n; i++) counts[text[i]! + 1]!++;
  for (let c = 1; c <= symbols; c++) counts[c]! += counts[c - 1]!;
  const ranks = new Int32Array(words);
  for (let w = 1; w < words; w++) ranks[w] = ranks[w - 1]! + popcount(marks[w - 1]!);

  const writer = new IndexWriter();
  writer.section("alphabet", alphabet);
  writer.section("bwt", bwt);
  writer.section("counts", counts);
  writer.section("occ", occ);
  writer.section("marks", marks);
  writer.section("ranks", ranks);
  writer.section("samples", Int32Array.from(samples));
  writer.section("starts", starts);
  writer.section("rows", Float64Array.from(kept, (i) => rows[i]!));
  writer.section("nulls", Float64Array.from(nulls).sort());
  return writer.finish({ kind: "fm", metric: "none", dim: 1, size: values.length, params: { block, sample: SAMPLE, symbols } });
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export interface FmStats {
  kind: "fm";
  rows: number;
  nullRows: number;
  textLength: number;
  alphabet: number;
}

export class FmIndex {
  readonly keyType = "string" as const;
  readonly #alphabet: Uint16Array;
  readonly #bwt: Uint16Array;
  readonly #counts: Int32Array;
  readonly #occ: Int32Array;
  readonly #marks: Uint32Array;
  readonly #ranks: Int32Array;
  readonly #samples: Int32Array;
  readonly #starts: Int32Array;
  readonly #rows: Float64Array;
  readonly #nulls: Float64Array;
  readonly #block: number;
  readonly #symbols: number;
  readonly #size: number;

  constructor(bytes: Uint8Array) {
    const head = new IndexHead(bytes);
    if (head.meta.kind !== "fm") corruptIndex(`it is a "${head.meta.kind}" index, not an FM index`);
    const { block, sample, symbols } = head.meta.params as Record<string, unknown>;
    if (!Number.isInteger(block) || (block as number) < 1 || sample !== SAMPLE || !Number.isInteger(symbols) || (symbols as number) < 2) corruptIndex("its parameters are malformed");
    this.#block = block as number;
    this.#symbols = symbols as number;
    const u16 = (name: string): Uint16Array => {
      const b = head.bytes(name);
      if (b.byteLength % 2 !== 0) corruptIndex(`section "${name}" is not a whole number of 16-bit values`);
      return new Uint16Array(b.buffer, 0, b.byteLength >> 1);
    };
    this.#alphabet = u16("alphabet");
    this.#bwt = u16("bwt");
    this.#counts = head.i32("counts");
    this.#occ = head.i32("occ");
    const marks = head.bytes("marks");
    this.#marks = new Uint32Array(marks.buffer, 0, marks.byteLength >> 2);
    this.#ranks = head.i32("ranks");
    this.#samples = head.i32("samples");
    this.#starts = head.i32("starts");
    this.#rows = head.f64("rows");
    this.#nulls = head.f64("nulls");
    this.#size = head.meta.size;
    const n = this.#bwt.length;
    const ok = this.#alphabet.length + 2 === this.#symbols && this.#counts.length === this.#symbols + 1 && this.#counts[this.#symbols] === n
      && this.#occ.length === this.#symbols * (Math.floor(n / this.#block) + 1) && this.#marks.length === Math.ceil(n / 32)
      && this.#ranks.length === this.#marks.length && this.#samples.length === Math.ceil(n / SAMPLE) && this.#starts.length === this.#rows.length
      && this.#bwt.every((c) => c < this.#symbols) && this.#samples.every((p) => p >= 0 && p < n) && this.#starts.every((p) => p > 0 && p < n);
    if (!ok) corruptIndex("its sections do not agree in size or range");
  }

  get stats(): FmStats {
    return { kind: "fm", rows: this.#size, nullRows: this.#nulls.length, textLength: this.#bwt.length, alphabet: this.#alphabet.length };
  }

  isNull(): RowSet {
    return this.#nulls.slice();
  }

  /** Occurrences of code c in L[0, i). */
  #occurrences(c: number, i: number): number {
    const b = Math.floor(i / this.#block);
    let n = this.#occ[b * this.#symbols + c]!;
    for (let j = b * this.#block; j < i; j++) if (this.#bwt[j] === c) n++;
    return n;
  }

  #code(unit: number): number {
    let lo = 0;
    let hi = this.#alphabet.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#alphabet[mid]! < unit) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.#alphabet.length && this.#alphabet[lo] === unit ? lo + 2 : -1;
  }

  /** The range of sorted suffixes that start with `pattern` (codes), by backward search. */
  #range(pattern: readonly number[]): [number, number] {
    let sp = 0;
    let ep = this.#bwt.length;
    for (let k = pattern.length - 1; k >= 0 && sp < ep; k--) {
      const c = pattern[k]!;
      sp = this.#counts[c]! + this.#occurrences(c, sp);
      ep = this.#counts[c]! + this.#occurrences(c, ep);
    }
    return [sp, ep];
  }

  #locate(i: number): number {
    let steps = 0;
    while (((this.#marks[i >> 5]! >>> (i & 31)) & 1) === 0) {
      const c = this.#bwt[i]!;
      i = this.#counts[c]! + this.#occurrences(c, i);
      steps++;
    }
    const w = i >> 5;
    const rank = this.#ranks[w]! + popcount(this.#marks[w]! & ((2 ** (i & 31)) - 1));
    return this.#samples[rank]! + steps;
  }

  #patternOf(q: SubstringQuery): number[] | undefined {
    const codes: number[] = q.anchoredStart ? [SEP] : [];
    for (let j = 0; j < q.text.length; j++) {
      const c = this.#code(q.text.charCodeAt(j));
      if (c < 0) return undefined;
      codes.push(c);
    }
    if (q.anchoredEnd) codes.push(SEP);
    return codes;
  }

  /** How many times the pattern occurs (an upper bound on the rows it matches). */
  count(q: SubstringQuery): number {
    const codes = this.#patternOf(q);
    if (codes === undefined) return 0;
    const [sp, ep] = this.#range(codes);
    return Math.max(0, ep - sp);
  }

  /** Rows whose value matches `q`, ascending. */
  search(q: SubstringQuery): RowSet {
    const codes = this.#patternOf(q);
    if (codes === undefined) return new Float64Array(0);
    if (codes.length === 0) return this.#rows.slice().sort(); // LIKE '%' or '': every non-NULL value
    const [sp, ep] = this.#range(codes);
    const hits: number[] = [];
    const shift = q.anchoredStart ? 1 : 0; // a match of "SEP x" starts at the separator before its value
    for (let i = sp; i < ep; i++) {
      const p = this.#locate(i) + shift;
      // The value holding text position p: the last one starting at or before it.
      let lo = 0;
      let hi = this.#starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (this.#starts[mid]! <= p) lo = mid;
        else hi = mid - 1;
      }
      hits.push(this.#rows[lo]!);
    }
    return toRowSet(hits);
  }
}
