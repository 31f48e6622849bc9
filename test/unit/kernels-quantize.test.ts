/**
 * Parity of the index kernels (k-means, PQ, SQ) in the SIMD and scalar builds with the plain-TS
 * reference, at the awkward dims of the other kernel tests. Argmin results (assignments, PQ codes)
 * may differ from the reference only where two centroids are equally near up to rounding, so they
 * are checked by distance: the chosen centroid must be as near as the reference's.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadKernels, type Kernels } from "../../src/kernels/index.js";
import { KMeansSession, assignNearest, pqDecode, pqEncode, sqBounds, sqDecode, sqEncode, sqPrepareQuery } from "../../src/kernels/quantize.js";
import { GraphLayer, UpperLayers } from "../../src/kernels/graph.js";
import { VectorStore } from "../../src/kernels/store.js";
import * as ref from "../support/reference.js";
import { F32_DIMS, callRaw, expectClose, expectExact, randomF32, randomIds, rng } from "./kernels-helpers.js";

const N = 37;
const M_IDS = 23;

/** Sub-vector counts that divide each test dim: dsub 1, 4, 3 or 5, and dsub = dim for small dims. */
function subVectorCounts(dim: number): number[] {
  const counts = [dim, dim / 4, dim / 3, dim / 5, dim <= 17 ? 1 : 0.5];
  return [...new Set(counts.filter((m) => Number.isInteger(m) && m >= 1))];
}

/** |a − b| ≤ 1e-3 · max(1, max |b|): for distances from a query rounded to 15 bits. */
function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= 1e-3 * scale)) expect.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/** The reference distance from each row to the centroid the kernel picked ≈ the reference minimum. */
function expectNearestByDistance(x: Float32Array, dim: number, c: Float32Array, k: number, metric: "l2" | "dot", assign: Int32Array, dist: Float32Array, what: string): void {
  const best = ref.kmeansAssign(x, dim, c, k, metric);
  const chosen = Float32Array.from(assign, (a, r) => {
    const row = x.subarray(r * dim, (r + 1) * dim);
    return (metric === "l2" ? ref.l2(row, c, dim, [a]) : ref.dot(row, c, dim, [a]))[0]!;
  });
  expectClose(chosen, best.dist, `${what}: distance to the chosen centroid`);
  const scale = metric === "l2" ? Math.max(...best.dist) : 1;
  for (let r = 0; r < dist.length; r++) {
    if (!(Math.abs(dist[r]! - best.dist[r]!) <= 1e-4 * Math.max(1, scale))) expect.fail(`${what}: row ${r} reports ${dist[r]}, expected ${best.dist[r]}`);
  }
}

describe.each(["simd", "scalar"] as const)("%s index kernels", (flavor) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels({ flavor });
  });

  describe.each(F32_DIMS)("dim %i", (dim) => {
    const x = randomF32(N * dim, 11 * dim);
    const q = randomF32(dim, 13 * dim);

    it.each([1, 3, 4, 5, 17])("k-means assign (l2, dot) and update, k = %i", (kc) => {
      const c = randomF32(kc * dim, 17 * dim + kc);
      c.set(x.subarray(0, dim), 0); // row 0 sits exactly on centroid 0
      for (const metric of ["l2", "dot"] as const) {
        const { assign, dist } = assignNearest(k, x, dim, c, metric);
        expectNearestByDistance(x, dim, c, kc, metric, assign, dist, `${metric} k=${kc}`);
        if (metric === "l2") expect(dist[0]).toBe(0);
      }
      const block = k.upload(x, dim);
      const session = new KMeansSession(k, block, dim);
      try {
        const { assign } = session.assign(c, kc, "l2");
        const got = session.update(kc);
        const want = ref.kmeansUpdate(x, dim, assign, kc);
        expectExact(got.counts, want.counts, "counts");
        expectClose(got.sums, want.sums, "sums");
      } finally {
        session.free();
        block.free();
      }
    });

    it("assigns a row in a batch (rows taken in pairs) exactly as alone", () => {
      // N is odd: the batch ends with a row outside any pair; 17 centroids leave a remainder past groups of four.
      const c = randomF32(17 * dim, 23 * dim);
      for (const metric of ["l2", "dot"] as const) {
        const batch = assignNearest(k, x, dim, c, metric);
        for (let r = 0; r < N; r++) {
          const alone = assignNearest(k, x.subarray(r * dim, (r + 1) * dim), dim, c, metric);
          expectExact(batch.assign.subarray(r, r + 1), alone.assign, `${metric} row ${r}: centroid`);
          expectExact(batch.dist.subarray(r, r + 1), alone.dist, `${metric} row ${r}: distance`);
        }
      }
    });

    it("k-means on a column range (a PQ sub-space) and k-means++ seeding", async () => {
      const offset = Math.floor(dim / 3);
      const width = Math.max(1, dim - offset - 1);
      const cols = new Float32Array(N * width);
      for (let r = 0; r < N; r++) cols.set(x.subarray(r * dim + offset, r * dim + offset + width), r * width);
      const c = randomF32(5 * width, 19 * dim);
      const block = k.upload(x, dim);
      const session = new KMeansSession(k, block, dim, { offset, width });
      try {
        const { assign, dist } = session.assign(c, 5, "l2");
        expectNearestByDistance(cols, width, c, 5, "l2", assign, dist, "sub-space");
        expectClose(session.row(4), cols.subarray(4 * width, 5 * width), "row");
        // Seeding: centre 0 is row ⌊draw₀ · N⌋; centre j the row where the running sum of the
        // rows' squared distances to the nearest earlier centre passes draw_j × their total.
        const draws = Float64Array.from([0.3, 0.9, 0.1, 0.55, 0.75]);
        const centres = await session.seed(draws.length, "l2", draws);
        const rowOf = (j: number): number => {
          const centre = centres.subarray(j * width, (j + 1) * width);
          for (let r = 0; r < N; r++) if (centre.every((v, i) => v === cols[r * width + i])) return r;
          return -1;
        };
        const chosen = [rowOf(0)];
        expect(chosen[0]).toBe(Math.floor(draws[0]! * N));
        for (let j = 1; j < draws.length; j++) {
          const mind = Array.from({ length: N }, (_, r) => Math.min(...chosen.map((q) => ref.l2(cols.subarray(q * width, (q + 1) * width), cols.subarray(r * width, (r + 1) * width), width)[0]!)));
          const total = mind.reduce((a, b) => a + b, 0);
          const target = draws[j]! * total;
          const r = rowOf(j);
          expect(r, `centre ${j} is a row`).toBeGreaterThanOrEqual(0);
          expect(chosen, `centre ${j} is a new row`).not.toContain(r);
          const before = mind.slice(0, r).reduce((a, b) => a + b, 0);
          const tolerance = 1e-5 * total;
          expect(before).toBeLessThanOrEqual(target + tolerance);
          expect(before + mind[r]!).toBeGreaterThanOrEqual(target - tolerance);
          chosen.push(r);
        }
      } finally {
        session.free();
        block.free();
      }
    });

    describe.each(subVectorCounts(dim))("PQ with M = %i", (M) => {
      const dsub = dim / M;
      const codebook = randomF32(M * 256 * dsub, 23 * dim + M);

      it("encode picks the nearest centroid per sub-space; decode inverts the lookup", () => {
        const codes = pqEncode(k, x, dim, M, codebook);
        const want = ref.pqEncode(x, dim, M, codebook);
        for (let r = 0; r < N; r++) {
          for (let m = 0; m < M; m++) {
            const sub = x.subarray(r * dim + m * dsub, r * dim + (m + 1) * dsub);
            const book = codebook.subarray(m * 256 * dsub, (m + 1) * 256 * dsub);
            const [got, exp] = ref.l2(sub, book, dsub, [codes[r * M + m]!, want[r * M + m]!]);
            if (!(Math.abs(got! - exp!) <= 1e-4 * Math.max(1, exp!))) expect.fail(`row ${r} sub-space ${m}: code ${codes[r * M + m]} at ${got}, reference ${want[r * M + m]} at ${exp}`);
          }
        }
        expectExact(pqDecode(k, codes, dim, M, codebook), ref.pqDecode(codes, M, dsub, codebook), "decode");
      });

      it("lookup tables (l2, dot) and ADC scans, dense and gather, with and without norms", () => {
        const codes = pqEncode(k, x, dim, M, codebook);
        const lutL2 = callRaw(k, "pq_lut_l2", [q, M, dsub, codebook, "out"], M * 256);
        expectClose(lutL2, ref.pqLut("l2", q, M, dsub, codebook), "lut l2");
        const lutDot = callRaw(k, "pq_lut_dot", [q, M, dsub, codebook, -2, "out"], M * 256);
        expectClose(lutDot, ref.pqLut("dot", q, M, dsub, codebook, -2), "lut dot");
        const norms = randomF32(N, 29 * dim);
        const ids = randomIds(M_IDS, N, 31 * dim);
        expectClose(callRaw(k, "pq_adc", [lutL2, codes, N, M, 0.5, 0, 0, 0, "out"], N), ref.pqAdc(lutL2, codes, M, 0.5), "adc");
        expectClose(callRaw(k, "pq_adc", [lutDot, codes, N, M, 1, norms, 0, 0, "out"], N), ref.pqAdc(lutDot, codes, M, 1, norms), "adc + norms");
        expectClose(callRaw(k, "pq_adc_gather", [lutL2, codes, ids, M_IDS, M, 0.25, norms, "out"], M_IDS), ref.pqAdc(lutL2, codes, M, 0.25, norms, ids), "adc gather");
        // ADC with the l2 table is exactly ‖q − decode(code)‖² up to rounding.
        expectClose(ref.pqAdc(lutL2, codes, M, 0), ref.l2(q, pqDecode(k, codes, dim, M, codebook), dim), "adc = l2 to the reconstruction");
      });
    });

    it("SQ bounds, encode (exact), decode and asymmetric l2/dot scans", () => {
      const { lo, hi } = sqBounds(k, x, dim);
      const want = ref.sqBounds(x, dim);
      expectExact(lo, want.lo, "lo");
      expectExact(hi, want.hi, "hi");
      const scale = Float32Array.from(lo, (l, i) => (hi[i]! - l) / 255);
      scale[0] = 0; // a constant dimension: every code decodes to its offset
      const offset = Float32Array.from(lo, (l, i) => l + 128 * scale[i]!);
      const inv = Float32Array.from(scale, (s) => (s > 0 ? 1 / s : 0));
      const codes = sqEncode(k, x, dim, offset, inv);
      expectExact(codes, ref.sqEncode(x, dim, offset, inv), "encode");
      // Out-of-range inputs saturate at −128 and 127.
      const wide = Float32Array.from({ length: dim }, (_, i) => (i % 2 ? 1e6 : -1e6));
      const sat = sqEncode(k, wide, dim, offset, inv);
      for (let i = 1; i < dim; i++) expect(sat[i]).toBe(i % 2 ? 127 : -128);
      const decoded = sqDecode(k, codes, dim, offset, scale);
      expectClose(decoded, ref.sqDecode(codes, dim, offset, scale), "decode");
      for (let j = 0; j < x.length; j++) {
        if (!(Math.abs(decoded[j]! - x[j]!) <= scale[j % dim]! / 2 + 1e-6 || j % dim === 0)) expect.fail(`element ${j}: decoded ${decoded[j]} is more than half a step from ${x[j]}`);
      }
      const ids = randomIds(M_IDS, N, 37 * dim);
      const norms = callRaw(k, "sq_norms", [codes, N, dim, scale, "out"], N);
      expectClose(norms, ref.sqNorms(codes, dim, scale), "norms");
      for (const metric of ["l2", "dot"] as const) {
        const { qi, w, bias } = sqPrepareQuery(q, offset, scale, metric);
        const rowNorms = metric === "l2" ? norms : undefined;
        const dense = callRaw(k, "sq_ip", [qi, codes, N, dim, w, bias, rowNorms ?? 0, 0, 0, "out"], N);
        expectClose(dense, ref.sqIp(qi, codes, dim, w, bias, rowNorms), `sq ${metric}`);
        expectClose(callRaw(k, "sq_ip_gather", [qi, codes, ids, M_IDS, dim, w, bias, rowNorms ?? 0, "out"], M_IDS), ref.sqIp(qi, codes, dim, w, bias, rowNorms, ids), `sq ${metric} gather`);
        // With the query rounded to 15 bits, the scan still gives the distance to the decoded row.
        const exact = ref.sqDistances(metric, q, codes, dim, offset, scale);
        const spread = Math.max(...exact.map(Math.abs));
        for (let r = 0; r < N; r++) {
          if (!(Math.abs(dense[r]! - exact[r]!) <= 1e-3 * Math.max(1, spread))) expect.fail(`sq ${metric} row ${r}: ${dense[r]} vs exact ${exact[r]}`);
        }
      }
    });

    it.each(["f32", "sq", "pq"] as const)("VectorStore %s: gather distances match the reference on its decoded rows", (kind) => {
      const { lo, hi } = ref.sqBounds(x, dim);
      const scale = Float32Array.from(lo, (l, i) => (hi[i]! - l) / 255);
      const offset = Float32Array.from(lo, (l, i) => l + 128 * scale[i]!);
      const M = subVectorCounts(dim).at(-1)!;
      const codebook = randomF32(256 * dim, 41 * dim);
      for (const metric of ["l2", "dot"] as const) {
        const spec = kind === "f32" ? { kind, dim, metric } : kind === "sq" ? { kind, dim, metric, offset, scale } : { kind, dim, metric, M, codebook };
        const store = new VectorStore(k, spec, 4); // starts small: appends must grow it
        try {
          store.append(x.subarray(0, 10 * dim));
          store.append(x.subarray(10 * dim));
          expect(store.size).toBe(N);
          const decoded = new Float32Array(N * dim);
          for (let r = 0; r < N; r++) decoded.set(store.vector(r), r * dim);
          if (kind === "f32") expectExact(decoded, x, "f32 rows");
          const ids = randomIds(M_IDS, N, 43 * dim);
          const out = new Float32Array(M_IDS);
          // SQ rounds the query to 15 bits (sqPrepareQuery): close to, not equal to, the decoded rows' distances.
          const near = kind === "sq" ? expectNear : expectClose;
          store.setQuery(q);
          store.distances(ids, M_IDS, out);
          near(out, ref.distances(metric, q, decoded, dim, ids), `${metric} query`);
          store.setQueryRow(3);
          store.distances(ids, M_IDS, out);
          near(out, ref.distances(metric, decoded.subarray(3 * dim, 4 * dim), decoded, dim, ids), `${metric} row query`);
          const copy = new VectorStore(k, spec, 1);
          copy.appendEncoded(store.encoded());
          copy.setQuery(q);
          const again = new Float32Array(M_IDS);
          copy.distances(ids, M_IDS, again);
          store.setQuery(q);
          store.distances(ids, M_IDS, out);
          expectExact(again, out, "round trip through encoded()");
          copy.free();
        } finally {
          store.free();
        }
      }
    });

    it.each(["f32", "sq", "pq"] as const)("graph search over a %s store matches the reference walk, with and without a filter", (kind) => {
      const n = 240;
      const degree = 6;
      const data = randomF32(n * dim, 47 * dim);
      // Coordinate 0 spaced wider than one SQ step, so even at dim 1 no two rows share a code.
      for (let v = 0; v < n; v++) data[v * dim] = -1 + (2 * v) / (n - 1);
      const { lo, hi } = ref.sqBounds(data, dim);
      const scale = Float32Array.from(lo, (l, i) => (hi[i]! - l) / 255);
      const offset = Float32Array.from(lo, (l, i) => l + 128 * scale[i]!);
      const M = subVectorCounts(dim).at(-1)!;
      const codebook = randomF32(256 * dim, 53 * dim);
      // A random directed graph: node v links to `degree` random others (some lists shorter).
      const r = rng(59 * dim);
      const links = new Int32Array(n * (1 + degree));
      for (let v = 0; v < n; v++) {
        const count = 2 + Math.floor(r() * (degree - 1));
        links[v * (1 + degree)] = count;
        for (let j = 1; j <= count; j++) links[v * (1 + degree) + j] = Math.floor(r() * n);
      }
      const allowedBits = new Uint8Array(Math.ceil(n / 8));
      for (let v = 0; v < n; v++) if (v % 3 !== 1) allowedBits[v >> 3]! |= 1 << (v & 7);
      for (const metric of ["l2", "dot"] as const) {
        const spec = kind === "f32" ? { kind, dim, metric } : kind === "sq" ? { kind, dim, metric, offset, scale } : { kind, dim, metric, M, codebook };
        const store = new VectorStore(k, spec, n);
        const graph = new GraphLayer(k, degree, 16); // starts small: reserve must keep links
        try {
          store.append(data);
          graph.reserve(n);
          graph.load(new Uint8Array(links.buffer));
          const everyRow = Int32Array.from({ length: n }, (_, v) => v);
          for (let qi = 0; qi < 3; qi++) {
            const q = randomF32(dim, 61 * dim + qi);
            store.setQuery(q);
            // The walk is compared on the store's own distances (checked against the reference above).
            const exact = new Float32Array(n);
            store.distances(everyRow, n, exact);
            for (const allowed of [undefined, allowedBits]) {
              const count = graph.search(store, 0, exact[0]!, 10, allowed);
              const want = ref.graphSearch(links, 1 + degree, (v) => exact[v]!, 0, 10, allowed ? (v) => ((allowed[v >> 3]! >> (v & 7)) & 1) === 1 : undefined);
              const what = `${metric}${allowed ? " (filtered)" : ""}`;
              expectClose(graph.distances.subarray(0, count), want.distances, `${what} distances`);
              // Codes make exact ties common (rows sharing codes); ties may come out in either order.
              if (kind === "f32") expectExact(graph.ids.subarray(0, count), want.ids, `${what} ids`);
              else expectClose(Float32Array.from(graph.ids.subarray(0, count), (v) => exact[v]!), want.distances, `${what}: distances of the returned ids`);
            }
          }
          expectExact(new Int32Array(graph.encoded(n).buffer), links, "links round trip");
        } finally {
          graph.free();
          store.free();
        }
      }
    });
  });

  it.each([1, 16, 100])("HNSW upper layers (dim %i): the search over UpperLayers and the greedy descent (ef 1 per layer) match the reference", (dim) => {
    const n = 300;
    const m = 6;
    const r = rng(67 * dim);
    const data = randomF32(n * dim, 71 * dim);
    // Random levels (about 1/3 of the nodes reach layer 1, fewer each layer up), random lists.
    const levels = Uint8Array.from({ length: n }, () => (r() < 0.35 ? 1 + Math.floor(-Math.log(1 - r()) * 0.9) : 0));
    const onLayer = (layer: number): number[] => Array.from({ length: n }, (_, v) => v).filter((v) => levels[v]! >= layer);
    const top = Math.max(...levels);
    const upper = new UpperLayers(k, m);
    upper.reserve(8); // starts small: reserve and add must keep what is there
    upper.reserve(n);
    const lists = new Map<string, number[]>();
    for (let v = 0; v < n; v++) {
      if (levels[v] === 0) continue;
      upper.add(v, levels[v]!);
      for (let layer = 1; layer <= levels[v]!; layer++) {
        const peers = onLayer(layer).filter((u) => u !== v);
        const list = Array.from({ length: Math.min(peers.length, 1 + Math.floor(r() * m)) }, () => peers[Math.floor(r() * peers.length)]!);
        lists.set(`${v}/${layer}`, list);
        const at = upper.at(v, layer);
        upper.lists().set([list.length, ...list], at);
      }
    }
    const entry = onLayer(top)[0]!;
    for (const metric of ["l2", "dot"] as const) {
      const store = new VectorStore(k, { kind: "f32", dim, metric }, n);
      const graph = new GraphLayer(k, 2 * m, n);
      try {
        store.append(data);
        for (let qi = 0; qi < 3; qi++) {
          store.setQuery(randomF32(dim, 73 * dim + qi));
          const exact = new Float32Array(n);
          store.distances(Int32Array.from({ length: n }, (_, v) => v), n, exact);
          // The search of layer 1 is the bottom layer's search over that layer's lists.
          const dense = new Int32Array(n * (1 + m));
          for (const v of onLayer(1)) dense.set([lists.get(`${v}/1`)!.length, ...lists.get(`${v}/1`)!], v * (1 + m));
          const count = graph.search(store, entry, exact[entry]!, 8, undefined, { layers: upper, layer: 1 });
          const want = ref.graphSearch(dense, 1 + m, (v) => exact[v]!, entry, 8);
          expectExact(graph.ids.subarray(0, count), want.ids, `${metric} layer-1 search ids`);
          expectClose(graph.distances.subarray(0, count), want.distances, `${metric} layer-1 search distances`);
          // The greedy descent is an ef-1 search per layer, from the top down to layer 1.
          let ep = entry;
          for (let layer = top; layer >= 1; layer--) {
            graph.search(store, ep, exact[ep]!, 1, undefined, { layers: upper, layer });
            ep = graph.ids[0]!;
          }
          const expected = ref.graphDescend((v, layer) => lists.get(`${v}/${layer}`)!, (v) => exact[v]!, entry, top, 0, n);
          expect(ep, `${metric} descent`).toBe(expected.ep);
          expectClose(graph.distances.subarray(0, 1), Float32Array.of(expected.distance), `${metric} descent distance`);
        }
      } finally {
        graph.free();
        store.free();
      }
    }
    // The pool is the nodes' lists back to back in node order: loading it gives the same layers.
    const copy = new UpperLayers(k, m);
    try {
      copy.load(levels, upper.encoded());
      expectExact(copy.encoded(), upper.encoded(), "upper layers round trip");
      expect(copy.encoded().length).toBe(Array.from(levels).reduce((s, l) => s + l * (1 + m), 0));
    } finally {
      copy.free();
      upper.free();
    }
  });

  it("k-means++ seeding over many blocks of rows picks where the reference's running sum passes each draw", async () => {
    const n = 3000;
    const dim = 16;
    const x = randomF32(n * dim, 77);
    const draws = Float64Array.from({ length: 12 }, (_, i) => ((i * 0.618034) % 1) * 0.999);
    const block = k.upload(x, dim);
    const session = new KMeansSession(k, block, dim);
    try {
      // 3000 rows: 12 blocks of 256 (seedBlockRows), each summed on its own.
      const centres = await session.seed(draws.length, "l2", draws);
      const rowOf = (j: number): number => {
        const centre = centres.subarray(j * dim, (j + 1) * dim);
        for (let r = 0; r < n; r++) if (centre.every((v, i) => v === x[r * dim + i])) return r;
        return -1;
      };
      const chosen = [rowOf(0)];
      expect(chosen[0]).toBe(Math.floor(draws[0]! * n));
      const mind = new Float64Array(n).fill(Infinity);
      for (let j = 1; j < draws.length; j++) {
        const d = ref.l2(x.subarray(chosen[j - 1]! * dim, chosen[j - 1]! * dim + dim), x, dim);
        for (let r = 0; r < n; r++) mind[r] = Math.min(mind[r]!, d[r]!);
        const total = mind.reduce((a, b) => a + b, 0);
        const target = draws[j]! * total;
        const r = rowOf(j);
        expect(r, `centre ${j} is a row`).toBeGreaterThanOrEqual(0);
        const before = mind.subarray(0, r).reduce((a, b) => a + b, 0);
        expect(before).toBeLessThanOrEqual(target + 1e-5 * total);
        expect(before + mind[r]!).toBeGreaterThanOrEqual(target - 1e-5 * total);
        chosen.push(r);
      }
      expect(new Set(chosen).size).toBe(draws.length);
    } finally {
      session.free();
      block.free();
    }
  });
});

describe("host arrays past one kernel call (16 MiB of rows)", () => {
  it("borrow one block of WebAssembly memory, not the array's size", async () => {
    const k = await loadKernels();
    const dim = 1024;
    const x = randomF32(16_384 * dim, 3); // 64 MiB
    const before = k.heap.size;
    assignNearest(k, x, dim, randomF32(4 * dim, 4), "dot");
    pqEncode(k, x, dim, 256, randomF32(256 * 256 * 4, 5));
    // A 16 MiB block, scratch and the allocator's growth steps; one call for all rows borrowed 64 MiB.
    expect(k.heap.size - before).toBeLessThan(48 * 2 ** 20);
  });

  it("assign, PQ and SQ encode block by block with the results of one call per piece", async () => {
    const k = await loadKernels();
    const dim = 1024;
    const n = 4096 + 123; // 16.5 MiB: two blocks of 4,096 rows and 123
    const x = randomF32(n * dim, 5);
    const pieces = [[0, 1000], [1000, 4100], [4100, n]] as const;
    const c = randomF32(7 * dim, 6);
    const whole = assignNearest(k, x, dim, c, "l2");
    const M = 256;
    const codebook = randomF32(M * 256 * (dim / M), 7);
    const codes = pqEncode(k, x, dim, M, codebook);
    const bounds = sqBounds(k, x, dim);
    const inv = bounds.hi.map((h, i) => 255 / Math.max(1e-6, h - bounds.lo[i]!));
    const sq = sqEncode(k, x, dim, bounds.lo, inv);
    for (const [from, to] of pieces) {
      const part = x.subarray(from * dim, to * dim);
      const a = assignNearest(k, part, dim, c, "l2");
      expectExact(whole.assign.subarray(from, to), a.assign, `assign rows ${from}…${to}`);
      expectExact(whole.dist.subarray(from, to), a.dist, `distances rows ${from}…${to}`);
      expectExact(codes.subarray(from * M, to * M), pqEncode(k, part, dim, M, codebook), `PQ codes rows ${from}…${to}`);
      expectExact(sq.subarray(from * dim, to * dim), sqEncode(k, part, dim, bounds.lo, inv), `SQ codes rows ${from}…${to}`);
    }
  });
});
