/**
 * The HTTP store against a server that misbehaves on demand (a real node:http server on loopback):
 * stalls, cut connections, 503s, wrong ranges, cancellation. Every failure is typed, bounded in
 * time, retried where a retry may cure it, and never returned as data.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isQuiverError } from "../../src/index.js";
import { HttpStore } from "../../src/storage/http-store.js";

const FILE = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 255);
type Behaviour = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

let server: Server;
let origin: string;
let behaviour: Behaviour;
let hits = 0;
const sockets = new Set<Socket>();

/** Answers like a good static server: ranges with 206, HEAD with Content-Length. */
function serveWell(req: IncomingMessage, res: ServerResponse): void {
  const range = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "");
  if (req.method === "HEAD") { res.writeHead(200, { "Content-Length": FILE.length }).end(); return; }
  if (range) {
    const [a, b] = [Number(range[1]), Math.min(Number(range[2]), FILE.length - 1)];
    res.writeHead(206, { "Content-Range": `bytes ${a}-${b}/${FILE.length}`, "Content-Length": b - a + 1 }).end(FILE.subarray(a, b + 1));
    return;
  }
  res.writeHead(200, { "Content-Length": FILE.length }).end(FILE);
}

beforeAll(async () => {
  server = createServer((req, res) => behaviour(req, res, ++hits));
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function store(options: ConstructorParameters<typeof HttpStore>[1] = {}): HttpStore {
  hits = 0;
  return new HttpStore(`${origin}/db`, { timeoutMs: 300, retries: 2, retryDelayMs: 5, ...options });
}

async function failure(p: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown>; ms: number }> {
  const start = performance.now();
  try {
    await p;
  } catch (e) {
    if (!isQuiverError(e)) throw new Error(`untyped: ${String(e)}`);
    return { code: e.code, details: e.details, ms: performance.now() - start };
  }
  throw new Error("expected a failure");
}

describe("HttpStore against a misbehaving server", () => {
  it("a server that never answers times out with NETWORK_ERROR, each attempt bounded", async () => {
    behaviour = () => {}; // never answers
    const f = await failure(store().getRange("t/f", 0, 10));
    expect(f.code).toBe("NETWORK_ERROR");
    expect(f.details).toMatchObject({ timedOut: true, attempts: 3 });
    expect(hits).toBe(3);
    expect(f.ms).toBeLessThan(5_000);
  });

  it("a body that stalls halfway times out too", async () => {
    behaviour = (_req, res) => { res.writeHead(200, { "Content-Length": FILE.length }); res.write(FILE.subarray(0, 100)); };
    const f = await failure(store({ retries: 0 }).get("t/f"));
    expect(f).toMatchObject({ code: "NETWORK_ERROR", details: { timedOut: true } });
  });

  it("a connection cut mid-body is NETWORK_ERROR (not TypeError: terminated), and is retried", async () => {
    behaviour = (_req, res, hit) => {
      if (hit === 1) { res.writeHead(200, { "Content-Length": FILE.length }); res.write(FILE.subarray(0, 100)); res.socket?.destroy(); return; }
      serveWell(_req, res);
    };
    expect(await store().get("t/f")).toEqual(FILE);
    expect(hits).toBe(2);
    behaviour = (_req, res) => { res.writeHead(200, { "Content-Length": FILE.length }); res.write(FILE.subarray(0, 100)); res.socket?.destroy(); };
    const f = await failure(store({ retries: 1 }).get("t/f"));
    expect(f).toMatchObject({ code: "NETWORK_ERROR", details: { attempts: 2, timedOut: false } });
  });

  it("one 503 is retried and the read succeeds; 503 forever fails after the retries with the status", async () => {
    behaviour = (req, res, hit) => (hit === 1 ? res.writeHead(503, { "Retry-After": "0" }).end() : serveWell(req, res));
    expect(await store().getRange("t/f", 100, 50)).toEqual(FILE.subarray(100, 150));
    expect(hits).toBe(2);
    behaviour = (_req, res) => res.writeHead(503).end();
    const f = await failure(store().getRange("t/f", 0, 10));
    expect(f).toMatchObject({ code: "NETWORK_ERROR", details: { status: 503 } });
    expect(hits).toBe(3);
  });

  it("403 is not retried and says to check the headers", async () => {
    behaviour = (_req, res) => res.writeHead(403).end();
    const s = store();
    const err = await s.get("t/f").catch((e) => e);
    expect(err).toMatchObject({ code: "NETWORK_ERROR", details: { status: 403 } });
    expect(String(err.message)).toMatch(/Authorization/);
    expect(hits).toBe(1);
  });

  it("a 206 for other bytes than asked is never returned as data", async () => {
    behaviour = (_req, res) => res.writeHead(206, { "Content-Range": `bytes 0-9/${FILE.length}`, "Content-Length": 10 }).end(FILE.subarray(0, 10));
    const f = await failure(store().getRange("t/f", 100, 10));
    expect(f.code).toBe("NETWORK_ERROR");
    expect(hits).toBe(3);
  });

  it("an AbortSignal cancels a pending read (ABORTED), and every later one", async () => {
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => { arrived = resolve; });
    behaviour = () => arrived(); // the request reaches the server, which never answers
    const controller = new AbortController();
    const s = store({ signal: controller.signal, timeoutMs: 0 });
    const pending = failure(s.get("t/f"));
    await reached;
    controller.abort();
    expect((await pending).code).toBe("ABORTED");
    expect((await failure(s.head("t/f"))).code).toBe("ABORTED");
  });

  it("404 stays NOT_FOUND, without retries", async () => {
    behaviour = (_req, res) => res.writeHead(404).end();
    expect((await failure(store().get("t/f"))).code).toBe("NOT_FOUND");
    expect(hits).toBe(1);
  });

  it("bad options are INVALID_ARGUMENT", () => {
    expect(() => new HttpStore(`${origin}/db`, { timeoutMs: -1 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
