/**
 * The range-read planner (src/storage/range-reads.ts), the multipart/byteranges parser and
 * HttpStore.getRanges against a real local server that answers multi-range requests the ways
 * servers in the wild do (multipart, first range only, whole file, 416).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlobStore, ByteRange } from "../../src/storage/blob-store.js";
import { parseByteranges } from "../../src/storage/byteranges.js";
import { HttpStore } from "../../src/storage/http-store.js";
import { RANGES_PER_REQUEST } from "../../src/storage/http-ranges.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { planSpans, readRanges, type RangeCache } from "../../src/storage/range-reads.js";
import { countReads } from "../../src/storage/read-counter.js";
import { serveStatic, roundTrips, type StaticServer, type StaticServerOptions } from "./static-server.js";

const SIZE = 1 << 20;
const data = Uint8Array.from({ length: SIZE }, (_, i) => (i * 7919 + (i >> 8)) & 255);
const slice = (r: ByteRange): Uint8Array => data.subarray(r.offset, r.offset + r.length);

/** Deterministic scattered ranges: some close together, some far apart, some overlapping. */
function scattered(n: number, seed = 1): ByteRange[] {
  let s = seed;
  const next = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, () => {
    const length = 1 + Math.floor(next() * 5000);
    return { offset: Math.floor(next() * (SIZE - length)), length };
  });
}

describe("planSpans", () => {
  it("merges neighbours within the gap, keeps the others apart, and covers every range", () => {
    const ranges = [{ offset: 100_000, length: 10 }, { offset: 0, length: 100 }, { offset: 150, length: 50 }, { offset: 100_010, length: 5 }, { offset: 40_000, length: 1 }];
    const spans = planSpans(ranges, 1000);
    expect(spans.map((s) => [s.offset, s.length, s.members])).toEqual([[0, 200, [1, 2]], [40_000, 1, [4]], [100_000, 15, [0, 3]]]);
    expect(planSpans(ranges, 0).length).toBe(4);
    expect(planSpans(ranges, 60_000).length).toBe(1);
  });

  it("reads at most gapBytes per merge more than the ranges cover", () => {
    for (const gap of [0, 4096, 65_536]) {
      const ranges = scattered(500, gap + 3);
      const spans = planSpans(ranges, gap);
      const covered = new Uint8Array(SIZE);
      for (const r of ranges) covered.fill(1, r.offset, r.offset + r.length);
      const asked = covered.reduce((s, x) => s + x, 0);
      const read = spans.reduce((s, x) => s + x.length, 0);
      const merges = ranges.length - spans.length;
      expect(read).toBeGreaterThanOrEqual(asked);
      expect(read - asked).toBeLessThanOrEqual(gap * merges);
      for (const span of spans) for (const m of span.members) {
        expect(ranges[m]!.offset).toBeGreaterThanOrEqual(span.offset);
        expect(ranges[m]!.offset + ranges[m]!.length).toBeLessThanOrEqual(span.offset + span.length);
      }
    }
  });
});

describe("readRanges", () => {
  async function memoryStore(): Promise<BlobStore> {
    const store = new MemoryStore("memory://");
    await store.put("f", data);
    return store;
  }

  it("answers every range, in the order asked, in one read per span, at most `concurrency` at once", async () => {
    const { store, reads } = countReads(await memoryStore());
    let inFlight = 0;
    let most = 0;
    const slow: BlobStore = Object.assign(Object.create(store) as BlobStore, {
      getRange: async (key: string, offset: number, length: number) => {
        most = Math.max(most, ++inFlight);
        await new Promise((ok) => setTimeout(ok, 1));
        inFlight--;
        return store.getRange(key, offset, length);
      },
      getRanges: undefined,
    });
    const ranges = scattered(100);
    const got = await readRanges(slow, "f", ranges, { gapBytes: 1024, concurrency: 4 });
    got.forEach((bytes, i) => expect(bytes).toEqual(slice(ranges[i]!)));
    expect(reads.requests).toBe(planSpans(ranges, 1024).length);
    expect(most).toBe(4);
  });

  it("caches pieces that make up most of the body they came in as views of it, not copies", async () => {
    // A store that answers every span of a read in one body (as a multi-range answer is), with a
    // little framing between the pieces.
    const bodies: ArrayBufferLike[] = [];
    const framed: BlobStore = Object.assign(Object.create((await memoryStore())) as BlobStore, {
      getRanges: async (_key: string, spans: readonly ByteRange[]) => {
        const body = new Uint8Array(spans.reduce((n, r) => n + r.length + 16, 0));
        bodies.push(body.buffer);
        let at = 0;
        return spans.map((r) => {
          body.set(slice(r), at + 16);
          at += r.length + 16;
          return body.subarray(at - r.length, at);
        });
      },
    });
    const kept = new Map<string, Uint8Array>();
    const cache: RangeCache = { get: () => undefined, set: (key, r, bytes) => void kept.set(`${key}@${r.offset}`, bytes) };
    const ranges = planSpans(scattered(30, 4), 0);
    await readRanges(framed, "f", ranges, { cache, gapBytes: 0 });
    expect(kept.size).toBe(ranges.length);
    for (const [i, r] of ranges.entries()) {
      const bytes = kept.get(`f@${r.offset}`)!;
      expect(bytes).toEqual(slice(ranges[i]!));
      expect(bytes.buffer).toBe(bodies[0]);
    }
    // A few pieces of a large body are copied out of it.
    kept.clear();
    const few = [ranges[0]!];
    const sparse: BlobStore = Object.assign(Object.create(framed) as BlobStore, {
      getRanges: async (_key: string, spans: readonly ByteRange[]) => spans.map((r) => data.subarray(r.offset, r.offset + r.length)),
    });
    await readRanges(sparse, "f", few, { cache, gapBytes: 0 });
    expect(kept.get(`f@${few[0]!.offset}`)!.buffer).not.toBe(data.buffer);
  });

  it("takes cached ranges from the cache, and caches only what `verify` accepts", async () => {
    const { store, reads } = countReads(await memoryStore());
    const kept = new Map<string, Uint8Array>();
    const cache: RangeCache = {
      get: (key, r) => kept.get(`${key}@${r.offset}+${r.length}`),
      set: (key, r, bytes) => void kept.set(`${key}@${r.offset}+${r.length}`, bytes),
    };
    const ranges = scattered(40);
    await readRanges(store, "f", ranges.slice(0, 20), { cache });
    expect(kept.size).toBe(20);
    const before = reads.bytes;
    const got = await readRanges(store, "f", ranges, { cache });
    got.forEach((bytes, i) => expect(bytes).toEqual(slice(ranges[i]!)));
    // Only the 20 new ranges were read.
    expect(reads.bytes - before).toBeLessThanOrEqual(planSpans(ranges.slice(20)).reduce((s, x) => s + x.length, 0));
    // A cached piece holds its own bytes, not the span it was cut from.
    for (const bytes of kept.values()) expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
    const fresh = [{ offset: 5, length: 5 }];
    await expect(readRanges(store, "f", fresh, { cache, verify: () => { throw new Error("bad checksum"); } })).rejects.toThrow("bad checksum");
    expect(kept.has("f@5+5")).toBe(false);
  });
});

describe("parseByteranges", () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const join = (...parts: Uint8Array[]): Uint8Array => {
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };

  it("cuts parts by their Content-Range, even when the data holds the boundary", () => {
    const a = enc("--XYZ\r\n\r\nnot a delimiter");
    const b = Uint8Array.from([0, 255, 13, 10, 45, 45]);
    const body = join(
      enc("\r\n--XYZ\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 10-33/100\r\n\r\n"), a,
      enc("\r\n--XYZ\r\ncontent-range: bytes 90-95/100\r\n\r\n"), b, enc("\r\n--XYZ--\r\n"),
    );
    expect(a.length).toBe(24);
    const parts = parseByteranges(body, 'multipart/byteranges; boundary="XYZ"')!;
    expect(parts.map((p) => p.offset)).toEqual([10, 90]);
    expect(parts[0]!.bytes).toEqual(a);
    expect(parts[1]!.bytes).toEqual(b);
  });

  it("rejects bodies that are not well formed", () => {
    expect(parseByteranges(enc("--B\r\nContent-Range: bytes 0-99/100\r\n\r\nshort\r\n--B--"), "multipart/byteranges; boundary=B")).toBeUndefined();
    expect(parseByteranges(enc("--B\r\nContent-Type: x\r\n\r\nabc\r\n--B--"), "multipart/byteranges; boundary=B")).toBeUndefined();
    expect(parseByteranges(enc("anything"), "multipart/byteranges")).toBeUndefined();
  });
});

describe("HttpStore.getRanges", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-ranges-"));
  const servers: StaticServer[] = [];
  beforeAll(() => writeFileSync(join(dir, "f.bin"), data));
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  const serve = async (options: StaticServerOptions): Promise<StaticServer> => {
    const server = await serveStatic(dir, options);
    servers.push(server);
    return server;
  };
  const spans = planSpans(scattered(150, 9), 0);

  it("reads 150 ranges as multi-range requests of up to RANGES_PER_REQUEST spans, in one round trip, from a server that answers them", async () => {
    const server = await serve({ multiRange: "multipart", latencyMs: 20 });
    const store = new HttpStore(server.origin);
    const got = await store.getRanges("f.bin", spans);
    got.forEach((bytes, i) => expect(bytes).toEqual(slice(spans[i]!)));
    expect(store.requests).toBe(Math.ceil(spans.length / RANGES_PER_REQUEST));
    expect(server.log.every((r) => r.status === 206)).toBe(true);
    expect(roundTrips(server.log)).toBe(1);
  });

  for (const mode of ["first", "whole", "refuse"] as const) {
    it(`falls back to one range per request when the server answers "${mode}", and stops asking for several (ranges under 16 KiB apart read as one)`, async () => {
      const server = await serve({ multiRange: mode });
      const store = new HttpStore(server.origin);
      const got = await store.getRanges("f.bin", spans);
      got.forEach((bytes, i) => expect(bytes).toEqual(slice(spans[i]!)));
      const tries = server.log.filter((r) => r.range?.includes(",")).length;
      expect(tries).toBeGreaterThanOrEqual(1);
      expect(tries).toBeLessThanOrEqual(Math.ceil(spans.length / 64));
      server.log.length = 0;
      const again = await store.getRanges("f.bin", spans.slice(0, 20));
      again.forEach((bytes, i) => expect(bytes).toEqual(slice(spans[i]!)));
      expect(server.log.filter((r) => r.range?.includes(","))).toHaveLength(0);
      const merged = planSpans(spans.slice(0, 20), 16 * 1024);
      expect(merged.length).toBeLessThan(20);
      expect(server.log).toHaveLength(merged.length);
    });
  }

  it("multiRange: false never asks for several ranges; a range past the end is still CORRUPT_FILE", async () => {
    const server = await serve({ multiRange: "multipart" });
    const store = new HttpStore(server.origin, { multiRange: false });
    const got = await store.getRanges("f.bin", spans.slice(0, 10));
    got.forEach((bytes, i) => expect(bytes).toEqual(slice(spans[i]!)));
    expect(server.log.filter((r) => r.range?.includes(","))).toHaveLength(0);
    const multi = new HttpStore(server.origin);
    await expect(multi.getRanges("f.bin", [{ offset: 0, length: 10 }, { offset: SIZE - 5, length: 10 }])).rejects.toMatchObject({ code: "CORRUPT_FILE" });
  });
});
