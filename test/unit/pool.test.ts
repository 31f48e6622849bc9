/**
 * The scan pool (src/pool/pool.ts) in Node worker_threads with 2 workers, over both transports:
 * every result must equal the single-thread `Kernels.searchBatch` exactly — rows, targets, float
 * distances and the order of ties — on random data, on data full of ties, and on GloVe.
 */
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasData, loadGlove, seededRandom } from "../../bench/datasets.js";
import { isQuiverError } from "../../src/errors.js";
import { loadKernels, type Kernels, type Metric, type SearchResult, type SearchTarget } from "../../src/kernels/index.js";
import { CHUNK_ELEMENTS, planScan } from "../../src/pool/chunks.js";
import { createScanPool, type ScanPool, type ScanReport, type ScanTransport } from "../../src/pool/pool.js";
import { startTsWorker } from "./worker-harness.js";

const poolWorker = new URL("../../src/pool/pool-node-worker.ts", import.meta.url).href;
const createWorker = (): Worker => startTsWorker(poolWorker);
const stalledWorker = new URL("./fixtures/stalled-pool-worker.ts", import.meta.url).href;
const midChunkWorker = new URL("./fixtures/mid-chunk-pool-worker.ts", import.meta.url).href;

function plain(results: SearchResult[]): { target: number[]; row: number[]; distance: number[] }[] {
  return results.map((r) => ({ target: Array.from(r.target), row: Array.from(r.row), distance: Array.from(r.distance) }));
}

function randomF32(n: number, rand: () => number, levels = 0): Float32Array {
  // levels > 0: values from a few integers, so many rows are equal and distances tie.
  return Float32Array.from({ length: n }, () => (levels > 0 ? Math.floor(rand() * levels) - levels / 2 : rand() * 2 - 1));
}

function randomIds(count: number, rows: number, rand: () => number): Int32Array {
  return Int32Array.from({ length: count }, () => Math.floor(rand() * rows));
}

for (const transport of ["shared", "message"] as const satisfies readonly ScanTransport[]) {
  describe(`scan pool, ${transport} transport, 2 workers`, () => {
    let pool: ScanPool;
    let kernels: Kernels;

    const reports: ScanReport[] = [];

    beforeAll(async () => {
      // Small chunks, so these small searches are cut into many (query groups × row ranges).
      pool = await createScanPool({ workers: 2, transport, flavor: "simd", createWorker, chunkElements: 20_000, onScan: (r) => reports.push(r) });
      kernels = pool.kernels;
    });
    afterAll(async () => {
      await pool?.close();
    });

    it("reports its transport and size", () => {
      expect(pool.transport).toBe(transport);
      expect(pool.size).toBe(2);
      expect(kernels.flavor).toBe("simd");
    });

    const cases: { name: string; levels: number }[] = [
      { name: "random data", levels: 0 },
      { name: "data full of ties", levels: 3 },
    ];
    for (const { name, levels } of cases) {
      for (const metric of ["l2", "cosine", "dot"] as const satisfies readonly Metric[]) {
        it(`${metric} on ${name}: whole blocks, prefiltered ids, ranges, k > rows`, async () => {
          const rand = seededRandom(levels * 10 + metric.length);
          const dim = 17;
          const a = kernels.upload(randomF32(1500 * dim, rand, levels), dim);
          const b = kernels.upload(randomF32(700 * dim, rand, levels), dim);
          const c = kernels.upload(randomF32(3 * dim, rand, levels), dim);
          try {
            const queries = randomF32(11 * dim, rand, levels); // 11 queries: a group of 8 and a group of 3
            const targetSets: SearchTarget[][] = [
              [{ block: a }],
              [{ block: a }, { block: b }, { block: c }],
              [{ block: a, ids: randomIds(900, 1500, rand) }, { block: b }, { block: c, ids: new Int32Array(0) }, { block: a, ids: randomIds(40, 1500, rand) }],
              [{ block: b, ids: Int32Array.from({ length: 700 }, (_, i) => 699 - i) }],
            ];
            for (const targets of targetSets) {
              for (const k of [1, 10, 100, 5000]) {
                for (const range of [undefined, { lo: 0.1 }, { hi: metric === "l2" ? 30 : 0.9 }, { lo: -Infinity, hi: Infinity }]) {
                  const expected = kernels.searchBatch(metric, queries, targets, dim, k, range);
                  const actual = await pool.searchBatch(metric, queries, targets, dim, k, range);
                  expect(plain(actual)).toEqual(plain(expected));
                }
              }
              // One query takes the single-query kernels even on whole blocks.
              const q = queries.subarray(0, dim);
              expect(plain([await pool.search(metric, q, targets, dim, 7)])).toEqual(plain([kernels.search(metric, q, targets, dim, 7)]));
            }
            // 11 queries of 17-d over 2,203 rows: two query groups (8 + 3) × row ranges, all reported.
            const split = reports.find((r) => r.queries === 11 && r.rows === 2203)!;
            expect(split.groups).toBe(2);
            expect(split.chunks).toBeGreaterThan(2);
          } finally {
            for (const x of [a, b, c]) {
              pool.release(x);
              x.free();
            }
          }
        });
      }
    }

    it("int8 blocks (l2, cosine) and packed bits (hamming) match too", async () => {
      const rand = seededRandom(7);
      const dim = 24;
      const i8 = kernels.upload(Int8Array.from({ length: 2000 * dim }, () => Math.floor(rand() * 9) - 4), dim);
      const bits = kernels.upload(Uint8Array.from({ length: 2000 * dim }, () => Math.floor(rand() * 256)), dim);
      try {
        const qi8 = Int8Array.from({ length: 3 * dim }, () => Math.floor(rand() * 9) - 4);
        const qbits = Uint8Array.from({ length: 3 * dim }, () => Math.floor(rand() * 256));
        for (const metric of ["l2", "cosine"] as const) {
          const targets = [{ block: i8 }, { block: i8, ids: randomIds(500, 2000, rand) }];
          expect(plain(await pool.searchBatch(metric, qi8, targets, dim, 20))).toEqual(plain(kernels.searchBatch(metric, qi8, targets, dim, 20)));
        }
        const targets = [{ block: bits }];
        expect(plain(await pool.searchBatch("hamming", qbits, targets, dim, 20, { hi: 90 }))).toEqual(plain(kernels.searchBatch("hamming", qbits, targets, dim, 20, { hi: 90 })));
      } finally {
        i8.free();
        bits.free();
      }
    });

    it("small and empty searches: no targets, k = 0, a scan smaller than one worker's share", async () => {
      const rand = seededRandom(3);
      const block = kernels.upload(randomF32(5 * 4, rand), 4);
      const q = randomF32(2 * 4, rand);
      for (const [targets, k] of [[[], 5], [[{ block }], 0], [[{ block }], 3], [[{ block, ids: new Int32Array(0) }], 3]] as [SearchTarget[], number][]) {
        expect(plain(await pool.searchBatch("l2", q, targets, 4, k))).toEqual(plain(kernels.searchBatch("l2", q, targets, 4, k)));
      }
      expect(await pool.searchBatch("l2", new Float32Array(0), [{ block }], 4, 3)).toEqual([]);
      block.free();
    });

    it("concurrent searches on one pool each get their own answer", async () => {
      const rand = seededRandom(11);
      const dim = 32;
      const block = kernels.upload(randomF32(4000 * dim, rand), dim);
      const queries = Array.from({ length: 6 }, () => randomF32(dim, rand));
      const all = await Promise.all(queries.map((q, i) => pool.searchBatch(i % 2 ? "cosine" : "l2", q, [{ block }], dim, 10)));
      all.forEach((r, i) => expect(plain(r)).toEqual(plain(kernels.searchBatch(i % 2 ? "cosine" : "l2", queries[i]!, [{ block }], dim, 10))));
      block.free();
    });

    it("rejects what Kernels.searchBatch rejects, with the same codes", async () => {
      const block = kernels.upload(new Float32Array(8 * 4), 4);
      const other = await loadKernels({ flavor: "scalar" });
      const foreign = other.upload(new Float32Array(8), 4);
      const code = async (p: Promise<unknown>) => p.then(() => "resolved", (e: unknown) => (isQuiverError(e) ? e.code : String(e)));
      expect(await code(pool.searchBatch("l2", new Float32Array(3), [{ block }], 4, 1))).toBe("DIMENSION_MISMATCH");
      expect(await code(pool.searchBatch("l2", new Float32Array(8), [{ block }], 8, 1))).toBe("DIMENSION_MISMATCH");
      expect(await code(pool.searchBatch("hamming", new Float32Array(4), [{ block }], 4, 1))).toBe("INVALID_ARGUMENT");
      expect(await code(pool.searchBatch("l2", new Float32Array(4), [{ block, ids: Int32Array.of(8) }], 4, 1))).toBe("INVALID_ARGUMENT");
      expect(await code(pool.searchBatch("l2", new Float32Array(4), [{ block: foreign }], 4, 1))).toBe("INVALID_ARGUMENT");
      expect(await code(pool.searchBatch("l2", [NaN, 0, 0, 0], [{ block }], 4, 1))).toBe("INVALID_VECTOR");
      expect(await code(pool.searchBatch("l2", new Float32Array(4), [{ block }], 4, -1))).toBe("INVALID_ARGUMENT");
      foreign.free();
      block.free();
    });
  });
}

describe.skipIf(!hasData("glove-100d-100k", "glove100k_base.fvecs"))("scan pool on glove-100d-100k", () => {
  const glove = hasData("glove-100d-100k", "glove100k_base.fvecs") ? loadGlove("cosine") : undefined;

  for (const transport of ["shared", "message"] as const) {
    it(`${transport}: l2, cosine and dot over 100K × 100 equal the single-thread scan (batch, single, prefiltered)`, async () => {
      const { base, queries } = glove!;
      const dim = base.dim;
      const pool = await createScanPool({ workers: 2, transport, flavor: "simd", createWorker });
      const block = pool.kernels.upload(base.data, dim);
      try {
        const qs = queries.data.subarray(0, 20 * dim);
        const rand = seededRandom(5);
        const subset = Int32Array.from({ length: 30_000 }, () => Math.floor(rand() * base.n)).sort();
        for (const metric of ["l2", "cosine", "dot"] as const) {
          for (const targets of [[{ block }], [{ block, ids: subset }]]) {
            expect(plain(await pool.searchBatch(metric, qs, targets, dim, 10))).toEqual(plain(pool.kernels.searchBatch(metric, qs, targets, dim, 10)));
          }
          const q = qs.subarray(0, dim);
          expect(plain([await pool.search(metric, q, [{ block }], dim, 100)])).toEqual(plain([pool.kernels.search(metric, q, [{ block }], dim, 100)]));
        }
      } finally {
        block.free();
        await pool.close();
      }
    });
  }
});

describe("work stealing: a stalled worker does not stall the search", () => {
  for (const transport of ["shared", "message"] as const) {
    it(`${transport}: the other worker takes every chunk, the answer is the single-thread one, ties included`, async () => {
      let stalled: Worker | undefined;
      let started = 0;
      const pool = await createScanPool({
        workers: 2, transport, flavor: "simd", chunkElements: 50_000,
        createWorker: () => (started++ === 1 ? (stalled = startTsWorker(stalledWorker)) : createWorker()),
      });
      try {
        const rand = seededRandom(21);
        const dim = 16;
        const rows = 20_000;
        const block = pool.kernels.upload(randomF32(rows * dim, rand, 4), dim);
        const ids = randomIds(9000, rows, rand);
        const queries = randomF32(5 * dim, rand, 4);
        for (const [metric, targets] of [["l2", [{ block }]], ["cosine", [{ block }, { block, ids }]], ["dot", [{ block, ids }]]] as [Metric, SearchTarget[]][]) {
          const before = pool.chunksByWorker;
          // Resolves while worker 1 still holds its requests: nothing waits for it.
          const actual = await pool.searchBatch(metric, queries, targets, dim, 25);
          expect(plain(actual)).toEqual(plain(pool.kernels.searchBatch(metric, queries, targets, dim, 25)));
          const after = pool.chunksByWorker;
          const total = targets.reduce((n, t) => n + (t.ids?.length ?? rows), 0);
          const chunks = planScan(total, 5, dim, 25, 2, 50_000).chunks.length;
          expect(chunks).toBeGreaterThan(4);
          expect(after[0]! - before[0]!).toBe(chunks);
          expect(after[1]).toBe(0);
        }
        // Awake again, it takes chunks like any other and the answers stay exact.
        stalled!.postMessage({ type: "release" });
        for (let i = 0; i < 4; i++) {
          const q = randomF32(3 * dim, rand, 4);
          expect(plain(await pool.searchBatch("l2", q, [{ block }], dim, 10))).toEqual(plain(pool.kernels.searchBatch("l2", q, [{ block }], dim, 10)));
        }
        block.free();
      } finally {
        await pool.close();
      }
    });
  }
});

describe("work stealing: a worker stalled mid-chunk (shared memory)", () => {
  it("the idle worker scans a copy of the stalled chunk and its answer is used; the late answer loses", async () => {
    // Worker 0 claims the first chunk and blocks inside its first kernel call; worker 1 gets the
    // search only once worker 0 is stalled, so it finds that chunk claimed and unfinished.
    const gate = new Int32Array(new SharedArrayBuffer(4));
    let midChunk: Worker | undefined;
    let live: Worker | undefined;
    const held: [unknown, readonly unknown[] | undefined][] = [];
    let open = false;
    const reports: ScanReport[] = [];
    let started = 0;
    const pool = await createScanPool({
      workers: 2, transport: "shared", chunkElements: 100_000, onScan: (r) => reports.push(r),
      createWorker: () => {
        if (started++ === 0) {
          midChunk = startTsWorker(midChunkWorker);
          midChunk.postMessage({ type: "gate", buffer: gate.buffer });
          midChunk.on("message", (m: { type: string }) => {
            if (m.type !== "stalled") return;
            open = true;
            for (const [message, transfer] of held.splice(0)) live!.postMessage(message, transfer as never);
          });
          return midChunk;
        }
        live = createWorker();
        return {
          postMessage: (m: unknown, transfer?: readonly unknown[]) => ((m as { type: string }).type === "scan" && !open ? held.push([m, transfer]) : live!.postMessage(m, transfer as never)),
          on: live.on.bind(live), off: live.off.bind(live), terminate: () => live!.terminate(),
        };
      },
    });
    try {
      const rand = seededRandom(33);
      const dim = 24;
      const rows = 12_000;
      const block = pool.kernels.upload(randomF32(rows * dim, rand, 5), dim);
      const queries = randomF32(3 * dim, rand, 5);
      const chunks = planScan(rows, 3, dim, 15, 2, 100_000).chunks.length;
      expect(chunks).toBeGreaterThan(4);
      // Resolves while worker 0 is still blocked mid-chunk: worker 1's copy answered for it.
      const actual = await pool.searchBatch("cosine", queries, [{ block }], dim, 15);
      expect(plain(actual)).toEqual(plain(pool.kernels.searchBatch("cosine", queries, [{ block }], dim, 15)));
      expect(Atomics.load(gate, 0)).toBe(0);
      expect(pool.chunksByWorker).toEqual([0, chunks]);
      // Let worker 0 finish its chunk: it loses the race, and the report (sent once every worker
      // answered) shows that chunk scanned twice, the copy's answer used.
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await expect.poll(() => reports.length).toBe(1);
      const report = reports[0]!;
      expect(report.chunks).toBe(chunks);
      const stalledScans = report.scans.filter((x) => x.worker === 0);
      expect(stalledScans).toHaveLength(1);
      expect(stalledScans[0]).toMatchObject({ used: false, copy: false });
      const copies = report.scans.filter((x) => x.copy);
      expect(copies).toHaveLength(1);
      expect(copies[0]).toMatchObject({ chunk: stalledScans[0]!.chunk, worker: 1, used: true });
      expect(report.scans.filter((x) => x.used)).toHaveLength(chunks);
      expect(new Set(report.scans.filter((x) => x.used).map((x) => x.chunk)).size).toBe(chunks);
      expect(pool.chunksByWorker).toEqual([0, chunks]);
      // Awake again, it takes chunks like any other and the answers stay exact.
      const q = randomF32(2 * dim, rand, 5);
      expect(plain(await pool.searchBatch("l2", q, [{ block }], dim, 10))).toEqual(plain(pool.kernels.searchBatch("l2", q, [{ block }], dim, 10)));
      block.free();
    } finally {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await pool.close();
    }
  });
});

describe("guided chunks: few requests, shrinking chunks", () => {
  for (const transport of ["shared", "message"] as const) {
    it(`${transport}: a batch of 32 is cut as planScan says, biggest first, with one scan request per chunk scan (message) or per worker (shared)`, async () => {
      const reports: ScanReport[] = [];
      let requests = 0;
      const pool = await createScanPool({
        workers: 2, transport, flavor: "simd", onScan: (r) => reports.push(r),
        createWorker: () => {
          const w = createWorker();
          return {
            postMessage: (m: unknown, transfer?: readonly unknown[]) => {
              if ((m as { type: string }).type === "scan") requests++;
              w.postMessage(m, transfer as never);
            },
            on: w.on.bind(w), off: w.off.bind(w), terminate: () => w.terminate(),
          };
        },
      });
      try {
        const rand = seededRandom(17);
        const dim = 64;
        const rows = 50_000;
        const block = pool.kernels.upload(randomF32(rows * dim, rand), dim);
        const queries = randomF32(32 * dim, rand);
        const plan = planScan(rows, 32, dim, 10, 2, CHUNK_ELEMENTS);
        for (const metric of ["l2", "cosine"] as const) {
          const before = requests;
          expect(plain(await pool.searchBatch(metric, queries, [{ block }], dim, 10))).toEqual(plain(pool.kernels.searchBatch(metric, queries, [{ block }], dim, 10)));
          await expect.poll(() => reports.length).toBe(metric === "l2" ? 1 : 2);
          const report = reports.at(-1)!;
          expect(report.chunks).toBe(plan.chunks.length);
          expect(report.chunkRows).toEqual(plan.chunks.map((c) => c.b - c.a));
          expect(report.chunkRows[0]).toBe(rows / 4);
          expect(report.chunkRows[0]! / report.chunkRows.at(-2)!).toBeGreaterThan(5);
          // The fixed 0.5 ms split cut this batch into 4 groups × 6 row ranges: 24 chunks.
          expect(report.chunks).toBeLessThan(12);
          expect(report.scans.filter((x) => x.used)).toHaveLength(report.chunks);
          const sent = requests - before;
          if (transport === "shared") expect(sent).toBe(2);
          else expect(sent).toBe(report.scans.length);
          expect(report.scans.length - report.chunks).toBe(report.scans.filter((x) => x.copy).length);
        }
        block.free();
      } finally {
        await pool.close();
      }
    });
  }
});

describe("cutting a search into chunks", () => {
  it("cuts big chunks first, shrinking to chunkElements, in few chunks; small searches stay whole", () => {
    const C = CHUNK_ELEMENTS;
    const rowsOf = (plan: ReturnType<typeof planScan>) => plan.chunks.map((c) => c.b - c.a);
    const contiguous = (plan: ReturnType<typeof planScan>, total: number) => {
      for (let g = 0; g < plan.groups; g++) {
        const mine = plan.chunks.filter((c) => c.group === g);
        expect(mine[0]!.a).toBe(0);
        mine.forEach((c, i) => i > 0 && expect(c.a).toBe(mine[i - 1]!.b));
        expect(mine.at(-1)!.b).toBe(total);
      }
    };
    // 32 queries of 384-d over 100K rows, 2 workers: one group of 32; the first chunk takes a quarter
    // of the work, each next one a quarter of what is left, down to C; the fixed split made 292.
    const batch = planScan(100_000, 32, 384, 10, 2, C);
    expect(batch).toMatchObject({ groupSize: 32, groups: 1 });
    contiguous(batch, 100_000);
    const rows = rowsOf(batch);
    expect(rows[0]).toBe(25_000);
    expect(rows[1]).toBe(18_750);
    for (let i = 1; i < rows.length - 1; i++) expect(rows[i]!).toBeLessThanOrEqual(rows[i - 1]!);
    // The smallest chunks are C's worth; the last takes what is left (0.5 to 1.5 of that).
    const smallest = Math.ceil(C / (384 * 32));
    expect(Math.min(...rows.slice(0, -1))).toBe(smallest);
    expect(rows.at(-1)!).toBeGreaterThanOrEqual(smallest / 2);
    expect(rows.at(-1)!).toBeLessThan(1.5 * smallest);
    expect(rows).toHaveLength(19);
    // More workers: smaller first chunks (1 / (2 × workers) of the work).
    expect(rowsOf(planScan(100_000, 32, 384, 10, 4, C))[0]).toBe(12_500);
    // One 384-d query over 100K rows: ~9 smallest chunks' worth, 7 chunks.
    expect(rowsOf(planScan(100_000, 1, 384, 10, 2, C))).toEqual([25_000, 18_750, 14_063, 10_923, 10_923, 10_923, 9_418]);
    // Under two chunks' worth, or one worker: one chunk.
    expect(planScan(10_000, 1, 384, 10, 2, C).chunks).toEqual([{ group: 0, a: 0, b: 10_000 }]);
    expect(planScan(100_000, 32, 384, 10, 1, C).chunks).toEqual([{ group: 0, a: 0, b: 100_000 }]);
    // Many queries with small chunks: groups that are multiples of 8 (here 8 and 3), so the kernels
    // see the same groups of 8 as in one thread; never a chunk under 256 rows or under k rows.
    const groups = planScan(2_000, 11, 17, 10, 2, 1000);
    expect(groups).toMatchObject({ groupSize: 8, groups: 2 });
    contiguous(groups, 2_000);
    expect(Math.min(...rowsOf(groups))).toBeGreaterThanOrEqual(256);
    const bigK = planScan(2_000, 11, 17, 1000, 2, 1000);
    contiguous(bigK, 2_000);
    expect(Math.min(...rowsOf(bigK))).toBeGreaterThanOrEqual(1000);
    // Large k over many queries: bigger chunks until their lists (two slots each) fit in 32 MiB.
    const lists = planScan(1_000_000, 64, 16, 5_000, 2, 1 << 16);
    expect(lists).toMatchObject({ groupSize: 8, groups: 8 });
    expect(lists.chunks.length).toBeGreaterThan(8);
    expect(lists.chunks.reduce((n, c) => n + 8 * Math.min(5_000, c.b - c.a) * 16, 0)).toBeLessThanOrEqual(32 << 20);
    contiguous(lists, 1_000_000);
  });

  it("a tiny search runs on the calling thread, a small one on one worker, both with the same answer", async () => {
    const reports: ScanReport[] = [];
    const pool = await createScanPool({ workers: 2, transport: "shared", createWorker, onScan: (r) => reports.push(r) });
    try {
      const rand = seededRandom(8);
      const dim = 64;
      const small = pool.kernels.upload(randomF32(1000 * dim, rand), dim); // 64K elements per query: in-thread
      const large = pool.kernels.upload(randomF32(60_000 * dim, rand), dim); // 3.8M: one chunk, one worker
      const q = randomF32(dim, rand);
      expect(plain([await pool.search("l2", q, [{ block: small }], dim, 10)])).toEqual(plain([pool.kernels.search("l2", q, [{ block: small }], dim, 10)]));
      expect(pool.chunksByWorker).toEqual([0, 0]);
      expect(plain([await pool.search("l2", q, [{ block: large }], dim, 10)])).toEqual(plain([pool.kernels.search("l2", q, [{ block: large }], dim, 10)]));
      await expect.poll(() => reports.length).toBe(1);
      expect(reports[0]).toMatchObject({ chunks: 1, groups: 1, chunkRows: [60_000] });
      // The other worker stands by: it scans a copy only if the claimer is late (a loaded machine).
      expect(reports[0]!.scans.filter((x) => x.used)).toHaveLength(1);
      expect(reports[0]!.scans.filter((x) => x.copy).length).toBeLessThanOrEqual(1);
      expect(pool.chunksByWorker.reduce((a, b) => a + b, 0)).toBe(1);
      for (const bad of [0, 1.5, -3]) {
        const e = await createScanPool({ workers: 1, chunkElements: bad, createWorker }).then(() => undefined, (x: unknown) => x);
        expect(isQuiverError(e, "INVALID_ARGUMENT")).toBe(true);
      }
    } finally {
      await pool.close();
    }
  });
});

describe("scan pool failures", () => {
  // Answers `init`, then dies on the first scan, like a worker that ran out of memory — over shared
  // memory after claiming a chunk, so that chunk is never finished and the search cannot complete.
  const crashing = `
    const { parentPort } = require("node:worker_threads");
    let memory;
    parentPort.on("message", (m) => {
      if (m.type === "init") {
        memory = m.memory;
        parentPort.postMessage({ type: "ready", id: m.id });
      } else if (m.type === "scan") {
        if (m.shared) Atomics.add(new Int32Array(memory.buffer, m.shared.control, 2), 0, 1);
        process.exit(7);
      }
    });`;

  for (const transport of ["shared", "message"] as const) {
    it(`${transport}: a worker that dies mid-scan fails the search (or leaves it to the others), then the pool, with CLOSED`, async () => {
      let started = 0;
      let crashing_: Worker | undefined;
      const pool = await createScanPool({
        workers: 2, transport, flavor: "simd", chunkElements: 4096,
        createWorker: () => (started++ === 0 ? createWorker() : (crashing_ = new Worker(crashing, { eval: true }))),
      });
      const exited = new Promise((resolve) => crashing_!.once("exit", resolve));
      const block = pool.kernels.upload(new Float32Array(4096 * 8).fill(1), 8);
      const first = await pool.searchBatch("l2", new Float32Array(8), [{ block }], 8, 5).then((r) => r, (e: unknown) => e);
      // Either it died holding a chunk (shared: one it claimed; message: one it was handed), and
      // the search fails, or the live worker took (or backed up) every chunk before the death was
      // seen, and the answer is complete and exact. Never a partial answer.
      if (!isQuiverError(first, "CLOSED")) {
        expect(plain(first as SearchResult[])).toEqual(plain(pool.kernels.searchBatch("l2", new Float32Array(8), [{ block }], 8, 5)));
      } else {
        expect((first as Error).message).toMatch(/scan worker 1 exited with code 7/);
      }
      await exited;
      const again = await pool.searchBatch("l2", new Float32Array(8), [{ block }], 8, 5).then(() => undefined, (e: unknown) => e);
      expect(isQuiverError(again, "CLOSED")).toBe(true);
      expect((again as Error).message).toMatch(/scan worker 1 exited with code 7/);
      block.free();
      await pool.close();
    });
  }

  it("a worker that dies while starting rejects createScanPool with CLOSED", async () => {
    const error = await createScanPool({ workers: 2, transport: "message", createWorker: () => new Worker("process.exit(3)", { eval: true }) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isQuiverError(error, "CLOSED")).toBe(true);
    expect((error as Error).message).toMatch(/could not start.*exited with code 3/);
  });

  it("a closed pool answers CLOSED; bad options answer INVALID_ARGUMENT", async () => {
    const pool = await createScanPool({ workers: 1, transport: "message", createWorker });
    const block = pool.kernels.upload(new Float32Array(8), 4);
    await pool.close();
    const error = await pool.searchBatch("l2", new Float32Array(4), [{ block }], 4, 1).then(() => undefined, (e: unknown) => e);
    expect(isQuiverError(error, "CLOSED")).toBe(true);
    block.free();
    for (const options of [{ workers: 0 }, { transport: "carrier-pigeon" as "shared" }]) {
      const e = await createScanPool({ ...options, createWorker }).then(() => undefined, (x: unknown) => x);
      expect(isQuiverError(e, "INVALID_ARGUMENT")).toBe(true);
    }
  });
});

describe("shared-memory build", () => {
  it("computes the same floats as the simd build, so switching a table to the pool changes no result", async () => {
    const { loadSharedKernels } = await import("../../src/kernels/index.js");
    const { kernels: shared } = await loadSharedKernels();
    const simd = await loadKernels({ flavor: "simd" });
    const rand = seededRandom(99);
    for (const dim of [1, 3, 16, 17, 100, 384]) {
      const data = randomF32(600 * dim, rand);
      const qs = randomF32(9 * dim, rand);
      const a = shared.upload(data, dim);
      const b = simd.upload(data, dim);
      for (const metric of ["l2", "cosine", "dot"] as const) {
        expect(plain(shared.searchBatch(metric, qs, [{ block: a }], dim, 25))).toEqual(plain(simd.searchBatch(metric, qs, [{ block: b }], dim, 25)));
        expect(plain([shared.search(metric, qs.subarray(0, dim), [{ block: a, ids: Int32Array.of(5, 1, 5, 599) }], dim, 3)]))
          .toEqual(plain([simd.search(metric, qs.subarray(0, dim), [{ block: b, ids: Int32Array.of(5, 1, 5, 599) }], dim, 3)]));
      }
      a.free();
      b.free();
    }
  });
});
