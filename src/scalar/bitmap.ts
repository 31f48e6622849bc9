/**
 * BITMAP scalar index for low-cardinality columns: for each distinct value, the ascending list of its
 * rows. The whole file is resident once opened (it is small when distinct values are few), and an
 * equality or IN lookup is a union of lists with no comparison per row.
 *
 * File: the shared index layout of ann/format.ts, kind "bitmap", params { keyType }.
 *   section "values"   JSON [key, …] distinct non-NULL keys, ascending (NaN travels as "NaN")
 *   section "offsets"  f64 × (values + 1): rows of value v are rows[offsets[v] .. offsets[v + 1])
 *   section "rows"     f64 × non-NULL rows, row addresses grouped by value, ascending in a group
 *   section "nulls"    f64 × NULL rows, ascending
 */
import { corruptIndex, IndexHead, IndexWriter } from "../ann/format.js";
import { compareKeys, inRange, type KeyRange, type KeyType, type ScalarKey } from "./keys.js";
import { addressRunsMask, type MaskFrame, type RowMask } from "./rowmask.js";
import { toRowSet, unionRows, type RowSet } from "./rowset.js";

export function buildBitmap(keyType: KeyType, values: readonly (ScalarKey | null)[], rows: ArrayLike<number>): Uint8Array {
  const groups = new Map<ScalarKey, number[]>();
  const nulls: number[] = [];
  values.forEach((v, i) => {
    if (v === null) return void nulls.push(rows[i]!);
    const key = typeof v === "number" && Number.isNaN(v) ? NaN : v;
    const g = groups.get(key);
    if (g) g.push(rows[i]!);
    else groups.set(key, [rows[i]!]);
  });
  const keys = [...groups.keys()].sort(compareKeys);
  const offsets = new Float64Array(keys.length + 1);
  const all: number[] = [];
  keys.forEach((k, v) => {
    all.push(...toRowSet(groups.get(k)!));
    offsets[v + 1] = all.length;
  });
  const writer = new IndexWriter();
  writer.section("values", new TextEncoder().encode(JSON.stringify(keys.map((k) => (typeof k === "number" && !Number.isFinite(k) ? String(k) : k)))));
  writer.section("offsets", offsets);
  writer.section("rows", Float64Array.from(all));
  writer.section("nulls", Float64Array.from(nulls).sort());
  return writer.finish({ kind: "bitmap", metric: "none", dim: 1, size: values.length, params: { keyType } });
}

export interface BitmapStats {
  kind: "bitmap";
  keyType: KeyType;
  rows: number;
  nullRows: number;
  distinctValues: number;
}

export class BitmapIndex {
  readonly keyType: KeyType;
  readonly #keys: ScalarKey[];
  readonly #offsets: Float64Array;
  readonly #rows: Float64Array;
  readonly #nulls: Float64Array;
  readonly #size: number;

  constructor(bytes: Uint8Array) {
    const head = new IndexHead(bytes);
    if (head.meta.kind !== "bitmap") corruptIndex(`it is a "${head.meta.kind}" index, not a bitmap`);
    const keyType = head.meta.params.keyType;
    if (keyType !== "number" && keyType !== "string") corruptIndex(`its key type ${String(keyType)} is unknown`);
    this.keyType = keyType;
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(head.bytes("values")));
    } catch (cause) {
      corruptIndex("its value list is not valid JSON", {}, cause);
    }
    if (!Array.isArray(parsed)) corruptIndex("its value list is not an array");
    this.#keys = parsed.map((k: unknown) => (keyType === "number" && typeof k === "string" ? Number(k) : (k as ScalarKey)));
    this.#offsets = head.f64("offsets");
    this.#rows = head.f64("rows");
    this.#nulls = head.f64("nulls");
    this.#size = head.meta.size;
    const o = this.#offsets;
    const ok = o.length === this.#keys.length + 1 && o[0] === 0 && o[o.length - 1] === this.#rows.length && o.every((x, i) => i === 0 || x >= o[i - 1]!);
    if (!ok) corruptIndex("its value offsets do not cover its rows");
  }

  get stats(): BitmapStats {
    return { kind: "bitmap", keyType: this.keyType, rows: this.#size, nullRows: this.#nulls.length, distinctValues: this.#keys.length };
  }

  #group(v: number): RowSet {
    return this.#rows.slice(this.#offsets[v]!, this.#offsets[v + 1]!);
  }

  /** Rows whose key lies in `range` (a bitmap answers ranges by visiting every distinct value). */
  range(range: KeyRange): RowSet {
    let out: RowSet = new Float64Array(0);
    this.#keys.forEach((k, v) => {
      if (inRange(k, range)) out = unionRows(out, this.#group(v));
    });
    return out;
  }

  /**
   * Rows whose key lies in `range` as a mask over `frame`, set from the value groups without
   * merging them into one sorted list (an equality is one group; a range or IN several).
   */
  rangeMask(range: KeyRange, frame: MaskFrame): Promise<RowMask> {
    const runs: [number, number][] = [];
    const equal = range.lower !== undefined && range.upper !== undefined && compareKeys(range.lower, range.upper) === 0 && range.lowerInclusive !== false && range.upperInclusive !== false;
    if (equal) {
      const v = this.#find(range.lower!);
      if (v >= 0) runs.push([this.#offsets[v]!, this.#offsets[v + 1]!]);
    } else this.#keys.forEach((k, v) => {
      if (inRange(k, range)) runs.push([this.#offsets[v]!, this.#offsets[v + 1]!]);
    });
    return Promise.resolve(addressRunsMask(this.#rows, runs, frame));
  }

  /** The value group of `key`, or −1 (NaN has none: no comparison matches it). */
  #find(key: ScalarKey): number {
    if (typeof key === "number" && Number.isNaN(key)) return -1;
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(this.#keys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.#keys.length && compareKeys(this.#keys[lo]!, key) === 0 ? lo : -1;
  }

  equals(key: ScalarKey): RowSet {
    const v = this.#find(key);
    return v >= 0 ? this.#group(v) : new Float64Array(0);
  }

  in(keys: readonly ScalarKey[]): RowSet {
    return keys.reduce<RowSet>((acc, k) => unionRows(acc, this.equals(k)), new Float64Array(0));
  }

  isNull(): RowSet {
    return this.#nulls.slice();
  }
}
