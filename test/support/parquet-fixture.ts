/**
 * A Parquet file made at test time with hyparquet-writer (never a committed data file): `rows`
 * rows in row groups of `rowGroupSize`, with a required int id, nullable strings, doubles, int64,
 * timestamps, booleans, a list of strings and a 4-d float vector column written as a Parquet LIST.
 */
import { parquetWriteBuffer } from "hyparquet-writer";

export interface FixtureRow {
  id: number;
  name: string | null;
  score: number | null;
  big: bigint | null;
  ts: Date | null;
  flag: boolean | null;
  tags: string[] | null;
  vector: number[];
}

export function fixtureRows(n: number): FixtureRow[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    name: i % 3 === 0 ? null : `name ${i} ${"abcdefg"[i % 7]}`,
    score: i % 4 === 0 ? null : i * 1.5,
    big: i % 5 === 1 ? null : BigInt(i) * 10_000_000_000n,
    ts: i % 6 === 2 ? null : new Date(Date.UTC(2024, 0, 1) + i * 60_000),
    flag: i % 7 === 3 ? null : i % 2 === 0,
    tags: i % 5 === 0 ? null : [`t${i % 3}`, `u${i % 4}`],
    vector: [Math.fround(Math.sin(i)), Math.fround(Math.cos(i)), Math.fround(i / n), Math.fround(1 - i / n)],
  }));
}

export function writeParquetFixture(rows: readonly FixtureRow[], rowGroupSize: number): Uint8Array<ArrayBuffer> {
  const col = <K extends keyof FixtureRow>(k: K): FixtureRow[K][] => rows.map((r) => r[k]);
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: "id", data: Int32Array.from(col("id")) },
      { name: "name", data: col("name") },
      { name: "score", data: col("score") },
      { name: "big", data: col("big") },
      { name: "ts", data: col("ts") },
      { name: "flag", data: col("flag") },
      { name: "tags", data: col("tags") },
      { name: "vector", data: col("vector") },
    ],
    schema: [
      { name: "root", num_children: 8 },
      { name: "id", type: "INT32", repetition_type: "REQUIRED" },
      { name: "name", type: "BYTE_ARRAY", repetition_type: "OPTIONAL", converted_type: "UTF8", logical_type: { type: "STRING" } },
      { name: "score", type: "DOUBLE", repetition_type: "OPTIONAL" },
      { name: "big", type: "INT64", repetition_type: "OPTIONAL" },
      { name: "ts", type: "INT64", repetition_type: "OPTIONAL", converted_type: "TIMESTAMP_MILLIS", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" } },
      { name: "flag", type: "BOOLEAN", repetition_type: "OPTIONAL" },
      { name: "tags", repetition_type: "OPTIONAL", num_children: 1, converted_type: "LIST", logical_type: { type: "LIST" } },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      { name: "element", type: "BYTE_ARRAY", repetition_type: "OPTIONAL", converted_type: "UTF8", logical_type: { type: "STRING" } },
      { name: "vector", repetition_type: "REQUIRED", num_children: 1, converted_type: "LIST", logical_type: { type: "LIST" } },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      { name: "element", type: "FLOAT", repetition_type: "REQUIRED" },
    ],
    rowGroupSize,
  });
  return new Uint8Array(buffer);
}
