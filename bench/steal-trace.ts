/**
 * `npx tsx bench/steal-trace.ts [--background-load] [--rows=N] [--queries=N]`: how the scan pool
 * splits a search and who ran what (ScanPoolOptions.onScan), with 2 workers over both transports,
 * single queries and batches of 32, on the synthetic 100K × 384 set (bench/exact.ts's generator)
 * and glove-100d-100k. Prints counts — chunks per search, chunks per worker, copies run and used,
 * scans per chunk — and the median dispatch, tail (answer after the last chunk's first start) and
 * answer times. Counts are the evidence; times are noisy on a shared machine.
 */
import { spawn } from "node:child_process";
import type { ScanReport, ScanTransport } from "../src/pool/pool.js";
import { startTsWorker } from "../test/unit/worker-harness.js";
import { loadGlove, syntheticClusters } from "./datasets.js";
import { median } from "./report.js";

const LOAD = process.argv.includes("--background-load");
const ROWS = Number(process.argv.find((a) => a.startsWith("--rows="))?.slice(7) ?? 100_000);
const QUERIES = Number(process.argv.find((a) => a.startsWith("--queries="))?.slice(10) ?? 64);
const poolWorker = new URL("../src/pool/pool-node-worker.ts", import.meta.url).href;

const { createScanPool } = await import("../src/pool/pool.js");
const s = syntheticClusters({ n: ROWS, dim: 384, queries: QUERIES, clusters: 100, spread: 0.5, seed: 42 });
const g = loadGlove("cosine");
const gn = Math.min(g.base.n, ROWS);
const sets = [
  { name: "synthetic 384-d", dim: 384, base: s.base.data, queries: s.queries.data },
  { name: "glove 100-d", dim: 100, base: g.base.data.subarray(0, gn * 100), queries: g.queries.data.subarray(0, QUERIES * 100) },
];
const load = LOAD ? spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }) : undefined;
process.once("exit", () => load?.kill());
const fmt = (x: number) => x.toFixed(2);
try {
  for (const transport of ["shared", "message"] as ScanTransport[]) {
    const reports: ScanReport[] = [];
    const pool = await createScanPool({ workers: 2, transport, flavor: "simd", createWorker: () => startTsWorker(poolWorker), onScan: (r) => reports.push(r) });
    for (const set of sets) {
      const block = pool.kernels.upload(set.base, set.dim);
      const nq = set.queries.length / set.dim;
      for (const batch of [1, 32]) {
        // Warm-up: every worker holds the block (message passing copies it on first use) and has
        // answered, so no worker starts the measured searches behind.
        reports.length = 0;
        await pool.searchBatch("cosine", set.queries.subarray(0, batch * set.dim), [{ block }], set.dim, 10);
        while (reports.length === 0) await new Promise((r) => setTimeout(r, 10));
        const inThread: number[] = [];
        reports.length = 0;
        for (let q = 0; q + batch <= nq; q += batch) {
          const qs = set.queries.subarray(q * set.dim, (q + batch) * set.dim);
          const t = performance.now();
          pool.kernels.searchBatch("cosine", qs, [{ block }], set.dim, 10);
          inThread.push(performance.now() - t);
          await pool.searchBatch("cosine", qs, [{ block }], set.dim, 10);
        }
        while (reports.length < Math.floor(nq / batch)) await new Promise((r) => setTimeout(r, 10)); // late workers' reports
        const byWorker = [0, 0];
        let copies = 0, copiesUsed = 0, scans = 0;
        const chunkMs: number[] = [];
        for (const r of reports) {
          for (const x of r.scans) {
            scans++;
            chunkMs.push(x.end - x.start);
            if (x.used) byWorker[x.worker]!++;
            if (x.copy) { copies++; if (x.used) copiesUsed++; }
          }
        }
        const n = reports.length;
        console.log(
          `${transport} · ${set.name} · batch ${batch}: ${n} searches, ${fmt(reports.reduce((a, r) => a + r.chunks, 0) / n)} chunks/search, ` +
          `used chunks by worker [${byWorker.join(", ")}], scans ${scans}, copies ${copies} (used ${copiesUsed}); ` +
          `median ms: chunk ${fmt(median(chunkMs))}, dispatch ${fmt(median(reports.map((r) => r.dispatchMs)))}, tail ${fmt(median(reports.map((r) => r.tailMs)))}, ` +
          `answer ${fmt(median(reports.map((r) => r.answeredMs)))} (p90 tail ${fmt(reports.map((r) => r.tailMs).sort((a, b) => a - b)[Math.floor(n * 0.9)]!)}), in-thread ${fmt(median(inThread))}`,
        );
      }
      pool.release(block);
      block.free();
    }
    await pool.close();
  }
} finally {
  load?.kill();
}
