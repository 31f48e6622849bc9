/**
 * HttpStore.getRanges batching (src/storage/http-ranges.ts): ranges of one file asked for by
 * several callers in the same task go out as one multi-range request, overlapping ranges are read
 * once, and a caller's bad range does not fail the others' reads.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpStore } from "../../src/storage/http-store.js";
import { serveStatic, type StaticServer } from "./static-server.js";

describe("HttpStore.getRanges from several callers at once", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-http-ranges-"));
  const file = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) % 251);
  let server: StaticServer;

  beforeAll(async () => {
    writeFileSync(join(dir, "f.bin"), file);
    server = await serveStatic(dir);
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends one request for the ranges of one file asked for in the same task, each caller getting its own", async () => {
    const store = new HttpStore(server.origin);
    const from = server.log.length;
    const [a, b, c] = await Promise.all([
      store.getRanges("f.bin", [{ offset: 10, length: 100 }, { offset: 50_000, length: 10 }]),
      store.getRanges("f.bin", [{ offset: 60, length: 100 }, { offset: 90_000, length: 5 }]),
      store.getRanges("f.bin", [{ offset: 20_000, length: 0 }]),
    ]);
    expect(a).toEqual([file.slice(10, 110), file.slice(50_000, 50_010)]);
    expect(b).toEqual([file.slice(60, 160), file.slice(90_000, 90_005)]);
    expect(c).toEqual([new Uint8Array(0)]);
    const gets = server.log.slice(from).filter((r) => r.method === "GET");
    // The overlapping 10–110 and 60–160 are one span: three spans in one request.
    expect(gets).toHaveLength(1);
    expect(gets[0]!.range).toBe("bytes=10-159,50000-50009,90000-90004");
  });

  it("a range past the end fails its caller only", async () => {
    const store = new HttpStore(server.origin, { retries: 0 });
    const [good, bad] = await Promise.allSettled([
      store.getRanges("f.bin", [{ offset: 0, length: 8 }, { offset: 70_000, length: 8 }]),
      store.getRanges("f.bin", [{ offset: 200_000, length: 8 }, { offset: 10, length: 8 }]),
    ]);
    expect(good).toEqual({ status: "fulfilled", value: [file.slice(0, 8), file.slice(70_000, 70_008)] });
    expect(bad).toMatchObject({ status: "rejected", reason: { code: "CORRUPT_FILE" } });
  });
});
