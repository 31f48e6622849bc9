/**
 * Index builds on several threads (src/kernels/parallel.ts through the scan pool's `runRows`):
 * k-means assignment, PQ/SQ encoding and partition assignment split their rows across workers over
 * shared WebAssembly memory, and the result must be the single-thread one bit for bit — the same
 * centroids, the same codes, the same index file — on GloVe, also when one worker is stalled.
 */
import type { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasData, loadGlove, seededRandom } from "../../bench/datasets.js";
import { buildIndex } from "../../src/ann/index.js";
import { kmeans } from "../../src/ann/kmeans.js";
import { ProductQuantizer } from "../../src/ann/pq.js";
import { ScalarQuantizer } from "../../src/ann/sq.js";
import { connect, Index } from "../../src/index.js";
import { isQuiverError } from "../../src/errors.js";
import { createScanPool, type ScanPool } from "../../src/pool/pool.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { startTsWorker } from "./worker-harness.js";

const poolWorker = new URL("../../src/pool/pool-node-worker.ts", import.meta.url).href;
const stalledWorker = new URL("./fixtures/stalled-pool-worker.ts", import.meta.url).href;
const createWorker = (): Worker => startTsWorker(poolWorker);

const glove = hasData("glove-100d-100k", "glove100k_base.fvecs") ? loadGlove("l2") : undefined;

/** The first n GloVe rows (real data), or seeded clustered values where the data set is absent. */
function rows(n: number): { data: Float32Array; dim: number } {
  if (glove) return { data: glove.base.data.slice(0, n * glove.base.dim), dim: glove.base.dim };
  const rand = seededRandom(5);
  const dim = 100;
  return { data: Float32Array.from({ length: n * dim }, (_, i) => Math.floor(i / dim) % 37 + rand()), dim };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

describe("row-parallel builds over shared memory (2 workers)", () => {
  let pool: ScanPool;

  beforeAll(async () => {
    pool = await createScanPool({ workers: 2, transport: "shared", createWorker });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it("k-means: the same centroids and assignment, whole rows and one PQ sub-space", async () => {
    const { data, dim } = rows(12_000);
    const block = pool.kernels.upload(data, dim);
    try {
      for (const columns of [undefined, { offset: 8, width: 4 }]) {
        const options = { k: 64, metric: "l2" as const, maxIterations: 6, seed: 3, columns };
        const serial = await kmeans(pool.kernels, block, dim, options);
        const before = pool.chunksByWorker;
        // Row tasks handed to the pool, by kernel: [calls, ranges].
        const given = new Map<string, [number, number]>();
        const threads = pool.rowParallel();
        const runRows = threads.runRows;
        threads.runRows = (task, count) => {
          const [calls, ranges] = given.get(task.kernel) ?? [0, 0];
          given.set(task.kernel, [calls + 1, ranges + count]);
          return runRows(task, count);
        };
        // Seeding runs on the threads too (by default only for large runs).
        const parallel = await kmeans(pool.kernels, block, dim, { ...options, parallel: threads, seedOnThreadsFrom: 0 });
        expect(parallel.iterations).toBe(serial.iterations);
        expect(bytesEqual(new Uint8Array(parallel.centroids.buffer), new Uint8Array(serial.centroids.buffer))).toBe(true);
        expect(Array.from(parallel.assign)).toEqual(Array.from(serial.assign));
        // The whole seeding is one task — one request per worker, not one per centre — of 63
        // rounds (the centres after the first) over 12,000 / 512 blocks each.
        expect(given.get("kmeanspp_seed")).toEqual([1, 63 * Math.ceil(12_000 / 512)]);
        expect(given.get("kmeans_assign")![0]).toBe(parallel.iterations + 1);
        // Every iteration's rows went through the workers (several ranges per iteration), and every
        // seeding round's blocks. A task completes once its last range does; the worker that did
        // not run it may reply (with the ranges it claimed) a moment later, so its count may lag.
        const least = parallel.iterations * 8 + 63 * 24;
        const counted = () => pool.chunksByWorker.reduce((s, c, w) => s + c - before[w]!, 0);
        for (let wait = 0; wait < 100 && counted() < least; wait++) await new Promise((r) => setTimeout(r, 10));
        expect(counted()).toBeGreaterThanOrEqual(least);
      }
    } finally {
      block.free();
    }
  });

  it("PQ and SQ codes are the same bytes", async () => {
    const { data, dim } = rows(9_000);
    const pq = await ProductQuantizer.train(pool.kernels, data.subarray(0, 3000 * dim), dim, { numSubVectors: 25, maxIterations: 4 });
    expect(bytesEqual(await pq.encodeOn(pool.kernels, data, pool.rowParallel()), pq.encode(pool.kernels, data))).toBe(true);
    const sq = ScalarQuantizer.train(pool.kernels, data, dim);
    const a = await sq.encodeOn(pool.kernels, data, pool.rowParallel());
    const b = sq.encode(pool.kernels, data);
    expect(bytesEqual(new Uint8Array(a.buffer), new Uint8Array(b.buffer))).toBe(true);
  });

  for (const kind of ["IVF_PQ", "IVF_SQ", "IVF_FLAT"] as const) {
    for (const distanceType of ["l2", "cosine"] as const) {
      it(`${kind} ${distanceType}: the index file is the single-thread one, byte for byte, with progress reported`, async () => {
        const { data, dim } = rows(15_000);
        const options = { numPartitions: 40, numSubVectors: 20, maxIterations: 5, distanceType, sampleRate: 64 };
        const serial = await buildIndex(pool.kernels, kind, data, dim, undefined, options);
        const phases = new Set<string>();
        const parallel = await buildIndex(pool.kernels, kind, data, dim, undefined, { ...options, parallel: pool.rowParallel(), progress: (p) => phases.add(p.phase) });
        try {
          expect(bytesEqual(await parallel.serialize(), await serial.serialize())).toBe(true);
          expect(phases.has("kmeans") && phases.has("encode")).toBe(true);
        } finally {
          serial.free();
          parallel.free();
        }
      });
    }
  }

  for (const distanceType of ["cosine", "l2"] as const) {
    it(`HNSW ${distanceType} (m 16, efConstruction 100): batched parallel insertion keeps recall@10 within 0.01 of the serial graph`, async () => {
      const n = 12_000;
      const { data, dim } = rows(n);
      const nq = 200;
      const queries = glove ? glove.queries.data.slice(0, nq * dim) : data.slice(0, nq * dim).map((v) => v + 0.25);
      const exact = pool.kernels.upload(data, dim);
      const truth = pool.kernels.searchBatch(distanceType, queries, [{ block: exact }], dim, 10).map((r) => new Set(r.row));
      exact.free();
      const options = { m: 16, efConstruction: 100, distanceType };
      const serial = await buildIndex(pool.kernels, "HNSW", data, dim, undefined, options);
      const before = pool.chunksByWorker;
      const inserted: number[] = [];
      const parallel = await buildIndex(pool.kernels, "HNSW", data, dim, undefined, { ...options, parallel: pool.rowParallel(), progress: (p) => inserted.push(p.done) });
      try {
        const after = pool.chunksByWorker;
        // Most insertions ran in the workers (after the first PARALLEL_FROM serial ones).
        expect(after[0]! + after[1]! - before[0]! - before[1]!).toBeGreaterThan(n / 16);
        expect(inserted.at(-1)).toBe(n);
        const recall = async (index: typeof serial) => {
          let hit = 0;
          for (let q = 0; q < nq; q++) {
            const found = await index.search(queries.subarray(q * dim, (q + 1) * dim), 10, { ef: 24 });
            for (const r of found.rows) if (truth[q]!.has(r)) hit++;
          }
          return hit / (nq * 10);
        };
        const [a, b] = [await recall(serial), await recall(parallel)];
        expect(a).toBeGreaterThan(0.8);
        expect(Math.abs(a - b)).toBeLessThanOrEqual(0.01);
      } finally {
        serial.free();
        parallel.free();
      }
    });
  }

  it("HNSW: the graph is the same bytes on 1 and 2 workers; past the serial prefix every insertion, upper layers included, runs in the workers", async () => {
    const n = 9_000;
    const { data, dim } = rows(n);
    const options = { m: 12, efConstruction: 60, distanceType: "cosine" as const, seed: 7 };
    const built: Uint8Array[] = [];
    for (const workers of [1, 2]) {
      const before = pool.chunksByWorker;
      // What the workers were given, by kernel: rows, and back-link lists on the upper layers.
      const given = new Map<string, number>();
      let upperLists = 0;
      const parallel = pool.rowParallel(workers);
      const runRows = parallel.runRows;
      parallel.runRows = (task, count) => {
        given.set(task.kernel, (given.get(task.kernel) ?? 0) + count);
        if (task.kernel === "hnsw_backlink") {
          const table = pool.kernels.heap.i32(task.targets, count * 4);
          for (let r = 0; r < count; r++) if (table[r * 4 + 1]! > 0) upperLists++;
        }
        return runRows(task, count);
      };
      const index = await buildIndex(pool.kernels, "HNSW", data, dim, undefined, { ...options, parallel });
      try {
        built.push(await index.serialize());
        // Every node after the first 1,024 (PARALLEL_FROM) was inserted by a worker, and the upper
        // layers' back links went there too (about 1/m of the nodes have upper layers).
        expect(given.get("hnsw_link")).toBe(n - 1024);
        expect(upperLists).toBeGreaterThan((n - 1024) / 12 / 2);
        expect(given.get("hnsw_backlink")).toBeGreaterThan(upperLists);
        const after = pool.chunksByWorker;
        // Either worker may have taken most of the ranges (the machine is shared), and worker 1's
        // count may still take in a late reply to the test before: the two are counted together.
        expect(after[0]! + after[1]! - before[0]! - before[1]!).toBeGreaterThan(n / 64);
      } finally {
        index.free();
      }
    }
    expect(bytesEqual(built[0]!, built[1]!)).toBe(true);
  });

  it("runRows rejects bad input with a typed error", async () => {
    const error = await pool.runRows({ kernel: "sq_encode", x: 0, dim: 4, offset: 0, invScale: 0, codes: 0 }, -1).then(() => undefined, (e: unknown) => e);
    expect(isQuiverError(error, "INVALID_ARGUMENT")).toBe(true);
  });
});

describe("builds over message passing (2 workers, no shared memory)", () => {
  let pool: ScanPool;

  beforeAll(async () => {
    pool = await createScanPool({ workers: 2, transport: "message", createWorker });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it("k-means: the same centroids and assignment; rows sent once, then only centroids per iteration", async () => {
    const { data, dim } = rows(12_000);
    const block = pool.kernels.upload(data, dim);
    try {
      for (const columns of [undefined, { offset: 8, width: 4 }]) {
        const width = columns?.width ?? dim;
        const options = { k: 64, metric: "l2" as const, maxIterations: 6, seed: 3, columns };
        const serial = await kmeans(pool.kernels, block, dim, options);
        const before = pool.buildTraffic;
        const counted = pool.chunksByWorker;
        const parallel = await kmeans(pool.kernels, block, dim, { ...options, parallel: pool.rowParallel() });
        expect(parallel.iterations).toBe(serial.iterations);
        expect(bytesEqual(new Uint8Array(parallel.centroids.buffer), new Uint8Array(serial.centroids.buffer))).toBe(true);
        expect(Array.from(parallel.assign)).toEqual(Array.from(serial.assign));
        const after = pool.buildTraffic;
        const steps = parallel.iterations + 1; // the assignment after seeding, then one per iteration
        // The rows crossed once (whole rows: a sub-space run holds them all), split over both workers…
        expect(after.rowBytes - before.rowBytes).toBe(data.byteLength);
        // …and each step sent each worker the centroids alone, and got its part's assignments back.
        expect(after.inputBytes - before.inputBytes).toBe(steps * 2 * 64 * width * 4);
        expect(after.outputBytes - before.outputBytes).toBe(steps * 12_000 * 8);
        expect(after.requests - before.requests).toBe(2 + steps * 2);
        const done = pool.chunksByWorker.map((c, w) => c - counted[w]!);
        expect(done).toEqual([steps, steps]);
      }
    } finally {
      block.free();
    }
  });

  it("PQ and SQ codes are the same bytes; PQ sub-spaces train as whole runs on the workers, the odd one split", async () => {
    const { data, dim } = rows(9_000);
    const sample = data.subarray(0, 3000 * dim);
    const serialPq = await ProductQuantizer.train(pool.kernels, sample, dim, { numSubVectors: 25, maxIterations: 4 });
    const threads = pool.rowParallel();
    const given = { runs: 0, holds: 0 };
    const { kmeansRuns, hold } = threads;
    threads.kmeansRuns = (runs, done) => {
      given.runs += runs.length;
      return kmeansRuns(runs, done);
    };
    threads.hold = (rows, d) => {
      given.holds++;
      return hold(rows, d);
    };
    const before = pool.chunksByWorker;
    const reported: number[] = [];
    const pq = await ProductQuantizer.train(pool.kernels, sample, dim, { numSubVectors: 25, maxIterations: 4, parallel: threads, progress: (done) => reported.push(done) });
    // 24 whole runs, 12 a worker; the 25th would have kept one worker busy alone, so its rows were
    // held by both and each of its assignment steps split: at most 5 steps (4 iterations) × 2 parts.
    expect(given).toEqual({ runs: 24, holds: 1 });
    const answered = pool.chunksByWorker.reduce((s, c, w) => s + c - before[w]!, 0);
    expect(answered).toBeGreaterThan(24);
    expect(answered).toBeLessThanOrEqual(24 + 5 * 2);
    expect(reported).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(bytesEqual(new Uint8Array(pq.codebook.buffer), new Uint8Array(serialPq.codebook.buffer))).toBe(true);
    expect(bytesEqual(await pq.encodeOn(pool.kernels, data, pool.rowParallel()), pq.encode(pool.kernels, data))).toBe(true);
    const sq = ScalarQuantizer.train(pool.kernels, data, dim);
    const a = await sq.encodeOn(pool.kernels, data, pool.rowParallel());
    const b = sq.encode(pool.kernels, data);
    expect(bytesEqual(new Uint8Array(a.buffer), new Uint8Array(b.buffer))).toBe(true);
  });

  for (const kind of ["IVF_PQ", "IVF_SQ", "IVF_FLAT"] as const) {
    for (const distanceType of ["l2", "cosine"] as const) {
      it(`${kind} ${distanceType}: the index file is the single-thread one, byte for byte, with progress reported`, async () => {
        const { data, dim } = rows(15_000);
        const options = { numPartitions: 40, numSubVectors: 20, maxIterations: 5, distanceType, sampleRate: 64 };
        const serial = await buildIndex(pool.kernels, kind, data, dim, undefined, options);
        const phases = new Set<string>();
        const before = pool.chunksByWorker;
        const sent = pool.buildTraffic.rowBytes;
        const parallel = await buildIndex(pool.kernels, kind, data, dim, undefined, { ...options, parallel: pool.rowParallel(), progress: (p) => phases.add(p.phase) });
        try {
          expect(bytesEqual(await parallel.serialize(), await serial.serialize())).toBe(true);
          expect(phases.has("kmeans") && phases.has("encode")).toBe(true);
          // Both workers took part.
          expect(pool.chunksByWorker.every((c, w) => c > before[w]!)).toBe(true);
          // Rows crossed once per use: the k-means sample (40 × 64 rows) for all its iterations, and
          // every row once for both its partition and its code — IVF_PQ's residuals are formed in
          // the workers from those rows — plus, for IVF_PQ, the PQ sample (64 × 64 rows), assigned
          // to partitions before its residuals train the codebook.
          expect(pool.buildTraffic.rowBytes - sent).toBe((40 * 64 + 15_000 + (kind === "IVF_PQ" ? 64 * 64 : 0)) * dim * 4);
        } finally {
          serial.free();
          parallel.free();
        }
      });
    }
  }

  it("HNSW builds on this thread without shared memory: the serial graph, and no build traffic", async () => {
    const { data, dim } = rows(4_000);
    const options = { m: 8, efConstruction: 40 };
    const serial = await buildIndex(pool.kernels, "HNSW", data, dim, undefined, options);
    const before = pool.buildTraffic.requests;
    const pooled = await buildIndex(pool.kernels, "HNSW", data, dim, undefined, { ...options, parallel: pool.rowParallel() });
    try {
      expect(pool.buildTraffic.requests).toBe(before);
      expect(bytesEqual(await pooled.serialize(), await serial.serialize())).toBe(true);
    } finally {
      serial.free();
      pooled.free();
    }
  });

  it("hold rejects rows that are not whole rows with a typed error", async () => {
    const error = await pool.rowParallel().hold(new Float32Array(10), 3).then(() => undefined, (e: unknown) => e);
    expect(isQuiverError(error, "DIMENSION_MISMATCH")).toBe(true);
  });
});

describe("a stalled worker leaves its rows to the other", () => {
  it("the build completes on worker 0 with the same bytes while worker 1 holds its request", async () => {
    let stalled: Worker | undefined;
    let started = 0;
    const pool = await createScanPool({
      workers: 2, transport: "shared",
      createWorker: () => (started++ === 1 ? (stalled = startTsWorker(stalledWorker)) : createWorker()),
    });
    try {
      const { data, dim } = rows(8_000);
      const options = { numPartitions: 30, numSubVectors: 25, maxIterations: 4, sampleRate: 64 };
      const serial = await buildIndex(pool.kernels, "IVF_PQ", data, dim, undefined, options);
      const parallel = await buildIndex(pool.kernels, "IVF_PQ", data, dim, undefined, { ...options, parallel: pool.rowParallel() });
      expect(bytesEqual(await parallel.serialize(), await serial.serialize())).toBe(true);
      expect(pool.chunksByWorker[1]).toBe(0);
      expect(pool.chunksByWorker[0]).toBeGreaterThan(0);
      serial.free();
      parallel.free();
      stalled!.postMessage({ type: "release" });
    } finally {
      await pool.close();
    }
  });

  it("message passing has no shared memory: runRows answers UNSUPPORTED", async () => {
    const pool = await createScanPool({ workers: 1, transport: "message", createWorker });
    const error = await pool.runRows({ kernel: "sq_encode", x: 0, dim: 4, offset: 0, invScale: 0, codes: 0 }, 10).then(() => undefined, (e: unknown) => e);
    expect(isQuiverError(error, "UNSUPPORTED")).toBe(true);
    await pool.close();
  });
});

describe("table.createIndex({ workers })", () => {
  const createScanWorker = createWorker;

  it("over message passing: the index file is a one-thread build's, and the workers did the rows", async () => {
    const { data, dim } = rows(6_000);
    const records = Array.from({ length: 6_000 }, (_, i) => ({ id: i, vector: data.subarray(i * dim, (i + 1) * dim) }));
    const files = new Map<string, Uint8Array>();
    const stores = { pooled: new MemoryStore(), single: new MemoryStore() };
    const pooled = await connect(stores.pooled, { workers: 2, scanTransport: "message", createScanWorker });
    const single = await connect(stores.single);
    try {
      const config = Index.ivfPq({ numPartitions: 24, numSubVectors: 20, maxIterations: 5 });
      for (const [name, db] of [["pooled", pooled], ["single", single]] as const) {
        const t = await db.createTable("t", records);
        const phases: string[] = [];
        await t.createIndex("vector", { config, progress: (p) => phases.push(p.phase) });
        expect(phases).toContain("train-pq");
        const [file] = await stores[name].list("t.quiver/_indices/");
        files.set(name, await stores[name].get(file!.key));
      }
      expect(bytesEqual(files.get("pooled")!, files.get("single")!)).toBe(true);
    } finally {
      await pooled.close();
      await single.close();
    }
  });

  it("builds on the connection's pool; the index answers exactly as a one-thread build's", async () => {
    const { data, dim } = rows(6_000);
    const records = Array.from({ length: 6_000 }, (_, i) => ({ id: i, vector: data.subarray(i * dim, (i + 1) * dim) }));
    const pooled = await connect("memory://", { workers: 2, createScanWorker });
    const single = await connect("memory://");
    try {
      const a = await pooled.createTable("t", records);
      const b = await single.createTable("t", records);
      const config = Index.ivfPq({ numPartitions: 24, numSubVectors: 20, maxIterations: 5 });
      const phases: string[] = [];
      await a.createIndex("vector", { config, workers: 2, progress: (p) => phases.push(p.phase) });
      await b.createIndex("vector", { config });
      expect(phases).toContain("kmeans");
      for (let q = 0; q < 5; q++) {
        const query = data.subarray((q * 997) * dim, (q * 997 + 1) * dim);
        const x = await a.search(query).nprobes(6).limit(10).select(["id"]).toArray();
        const y = await b.search(query).nprobes(6).limit(10).select(["id"]).toArray();
        expect(x).toEqual(y);
      }
      const code = (p: Promise<unknown>) => p.then(() => "resolved", (e: unknown) => (isQuiverError(e) ? e.code : String(e)));
      expect(await code(a.createIndex("vector", { config, workers: 0 }))).toBe("INVALID_ARGUMENT");
      expect(await code(b.createIndex("vector", { config, workers: 2 }))).toBe("INVALID_ARGUMENT");
      expect(await b.countRows()).toBe(6_000);
    } finally {
      await pooled.close();
      await single.close();
    }
  });
});
