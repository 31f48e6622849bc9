/**
 * HttpStore.getRanges batching (src/storage/http-ranges.ts): ranges of one file asked for by
 * several callers in the same task go out as one multi-range request, overlapping ranges are read
 * once, and a caller's bad range does not fail the others' reads. With a connection budget
 * (`maxConnections`), a file's ranges go in fewer, fuller requests, the closest merged within the
 * bytes asked.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUDGET_RANGES_PER_REQUEST, packSpans, RANGES_PER_REQUEST } from "../../src/storage/http-ranges.js";
import { HttpStore } from "../../src/storage/http-store.js";
import { serveStatic, type StaticServer } from "./static-server.js";

/** f.bin (`file`) served from a fresh directory around the calling describe: `served.server` once started. */
function servedFile(file: Uint8Array): { server: StaticServer } {
  const dir = mkdtempSync(join(tmpdir(), "quiver-http-ranges-"));
  const served = { server: undefined as unknown as StaticServer };

  beforeAll(async () => {
    writeFileSync(join(dir, "f.bin"), file);
    served.server = await serveStatic(dir);
  });

  afterAll(async () => {
    await served.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  return served;
}

describe("HttpStore.getRanges from several callers at once", () => {
  const file = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) % 251);
  const served = servedFile(file);

  it("sends the requests of many files asked for in the same task back to back, in one task", async () => {
    // Served under several names, as a query's data files are.
    const names = ["a.bin", "b.bin", "c.bin", "d.bin", "e.bin"];
    let calls = 0;
    let inFirstTask = -1;
    const store = new HttpStore(served.server.origin, {
      fetch: (input, init) => {
        // What the task that sent the first request went on to send before anything else ran.
        if (calls++ === 0) queueMicrotask(() => (inFirstTask = calls));
        return fetch(String(input).replace(/[a-e]\.bin$/, "f.bin"), init);
      },
    });
    const got = await Promise.all(names.map((n) => store.getRanges(n, [{ offset: 10, length: 5 }, { offset: 50_000, length: 5 }])));
    for (const parts of got) expect(parts).toEqual([file.slice(10, 15), file.slice(50_000, 50_005)]);
    expect(calls).toBe(names.length);
    expect(inFirstTask).toBe(names.length);
  });

  it("sends one request for the ranges of one file asked for in the same task, each caller getting its own", async () => {
    const store = new HttpStore(served.server.origin);
    const from = served.server.log.length;
    const [a, b, c] = await Promise.all([
      store.getRanges("f.bin", [{ offset: 10, length: 100 }, { offset: 50_000, length: 10 }]),
      store.getRanges("f.bin", [{ offset: 60, length: 100 }, { offset: 90_000, length: 5 }]),
      store.getRanges("f.bin", [{ offset: 20_000, length: 0 }]),
    ]);
    expect(a).toEqual([file.slice(10, 110), file.slice(50_000, 50_010)]);
    expect(b).toEqual([file.slice(60, 160), file.slice(90_000, 90_005)]);
    expect(c).toEqual([new Uint8Array(0)]);
    const gets = served.server.log.slice(from).filter((r) => r.method === "GET");
    // The overlapping 10–110 and 60–160 are one span: three spans in one request.
    expect(gets).toHaveLength(1);
    expect(gets[0]!.range).toBe("bytes=10-159,50000-50009,90000-90004");
  });

  it("a range past the end fails its caller only", async () => {
    const store = new HttpStore(served.server.origin, { retries: 0 });
    const [good, bad] = await Promise.allSettled([
      store.getRanges("f.bin", [{ offset: 0, length: 8 }, { offset: 70_000, length: 8 }]),
      store.getRanges("f.bin", [{ offset: 200_000, length: 8 }, { offset: 10, length: 8 }]),
    ]);
    expect(good).toEqual({ status: "fulfilled", value: [file.slice(0, 8), file.slice(70_000, 70_008)] });
    expect(bad).toMatchObject({ status: "rejected", reason: { code: "CORRUPT_FILE" } });
  });
});

describe("getRanges with a connection budget", () => {
  const file = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 17) % 253);
  const served = servedFile(file);

  /** `count` ranges of `length` bytes, `stride` bytes apart, read through `store`: the bytes, and the GETs it sent. */
  async function read(store: HttpStore, count: number, length: number, stride: number) {
    const ranges = Array.from({ length: count }, (_, i) => ({ offset: 7 + i * stride, length }));
    const from = served.server.log.length;
    const got = await store.getRanges("f.bin", ranges);
    got.forEach((bytes, i) => expect(bytes).toEqual(file.slice(ranges[i]!.offset, ranges[i]!.offset + length)));
    const gets = served.server.log.slice(from).filter((r) => r.method === "GET");
    return { gets, bytes: gets.reduce((n, r) => n + r.bytes, 0), asked: count * length };
  }

  it("packs up to BUDGET_RANGES_PER_REQUEST ranges per request (128 without a budget); far-apart ranges are not merged past the bytes asked", async () => {
    // 300 ranges of 10 bytes, 290 bytes apart: merging them all would read 29× what was asked.
    const free = await read(new HttpStore(served.server.origin), 300, 10, 300);
    expect(free.gets).toHaveLength(Math.ceil(300 / RANGES_PER_REQUEST));
    const budget = await read(new HttpStore(served.server.origin, { maxConnections: 6 }), 300, 10, 300);
    expect(budget.gets).toHaveLength(2);
    expect(budget.gets.every((r) => r.range!.split(",").length <= BUDGET_RANGES_PER_REQUEST)).toBe(true);
    // Ten 290-byte gaps fit in the 3,000 bytes asked; the body also carries the multipart headers.
    const parts = budget.gets.reduce((n, r) => n + r.range!.split(",").length, 0);
    expect(parts).toBe(300 - 10);
  });

  it("merges close ranges until the file's ranges fit one request, over-reading only the gaps", async () => {
    // 250 ranges of 100 bytes with 10-byte gaps: 58 merges (580 bytes of gaps) make 192 spans.
    const budget = await read(new HttpStore(served.server.origin, { maxConnections: 6 }), 250, 100, 110);
    expect(budget.gets).toHaveLength(1);
    expect(budget.gets[0]!.range!.split(",")).toHaveLength(BUDGET_RANGES_PER_REQUEST);
  });

  it("packSpans merges the smallest gaps first, within the bytes of the spans, and says where each span went", () => {
    const spans = [{ offset: 0, length: 10 }, { offset: 12, length: 10 }, { offset: 100, length: 10 }, { offset: 111, length: 10 }, { offset: 500, length: 0 }];
    const into = packSpans(spans, 2);
    expect(spans).toEqual([{ offset: 0, length: 22 }, { offset: 100, length: 21 }, { offset: 500, length: 0 }]);
    expect(into).toEqual([0, 0, 1, 1, 2]);
    // A 78-byte gap is more than the 40 bytes asked: left as it is.
    const far = [{ offset: 0, length: 20 }, { offset: 98, length: 20 }];
    expect(packSpans(far, 1)).toEqual([0, 1]);
    expect(far).toHaveLength(2);
  });
});
