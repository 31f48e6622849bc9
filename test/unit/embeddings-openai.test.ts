/**
 * The "openai" function against a local server on 127.0.0.1 that speaks `POST /v1/embeddings`.
 * Each test scripts the server's answers; the server records every request and closes at the end.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getRegistry, withBatching, embedRows, type OpenAIEmbeddingFunction, type OpenAIOptions } from "../../src/embeddings/index.js";
import { isQuiverError, type QuiverError } from "../../src/errors.js";

interface Seen { url: string; auth: string | undefined; body: { model: string; input: string[]; dimensions?: number; encoding_format?: string } }
type Script = (req: Seen, res: ServerResponse) => void;

let server: Server;
let baseUrl = "";
const seen: Seen[] = [];
let script: Script[] = [];

/** A fake embedding of `dims` numbers derived from the text, so results can be checked. */
const fake = (text: string, dims = 4): number[] => Array.from({ length: dims }, (_, i) => text.length + i / 10 + (text.codePointAt(0) ?? 0) / 1000);

const ok: Script = (req, res) => {
  const dims = req.body.dimensions ?? 4;
  // Answers out of order, as the API allows: `index` says which input each vector belongs to.
  const data = req.body.input.map((t, index) => ({ object: "embedding", index, embedding: fake(t, dims) })).reverse();
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data, model: req.body.model }));
};
const status = (code: number, body: unknown = { error: { message: `status ${code}` } }, headers: Record<string, string> = {}): Script => (_req, res) =>
  void res.writeHead(code, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
const hang: Script = () => {}; // never answers

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      const s: Seen = { url: req.url ?? "", auth: req.headers.authorization, body: JSON.parse(raw) as Seen["body"] };
      seen.push(s);
      const next = script.length > 1 ? script.shift()! : script[0] ?? ok;
      next(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterEach(() => {
  seen.length = 0;
  script = [];
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const create = (o: OpenAIOptions = {}): OpenAIEmbeddingFunction =>
  getRegistry().get("openai").create({ baseUrl, model: "test-embed", retryDelayMs: 1, ...o }) as OpenAIEmbeddingFunction;

const failure = async (p: Promise<unknown>): Promise<QuiverError> => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(isQuiverError(e), `expected a QuiverError, got ${String(e)}`).toBe(true);
  return e as QuiverError;
};

describe("openai embedding function", () => {
  it("posts batches to /embeddings and puts vectors back in input order", async () => {
    const fn = withBatching(create({ apiKey: "sk-test-1", batchSize: 3 }), { cache: false });
    const texts = ["alpha", "be", "c", "delta!", "e", "ffff", "g"];
    const progress: number[] = [];
    const out = await fn.embed(texts, { progress: (p) => progress.push(p.done) });
    expect(seen.map((s) => s.body.input)).toEqual([["alpha", "be", "c"], ["delta!", "e", "ffff"], ["g"]]);
    expect(seen.every((s) => s.url === "/v1/embeddings" && s.auth === "Bearer sk-test-1" && s.body.model === "test-embed" && s.body.encoding_format === "float")).toBe(true);
    expect(progress).toEqual([3, 6, 7]);
    texts.forEach((t, i) => expect(Array.from(out[i]!)).toEqual(fake(t).map(Math.fround)));
    expect(fn.ndims()).toBe(4); // learned from the first answer
  });

  it("sends dimensions, and embeds queries", async () => {
    const fn = create({ apiKey: "k", dimensions: 8 });
    expect(fn.ndims()).toBe(8);
    const q = await fn.computeQueryEmbeddings("hello");
    expect(q.length).toBe(8);
    expect(seen[0]!.body).toMatchObject({ input: ["hello"], dimensions: 8 });
  });

  it("reads the key from the named environment variable at request time", async () => {
    process.env.QUIVER_TEST_OPENAI_KEY = "sk-from-env";
    try {
      await create({ apiKeyEnv: "QUIVER_TEST_OPENAI_KEY" }).computeSourceEmbeddings(["x"]);
      expect(seen[0]!.auth).toBe("Bearer sk-from-env");
    } finally {
      delete process.env.QUIVER_TEST_OPENAI_KEY;
    }
    const e = await failure(create({ apiKeyEnv: "QUIVER_TEST_OPENAI_KEY" }).computeSourceEmbeddings(["x"]));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/QUIVER_TEST_OPENAI_KEY/);
    expect(seen.length).toBe(1); // the keyless call never went out
  });

  it("sends no key to a local server when none is configured", async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      await create().computeSourceEmbeddings(["x"]);
      expect(seen[0]!.auth).toBeUndefined();
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it("retries 429 and 5xx with backoff, honouring Retry-After", async () => {
    script = [status(429, { error: { message: "slow down" } }, { "retry-after": "0" }), status(502), ok];
    const [v] = await create({ apiKey: "k" }).computeSourceEmbeddings(["retry me"]);
    expect(Array.from(v!)).toEqual(fake("retry me").map(Math.fround));
    expect(seen.length).toBe(3);
  });

  it("gives up after maxRetries with EMBEDDING_FAILED", async () => {
    script = [status(503, { error: { message: "overloaded" } })];
    const e = await failure(create({ apiKey: "sk-secret-9", maxRetries: 2 }).computeSourceEmbeddings(["x"]));
    expect(e.code).toBe("EMBEDDING_FAILED");
    expect(e.details).toMatchObject({ status: 503, attempts: 3 });
    expect(e.message).toMatch(/answered 503: overloaded.*3 attempts/);
    expect(e.message).not.toContain("sk-secret-9");
    expect(seen.length).toBe(3);
  });

  it("maps 401, 404 and 400 to clear errors without retrying", async () => {
    script = [status(401, { error: { message: "Incorrect API key provided" } })];
    const e401 = await failure(create({ apiKey: "sk-bad" }).computeSourceEmbeddings(["x"]));
    expect(e401.code).toBe("INVALID_ARGUMENT");
    expect(e401.message).toMatch(/rejected the API key.*Incorrect API key.*apiKey option/);
    expect(e401.message).not.toContain("sk-bad");
    script = [status(404, { error: { message: "model not found" } })];
    expect((await failure(create({ apiKey: "k" }).computeSourceEmbeddings(["x"]))).code).toBe("NOT_FOUND");
    script = [status(400, "plain text complaint")];
    const e400 = await failure(create({ apiKey: "k" }).computeSourceEmbeddings(["x"]));
    expect(e400.code).toBe("INVALID_ARGUMENT");
    expect(e400.message).toMatch(/plain text complaint/);
    expect(seen.length).toBe(3);
  });

  it("rejects malformed answers", async () => {
    script = [(_req, res) => void res.writeHead(200).end(JSON.stringify({ data: [{ index: 0, embedding: [1] }] }))];
    expect((await failure(create({ apiKey: "k" }).computeSourceEmbeddings(["a", "b"]))).code).toBe("EMBEDDING_FAILED");
    script = [(_req, res) => void res.writeHead(200).end("<html>")];
    expect((await failure(create({ apiKey: "k" }).computeSourceEmbeddings(["a"]))).message).toMatch(/not JSON/);
  });

  it("times out a request that never answers", async () => {
    script = [hang];
    const e = await failure(create({ apiKey: "k", timeoutMs: 200, maxRetries: 1 }).computeSourceEmbeddings(["x"]));
    expect(e.code).toBe("EMBEDDING_FAILED");
    expect(e.message).toMatch(/timed out.*2 attempts/);
    expect(seen.length).toBe(2);
  });

  it("fills a vector column through embedRows", async () => {
    const rows = await embedRows({ sourceColumn: "text", vectorColumn: "emb", function: create({ apiKey: "k" }) }, [{ text: "one two" }, { text: null }]);
    expect(Array.from(rows[0]!.emb as Float32Array)).toEqual(fake("one two").map(Math.fround));
    expect(rows[1]!.emb).toBeNull();
  });
});
