/**
 * A static file server for tests, on 127.0.0.1 and a port the OS picks: GET and HEAD, single
 * `Range: bytes=a-b` / `bytes=a-` requests answered with 206, a content type by extension, and a
 * count of the body bytes it sent. Stands in for a CDN serving a published table (and for the
 * page a Vite build produced). `close()` drops open connections, so it never holds a test up.
 *
 * Multi-range requests (`bytes=a-b,c-d`) are answered as `options.multiRange` says, to stand in
 * for the servers found in the wild: "multipart" (nginx, Apache: 206 multipart/byteranges),
 * "first" (servers that read the first range only), "whole" (200 with the whole file), "refuse"
 * (416). `latencyMs` delays every answer, as a distant server would.
 *
 * `http2: true` serves over HTTP/2 with TLS (a certificate made for the run by the `openssl`
 * binary, so a browser must be told to ignore certificate errors), as static hosting does: a
 * browser then multiplexes every request over one connection instead of queueing them behind
 * its 6 HTTP/1.1 connections per host.
 */
import { execFileSync } from "node:child_process";
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from "node:http2";
import { tmpdir } from "node:os";
import { extname, join, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".wasm": "application/wasm",
};

export interface ServedRequest {
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly status: number;
  /** "1.1" or "2.0". */
  readonly httpVersion: string;
  /** Body bytes sent. */
  readonly bytes: number;
  /** When the request arrived and when its answer was handed to the socket (performance.now()). */
  readonly start: number;
  end: number;
}

export interface StaticServerOptions {
  multiRange?: "multipart" | "first" | "whole" | "refuse";
  latencyMs?: number;
  /**
   * CORS for pages of another origin: "full" answers preflights for the Range header (which a
   * browser sends before a multi-range request), "simple" only the headers of simple requests.
   */
  cors?: "full" | "simple";
  /** Serve HTTP/2 over TLS with a self-signed certificate for 127.0.0.1 (origin https://…). Default false. */
  http2?: boolean;
}

/** A self-signed certificate for 127.0.0.1 and localhost, valid one day, made by the `openssl` binary. */
export function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "quiver-tls-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Round trips of `requests`: the longest chain of requests each arriving after the one before was
 * answered (what latency multiplies); requests in flight together count once.
 */
export function roundTrips(requests: readonly ServedRequest[]): number {
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  sorted.forEach((r, i) => {
    depth[i] = 1 + Math.max(0, ...sorted.slice(0, i).map((q, j) => (q.end <= r.start ? depth[j]! : 0)));
  });
  return Math.max(0, ...depth);
}

/**
 * fetch with at most `limit` requests in flight (0: no limit), the others sent in the order they
 * were made as earlier ones finish: a browser's connections to one host over HTTP/1.1 (6).
 */
export function limitedFetch(limit: number): typeof fetch {
  if (limit <= 0) return fetch;
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (input, init) => {
    if (active >= limit) await new Promise<void>((go) => waiting.push(go));
    else active++;
    try {
      const response = await fetch(input, init);
      const body = new Uint8Array(await response.arrayBuffer());
      return new Response(response.status === 204 || init?.method === "HEAD" ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

export interface StaticServer {
  readonly origin: string;
  /** Every request answered so far. */
  readonly log: ServedRequest[];
  /** Body bytes sent so far. */
  bytesSent(): number;
  close(): Promise<void>;
}

export async function serveStatic(rootDir: string, options: StaticServerOptions = {}): Promise<StaticServer> {
  const root = resolve(rootDir);
  const log: ServedRequest[] = [];
  const handle = async (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): Promise<void> => {
    const arrived = performance.now();
    if (options.latencyMs) await new Promise((ok) => setTimeout(ok, options.latencyMs));
    const entry = (status: number, bytes: number): ServedRequest => {
      const served = { method: req.method ?? "", path, range: req.headers.range, status, httpVersion: req.httpVersion, bytes, start: arrived, end: performance.now() };
      log.push(served);
      res.once("finish", () => { served.end = performance.now(); });
      return served;
    };
    const done = (status: number, bytes = 0, headers: Record<string, string | number> = {}, body?: string | Uint8Array): void => {
      entry(status, bytes);
      res.writeHead(status, headers);
      if (body === undefined) res.end();
      else res.end(body);
    };
    let path = "";
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    } catch {
      return done(400);
    }
    if (options.cors !== undefined) {
      res.setHeader("Access-Control-Allow-Origin", "*");
      res.setHeader("Access-Control-Expose-Headers", "Content-Range, Content-Length, Content-Type, Accept-Ranges");
      if (req.method === "OPTIONS" && options.cors === "full") {
        return done(204, 0, { "Access-Control-Allow-Headers": "Range", "Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Max-Age": 600 });
      }
    }
    if (req.method !== "GET" && req.method !== "HEAD") return done(405);
    const file = resolve(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return done(403);
    const info = await stat(file).catch(() => undefined);
    const target = info?.isDirectory() ? join(file, "index.html") : file;
    const targetInfo = info?.isDirectory() ? await stat(target).catch(() => undefined) : info;
    if (!targetInfo?.isFile()) return done(404, 9, {}, "not found");
    const size = targetInfo.size;
    const headers: Record<string, string | number> = {
      "Content-Type": TYPES[extname(target)] ?? "application/octet-stream",
      "Accept-Ranges": "bytes",
      "Last-Modified": targetInfo.mtime.toUTCString(),
      "Cache-Control": "no-store",
    };
    let start = 0;
    let end = size - 1;
    let status = 200;
    let range = req.headers.range;
    const many = range !== undefined && range.includes(",") ? /^bytes=(\d+-\d+(?:,\d+-\d+)+)$/.exec(range) : null;
    if (range !== undefined && range.includes(",")) {
      const mode = options.multiRange ?? "multipart";
      if (!many || mode === "refuse") return done(416, 0, { "Content-Range": `bytes */${size}` });
      const parts = many[1]!.split(",").map((p) => p.split("-").map(Number) as [number, number]);
      if (mode === "first") range = `bytes=${parts[0]![0]}-${parts[0]![1]}`;
      else if (mode === "whole") range = undefined;
      else {
        if (parts.some(([a]) => a >= size)) return done(416, 0, { "Content-Range": `bytes */${size}` });
        // Synchronous reads: a multi-range answer is many small reads from the page cache, and a
        // thread-pool round trip each cost more than the reads (on a busy machine, hundreds of ms
        // for a query's requests of 64 ranges), where a static server or CDN answers at once.
        const fd = openSync(target, "r");
        const boundary = "quiver-test-boundary";
        const chunks: Uint8Array[] = [];
        try {
          for (const [a, b] of parts) {
            const last = Math.min(b, size - 1);
            const data = Buffer.alloc(last - a + 1);
            for (let at = 0, n = 1; at < data.length && n > 0; at += n) n = readSync(fd, data, at, data.length - at, a + at);
            chunks.push(Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ${a}-${last}/${size}\r\n\r\n`), data);
          }
        } finally {
          closeSync(fd);
        }
        chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`));
        const body = Buffer.concat(chunks);
        return done(206, req.method === "HEAD" ? 0 : body.length, { ...headers, "Content-Type": `multipart/byteranges; boundary=${boundary}`, "Content-Length": body.length }, req.method === "HEAD" ? undefined : body);
      }
    }
    if (range !== undefined) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (!m || Number(m[1]) >= size) return done(416, 0, { "Content-Range": `bytes */${size}` });
      start = Number(m[1]);
      end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    }
    const length = Math.max(0, end - start + 1);
    headers["Content-Length"] = length;
    if (req.method === "HEAD") return done(status, 0, headers);
    entry(status, length);
    res.writeHead(status, headers);
    if (length === 0) return void res.end();
    createReadStream(target, { start, end }).pipe(res as NodeJS.WritableStream);
  };
  if (options.http2) {
    const server = createSecureServer({ ...selfSignedCertificate(), allowHTTP1: false }, (req, res) => void handle(req, res));
    const sessions = new Set<Http2Session>();
    server.on("session", (session) => { sessions.add(session); session.once("close", () => sessions.delete(session)); });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const { port } = server.address() as { port: number };
    return {
      origin: `https://127.0.0.1:${port}`,
      log,
      bytesSent: () => log.reduce((sum, r) => sum + r.bytes, 0),
      close: () =>
        new Promise<void>((ok, fail) => {
          server.close((error) => (error ? fail(error) : ok()));
          for (const session of sessions) session.destroy();
        }),
    };
  }
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    bytesSent: () => log.reduce((sum, r) => sum + r.bytes, 0),
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((error) => (error ? fail(error) : ok()));
        server.closeAllConnections();
      }),
  };
}
