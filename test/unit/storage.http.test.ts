import { createServer, type Server } from "node:http";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "../../src/storage/fs-store.js";
import { HttpStore, writeHttpListing } from "../../src/storage/http-store.js";
import { assertRejects, blobStoreContract, bytes } from "./storage-contract.js";

/**
 * A static file server on 127.0.0.1 with Range support. The first path segment picks a behaviour:
 * `ok` (a proper server), `norange` (ignores Range, always 200), `nolength` (HEAD without
 * Content-Length), `broken` (500 for everything).
 */
const root = await mkdtemp(join(tmpdir(), "quiver-http-"));
let server: Server;
let origin = "";
let bodyBytesSent = 0;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url!, "http://127.0.0.1");
    const [mode, ...segments] = url.pathname.slice(1).split("/").map(decodeURIComponent);
    if (mode === "broken") return void res.writeHead(500).end("boom");
    if (segments.some((s) => s === "" || s === "." || s === "..")) return void res.writeHead(400).end();
    const path = join(root, ...segments);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return void res.writeHead(404).end("not found");
    const headers: Record<string, string | number> = { "Last-Modified": info.mtime.toUTCString(), "Accept-Ranges": "bytes" };
    if (req.method === "HEAD") {
      if (mode !== "nolength") headers["Content-Length"] = info.size;
      return void res.writeHead(200, headers).end();
    }
    const body = await readFile(path);
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    if (range && mode !== "norange") {
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), info.size - 1);
      if (start >= info.size) return void res.writeHead(416, { "Content-Range": `bytes */${info.size}` }).end();
      const part = body.subarray(start, end + 1);
      bodyBytesSent += part.length;
      return void res.writeHead(206, { ...headers, "Content-Range": `bytes ${start}-${end}/${info.size}`, "Content-Length": part.length }).end(part);
    }
    bodyBytesSent += body.length;
    res.writeHead(200, { ...headers, "Content-Length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  origin = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

let counter = 0;

/** Publishes `seed` as files (with a listing) in a fresh directory; returns the directory name. */
async function publish(seed: ReadonlyMap<string, Uint8Array>, listing = true): Promise<string> {
  const name = `pub${++counter}`;
  await mkdir(join(root, name), { recursive: true });
  for (const [key, data] of seed) {
    const path = join(root, name, ...key.split("/"));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  }
  if (listing) {
    const entries = [...seed].map(([key, data]) => ({ key, size: data.length }));
    await writeFile(join(root, name, "_listing.json"), JSON.stringify(entries));
  }
  return name;
}

describe("HttpStore contract (read-only)", () => {
  for (const c of blobStoreContract({
    readOnly: true,
    make: async (seed) => new HttpStore(`${origin}/ok/${await publish(seed)}`),
  })) {
    it(c.name, c.run);
  }
});

describe("HttpStore", () => {
  const big = bytes(1_000_000, 42);

  it("getRange fetches only the requested bytes, one request each", async () => {
    const dir = await publish(new Map([["data/big.frag", big]]));
    const store = new HttpStore(`${origin}/ok/${dir}`);
    const sentBefore = bodyBytesSent;
    expect(await store.getRange("data/big.frag", 400_000, 4096)).toEqual(big.slice(400_000, 404_096));
    expect(await store.getRange("data/big.frag", 999_990, 10)).toEqual(big.slice(999_990));
    expect(store.requests).toBe(2);
    expect(store.bytesFetched).toBe(4096 + 10);
    expect(bodyBytesSent - sentBefore).toBe(4096 + 10);
    expect((await store.head("data/big.frag"))?.size).toBe(1_000_000);
    expect(store.requests).toBe(3);
    await store.get("data/big.frag");
    expect(store.bytesFetched).toBe(4096 + 10 + 1_000_000);
  });

  it("a server that ignores Range still yields the right bytes, and the download stops early", async () => {
    const dir = await publish(new Map([["big", big]]));
    const store = new HttpStore(`${origin}/norange/${dir}`);
    expect(await store.getRange("big", 10, 100)).toEqual(big.slice(10, 110));
    expect(store.bytesFetched).toBeGreaterThanOrEqual(110);
    expect(store.bytesFetched).toBeLessThan(big.length / 2);
    expect(await store.getRange("big", 999_000, 1000)).toEqual(big.slice(999_000));
    await assertRejects(store.getRange("big", 999_000, 1001), "CORRUPT_FILE", "past the end without Range support");
  });

  it("head falls back to a one-byte range when HEAD has no Content-Length", async () => {
    const dir = await publish(new Map([["k", bytes(777, 1)]]));
    const store = new HttpStore(`${origin}/nolength/${dir}`);
    expect((await store.head("k"))?.size).toBe(777);
    expect(store.requests).toBe(2);
  });

  it("reads a body into one buffer of its Content-Length, and on past a Content-Length that undercounts it", async () => {
    const body = bytes(100_000, 3);
    // A stream that answers BYOB reads in pieces, as a network body does.
    const answer = (announced: number): Response => {
      let at = 0;
      const stream = new ReadableStream({
        type: "bytes",
        pull(controller) {
          const n = Math.min(7_000, body.length - at);
          if (n === 0) {
            controller.close();
            // A BYOB read waiting at the end is answered "done" by an empty response.
            return controller.byobRequest?.respond(0);
          }
          controller.enqueue(body.slice(at, at + n));
          at += n;
        },
      });
      return new Response(stream, { status: 200, headers: { "Content-Length": String(announced) } });
    };
    for (const announced of [body.length, 4_096]) {
      const store = new HttpStore("https://example.invalid/db", { fetch: async () => answer(announced) });
      const got = await store.get("k");
      expect(got).toEqual(body);
      expect(store.bytesFetched).toBe(body.length);
    }
  });

  it("uses the fetch it is given", async () => {
    const dir = await publish(new Map([["k", bytes(10, 1)]]));
    const urls: string[] = [];
    const store = new HttpStore(`${origin}/ok/${dir}/`, {
      fetch: (input, init) => {
        urls.push(`${init?.method} ${String(input)} ${JSON.stringify(init?.headers)}`);
        return fetch(input, init);
      },
      headers: { Authorization: "Bearer t" },
    });
    expect(store.uri).toBe(`${origin}/ok/${dir}`);
    await store.getRange("k", 2, 3);
    expect(urls).toEqual([`GET ${origin}/ok/${dir}/k {"Authorization":"Bearer t","Range":"bytes=2-4"}`]);
  });

  it("server errors surface with the URL and status; 404 is NOT_FOUND", async () => {
    const store = new HttpStore(`${origin}/broken/x`);
    await expect(store.get("k")).rejects.toThrow(`GET ${origin}/broken/x/k: HTTP 500`);
    await expect(store.head("k")).rejects.toThrow("HTTP 500");
    const ok = new HttpStore(`${origin}/ok/nowhere`);
    await assertRejects(ok.get("k"), "NOT_FOUND", "get");
    await assertRejects(ok.getRange("k", 0, 0), "NOT_FOUND", "empty getRange");
  });

  it("list needs the publisher's listing: UNSUPPORTED without it, CORRUPT_FILE when malformed", async () => {
    const dir = await publish(new Map([["k", bytes(10, 1)]]), false);
    const store = new HttpStore(`${origin}/ok/${dir}`);
    await assertRejects(store.list(""), "UNSUPPORTED", "no listing");
    await writeFile(join(root, dir, "_listing.json"), "[{");
    await assertRejects(store.list(""), "CORRUPT_FILE", "not JSON");
    await writeFile(join(root, dir, "_listing.json"), JSON.stringify([{ key: "k", size: -1 }]));
    await assertRejects(store.list(""), "CORRUPT_FILE", "bad entry");
  });

  it("a directory built with FsStore and writeHttpListing reads back the same over HTTP", async () => {
    const dir = `pub${++counter}`;
    const fsStore = await FsStore.open(join(root, dir));
    await fsStore.put("t.quiver/data/0.frag", bytes(5000, 1));
    await fsStore.putIfAbsent("t.quiver/_versions/1.manifest", bytes(300, 2));
    await writeHttpListing(fsStore);
    const store = new HttpStore(`${origin}/ok/${dir}`);
    const strip = (infos: { key: string; size: number }[]) => infos.map(({ key, size }) => ({ key, size }));
    expect(strip(await store.list("t.quiver/"))).toEqual(strip(await fsStore.list("t.quiver/")));
    expect((await store.list("")).map((i) => i.key)).not.toContain("_listing.json");
    expect(await store.getRange("t.quiver/data/0.frag", 1000, 10)).toEqual(bytes(5000, 1).slice(1000, 1010));
  });

  it("rejects URLs that cannot name a store", () => {
    for (const url of ["not a url", "ftp://x/y", "https://x/y?q=1", "https://x/y#f"]) {
      expect(() => new HttpStore(url)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });
});
