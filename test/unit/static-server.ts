/**
 * A static file server for tests, on 127.0.0.1 and a port the OS picks: GET and HEAD, single
 * `Range: bytes=a-b` / `bytes=a-` requests answered with 206, a content type by extension, and a
 * count of the body bytes it sent. Stands in for a CDN serving a published table (and for the
 * page a Vite build produced). `close()` drops open connections, so it never holds a test up.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
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
  /** Body bytes sent. */
  readonly bytes: number;
}

export interface StaticServer {
  readonly origin: string;
  /** Every request answered so far. */
  readonly log: ServedRequest[];
  /** Body bytes sent so far. */
  bytesSent(): number;
  close(): Promise<void>;
}

/**
 * `cors: true` lets pages of other origins read the files (a CDN serving published tables to a page
 * on another host): every answer allows any origin and exposes the range headers, and a preflight
 * OPTIONS is answered.
 */
export async function serveStatic(rootDir: string, options: { cors?: boolean } = {}): Promise<StaticServer> {
  const root = resolve(rootDir);
  const log: ServedRequest[] = [];
  const server = createServer(async (req, res) => {
    if (options.cors) {
      res.setHeader("Access-Control-Allow-Origin", "*");
      res.setHeader("Access-Control-Expose-Headers", "Content-Range, Content-Length, Accept-Ranges");
    }
    const done = (status: number, bytes = 0, headers: Record<string, string | number> = {}, body?: string): void => {
      log.push({ method: req.method ?? "", path, range: req.headers.range, status, bytes });
      res.writeHead(status, headers).end(body);
    };
    if (options.cors && req.method === "OPTIONS") {
      return done(204, 0, { "Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Allow-Headers": "Range", "Access-Control-Max-Age": "600" });
    }
    let path = "";
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    } catch {
      return done(400);
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
    const range = req.headers.range;
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
    log.push({ method: "GET", path, range, status, bytes: length });
    res.writeHead(status, headers);
    if (length === 0) return void res.end();
    createReadStream(target, { start, end }).pipe(res);
  });
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
