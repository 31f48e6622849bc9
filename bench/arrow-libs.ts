/**
 * apache-arrow vs @uwdata/flechette for Quiver's Arrow paths (docs/ARROW.md, "Which Arrow library"):
 *   size  what a browser downloads for each (esbuild, minified, gzip -9): the exports Quiver's output
 *         path uses plus IPC read/write, and the whole library;
 *   speed building a 100K × 100 float32 table (an Int32 id and a FixedSizeList<Float32>[100] vector)
 *         from typed arrays, writing it as IPC stream bytes, and reading those bytes back to the flat
 *         vector buffer; and Quiver's own conversions (Arrow → Quiver columns, Quiver → Arrow).
 * Run: npx tsx bench/arrow-libs.ts   (synthetic data; about a minute on 2 cores)
 */
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import * as A from "apache-arrow";
import * as F from "@uwdata/flechette";
import { arrowToColumns } from "../src/arrow/from-arrow.js";
import { arrowBatch, loadArrow } from "../src/arrow/to-arrow.js";
import { DataTypes } from "../src/data/schema.js";

const ROWS = 100_000;
const DIM = 100;
const REPEAT = 5;

async function bundleGzip(source: string): Promise<{ min: number; gzip: number }> {
  const out = await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: "ts" },
    bundle: true, format: "esm", platform: "browser", target: "es2022", minify: true, write: false, logLevel: "error",
  });
  const bytes = out.outputFiles[0]!.contents;
  return { min: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function time(fn: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const ids = Int32Array.from({ length: ROWS }, (_, i) => i);
const flat = new Float32Array(ROWS * DIM);
for (let i = 0; i < flat.length; i++) flat[i] = Math.sin(i * 0.001);

function buildApache(): A.Table {
  const item = new A.Field("item", new A.Float32(), true);
  const vector = A.makeData({
    type: new A.FixedSizeList(DIM, item), length: ROWS, nullCount: 0,
    child: A.makeData({ type: new A.Float32(), length: flat.length, nullCount: 0, data: flat }),
  });
  const id = A.makeData({ type: new A.Int32(), length: ROWS, nullCount: 0, data: ids });
  return new A.Table({ id: A.makeVector(id), vector: A.makeVector(vector) });
}

function buildFlechette(): F.Table {
  const f32 = F.float32();
  const fsl = F.fixedSizeList(f32, DIM);
  const Item = F.batchType(f32);
  const List = F.batchType(fsl);
  const child = new Item({ length: flat.length, nullCount: 0, type: f32, validity: new Uint8Array(0), values: flat });
  const vector = new F.Column([new List({ length: ROWS, nullCount: 0, type: fsl, validity: new Uint8Array(0), children: [child] })]);
  return F.tableFromColumns({ id: F.columnFromArray(ids), vector });
}

const vectorValues = (t: { getChild(name: string): unknown }): Float32Array =>
  ((t.getChild("vector") as { data: { children: { values: Float32Array }[] }[] }).data[0]!.children[0]!.values);

async function main(): Promise<void> {
  const sizes = {
    apacheUsed: await bundleGzip(`export { makeData, makeVector, Table, RecordBatch, Schema, Field, Struct, Bool, Int, Float, Utf8, TimestampMillisecond, List, FixedSizeList, Int8, Uint8, Uint64, Float16, Float32, Precision, Type, tableFromIPC, tableToIPC } from "apache-arrow";`),
    apacheAll: await bundleGzip(`export * from "apache-arrow";`),
    flechetteUsed: await bundleGzip(`export { tableFromColumns, columnFromArray, Column, batchType, field, bool, int8, int32, int64, uint8, uint64, float16, float32, float64, utf8, timestamp, list, fixedSizeList, tableFromIPC, tableToIPC } from "@uwdata/flechette";`),
    flechetteAll: await bundleGzip(`export * from "@uwdata/flechette";`),
  };

  const apacheBuild = time(buildApache);
  const flechetteBuild = time(buildFlechette);
  const apacheTable = buildApache();
  const flechetteTable = buildFlechette();
  const apacheEncode = time(() => A.tableToIPC(apacheTable, "stream"));
  const flechetteEncode = time(() => F.tableToIPC(flechetteTable, { format: "stream" }));
  const apacheBytes = A.tableToIPC(apacheTable, "stream");
  const flechetteBytes = F.tableToIPC(flechetteTable, { format: "stream" })!;
  const apacheDecode = time(() => vectorValues(A.tableFromIPC(apacheBytes)).length);
  const flechetteDecode = time(() => vectorValues(F.tableFromIPC(flechetteBytes)).length);
  // Each reads the other's bytes: the formats agree.
  const crossOk = vectorValues(F.tableFromIPC(apacheBytes))[12345] === flat[12345] && vectorValues(A.tableFromIPC(flechetteBytes))[12345] === flat[12345];

  const intoQuiverApache = await timeAsync(() => arrowToColumns(apacheTable));
  const intoQuiverFlechette = await timeAsync(() => arrowToColumns(flechetteTable));
  const batch = await arrowToColumns(apacheTable);
  const a = await loadArrow();
  const outOfQuiver = time(() => arrowBatch(a, { fields: [{ name: "id", type: DataTypes.int32(), nullable: false }, { name: "vector", type: DataTypes.vector(DIM), nullable: true }] }, batch.columns, ROWS));

  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`Arrow libraries, ${ROWS.toLocaleString("en")} × ${DIM} float32 (+ int32 id), Node ${process.version}, median of ${REPEAT}`);
  console.log("| | apache-arrow 18.1.0 | @uwdata/flechette 2.6.0 |");
  console.log("|---|---|---|");
  console.log(`| gzip, exports Quiver uses + IPC | ${kb(sizes.apacheUsed.gzip)} (${kb(sizes.apacheUsed.min)} min) | ${kb(sizes.flechetteUsed.gzip)} (${kb(sizes.flechetteUsed.min)} min) |`);
  console.log(`| gzip, whole library | ${kb(sizes.apacheAll.gzip)} | ${kb(sizes.flechetteAll.gzip)} |`);
  console.log(`| build table from typed arrays | ${ms(apacheBuild)} | ${ms(flechetteBuild)} |`);
  console.log(`| encode IPC stream (${(apacheBytes.length / 2 ** 20).toFixed(1)} MiB) | ${ms(apacheEncode)} | ${ms(flechetteEncode)} |`);
  console.log(`| decode IPC → flat vector buffer | ${ms(apacheDecode)} | ${ms(flechetteDecode)} |`);
  console.log(`| Arrow → Quiver columns (src/arrow) | ${ms(intoQuiverApache)} | ${ms(intoQuiverFlechette)} |`);
  console.log(`Quiver columns → apache-arrow RecordBatch: ${ms(outOfQuiver)}; IPC bytes read across libraries: ${crossOk ? "yes" : "NO"}`);
}

await main();
