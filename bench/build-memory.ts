/**
 * An IVF index build's memory, in Node: createIndex over a table bench/scale-node.ts made (its
 * `--dir`, fragments of 50,000 rows), with the connection's WebAssembly memory (reserved: what the
 * memory grew to, which it never gives back; allocated: what the heap hands out now) and the
 * process's RSS and ArrayBuffer bytes sampled at every progress report and every 20 ms. Memory
 * counts do not depend on the machine's load, unlike timings.
 *
 *   npx tsx bench/scale-node.ts --dir /tmp/t --rows 200000 --queries 10     # once: the table
 *   node --expose-gc --import tsx bench/build-memory.ts --dir /tmp/t [--bits 4|8] [--workers 2] [--subvectors 96] [--sample-rate 16]
 *
 * Prints one JSON line: peaks over the build, the index's resident bytes at the end, and the
 * index file's digest (byte-identical builds print the same); then, per build phase, the peaks
 * within it and (with --expose-gc) the ArrayBuffer bytes still live when it began — a phase's
 * peak above that is mostly what the collector had not yet freed.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { round } from "./report.js";

const args = process.argv.slice(2);
const str = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const DIR = str("dir", "/tmp/quiver-scale-node-spectrum-200000");
const BITS = Number(str("bits", "8")) as 4 | 8;
const WORKERS = Number(str("workers", "1"));
const SUB_VECTORS = Number(str("subvectors", BITS === 4 ? "192" : "96"));
/** k-means rows per partition; default: the sample capped at 64 MiB. A small one leaves the partitions' growth in view. */
const SAMPLE_RATE = args.includes("--sample-rate") ? Number(str("sample-rate", "256")) : undefined;

const { connect, Index } = await import("../src/index.js");
const { startTsWorker } = await import("../test/unit/worker-harness.js");
const poolWorker = new URL("../src/pool/pool-node-worker.ts", import.meta.url).href;
const db = await connect(DIR, WORKERS > 1 ? { workers: WORKERS, createScanWorker: () => startTsWorker(poolWorker) } : {});
const table = await db.openTable("vectors");
const rows = await table.countRows();
const mib = (b: number): number => round(b / 2 ** 20, 1);
const peak = { wasmReserved: 0, wasmAllocated: 0, rss: 0, arrayBuffers: 0 };
/** WebAssembly memory when the encoding began (the trained centroids and codebook, the freed samples' room). */
let encodeStart = -1;
/** Per phase: ArrayBuffer bytes live at its start (after a gc), and its peaks. */
const phases = new Map<string, { liveAtStart: number; arrayBuffers: number; wasmAllocated: number; rss: number }>();
let phase = "start";
const sample = (progress?: { phase: string }): void => {
  if (progress !== undefined && progress.phase !== phase) {
    phase = progress.phase;
    (globalThis as { gc?: () => void }).gc?.();
    phases.set(phase, { liveAtStart: process.memoryUsage().arrayBuffers, arrayBuffers: 0, wasmAllocated: 0, rss: 0 });
  }
  if (progress?.phase === "encode" && encodeStart < 0) encodeStart = db.memoryStats().wasm.reservedBytes;
  const w = db.memoryStats().wasm;
  const p = process.memoryUsage();
  peak.wasmReserved = Math.max(peak.wasmReserved, w.reservedBytes);
  peak.wasmAllocated = Math.max(peak.wasmAllocated, w.allocatedBytes);
  peak.rss = Math.max(peak.rss, p.rss);
  peak.arrayBuffers = Math.max(peak.arrayBuffers, p.arrayBuffers);
  const now = phases.get(phase);
  if (now !== undefined) {
    now.arrayBuffers = Math.max(now.arrayBuffers, p.arrayBuffers);
    now.wasmAllocated = Math.max(now.wasmAllocated, w.allocatedBytes);
    now.rss = Math.max(now.rss, p.rss);
  }
};
(globalThis as { gc?: () => void }).gc?.();
sample();
const before = { ...peak };
const timer = setInterval(sample, 20);
const t = performance.now();
await table.createIndex("vector", {
  config: Index.ivfPq({ numPartitions: Math.round(Math.sqrt(rows)), numSubVectors: SUB_VECTORS, numBits: BITS, maxIterations: 10, distanceType: "cosine", sampleRate: SAMPLE_RATE }),
  workers: WORKERS,
  progress: (p) => sample(p),
});
clearInterval(timer);
sample();
const after = db.memoryStats();
const stats = await table.indexStats("vector_idx");
// The newest index file's digest: builds that must be byte-identical print the same one.
const indices = join(DIR, "vectors.quiver", "_indices");
const newest = readdirSync(indices).map((f) => join(indices, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
const sha256 = createHash("sha256").update(readFileSync(newest)).digest("hex").slice(0, 16);
console.log(JSON.stringify({
  rows, bits: BITS, subVectors: SUB_VECTORS, workers: WORKERS, sampleRate: SAMPLE_RATE ?? "default", build_s: round((performance.now() - t) / 1000, 1),
  wasm_reserved_before_mib: mib(before.wasmReserved), wasm_reserved_peak_mib: mib(peak.wasmReserved), wasm_allocated_peak_mib: mib(peak.wasmAllocated),
  rss_peak_mib: mib(peak.rss), array_buffers_peak_mib: mib(peak.arrayBuffers),
  wasm_reserved_at_encode_mib: mib(encodeStart), wasm_reserved_end_mib: mib(after.wasm.reservedBytes), index_resident_mib: mib(after.cache.byKind.vectorIndex.bytes),
  index_file_mib: mib(stats?.sizeBytes ?? 0), index_sha256: sha256,
}));
for (const [name, p] of phases) {
  console.log(`${name.padEnd(10)} ArrayBuffers live at start ${mib(p.liveAtStart)} MiB, peak ${mib(p.arrayBuffers)}; WebAssembly allocated peak ${mib(p.wasmAllocated)} MiB; RSS peak ${mib(p.rss)} MiB`);
}
await db.close();
