/**
 * HttpStore's connection budget (`maxConnections`): never more requests in flight than it allows,
 * the others sent as connections free up, reads a query waits on before reads ahead of need, which
 * never hold the last free connection. The
 * fetch here answers only when the test says so, so the order of sending is observed exactly.
 */
import { describe, expect, it } from "vitest";
import { isQuiverError } from "../../src/errors.js";
import { HttpStore } from "../../src/storage/http-store.js";
// Loaded ahead, as a store that read before would have: requests then queue at once.
import "../../src/storage/http-connections.js";
import "../../src/storage/http-ranges.js";

const FILE = Uint8Array.from({ length: 256 }, (_, i) => i);

/** A fetch whose answers wait for `answer()`; `sent` lists the requests in the order they were sent. */
function heldFetch() {
  const sent: string[] = [];
  const held: (() => void)[] = [];
  let inFlight = 0;
  let most = 0;
  const fetch = (async (input: string, init: RequestInit) => {
    const [, a, b] = /bytes=(\d+)-(\d+)/.exec((init.headers as Record<string, string>).Range ?? "")!;
    sent.push(`${String(input).split("/").pop()}@${a}`);
    most = Math.max(most, ++inFlight);
    await new Promise<void>((go, stop) => {
      held.push(go);
      init.signal?.addEventListener("abort", () => stop(init.signal!.reason), { once: true });
    }).finally(() => inFlight--);
    const body = FILE.slice(Number(a), Number(b) + 1);
    return new Response(body, { status: 206, headers: { "Content-Range": `bytes ${a}-${b}/${FILE.length}` } });
  }) as unknown as typeof globalThis.fetch;
  /** Lets the oldest held request answer, then waits until the store has reacted. */
  const answer = async (): Promise<void> => {
    held.shift()!();
    for (let i = 0; i < 20; i++) await Promise.resolve();
    await new Promise((go) => setTimeout(go, 0));
  };
  const settle = (): Promise<void> => new Promise((go) => setTimeout(go, 0));
  /** Answers requests as they come until `reads` are all settled. */
  const drain = async (reads: readonly Promise<unknown>[]): Promise<void> => {
    let done = false;
    const all = Promise.allSettled(reads).then(() => (done = true));
    while (!done) await (held.length > 0 ? answer() : settle());
    await all;
  };
  return { fetch, sent, answer, settle, drain, most: () => most, held: () => held.length };
}

/** Through one connection: a query's read, two reads ahead (a.qvf, b.qvf), then the query's next read. */
function queryAndAhead(store: HttpStore): Promise<Uint8Array>[] {
  return [
    store.getRange("index.qvi", 0, 8),
    store.getRange("a.qvf", 100, 8, { ahead: true }),
    store.getRange("b.qvf", 100, 8, { ahead: true }),
    store.getRange("index.qvi", 64, 8),
  ];
}

describe("HttpStore maxConnections", () => {
  it("sends at most maxConnections requests at once, the rest as answers come back, all answered right", async () => {
    const f = heldFetch();
    const store = new HttpStore("http://cdn.test/db", { fetch: f.fetch, maxConnections: 3 });
    const reads = Array.from({ length: 10 }, (_, i) => store.getRange("f.bin", i * 10, 4));
    await f.settle();
    expect(f.sent).toHaveLength(3);
    await f.answer();
    expect(f.sent).toHaveLength(4);
    await f.drain(reads);
    const got = await Promise.all(reads);
    got.forEach((bytes, i) => expect(Array.from(bytes)).toEqual([i * 10, i * 10 + 1, i * 10 + 2, i * 10 + 3]));
    expect(f.most()).toBe(3);
    expect(store.requests).toBe(10);
  });

  it("without a budget (the default) every request goes out at once", async () => {
    const f = heldFetch();
    const store = new HttpStore("http://cdn.test/db", { fetch: f.fetch });
    const reads = Array.from({ length: 10 }, (_, i) => store.getRange("f.bin", i, 1));
    await f.settle();
    expect(f.sent).toHaveLength(10);
    await f.drain(reads);
    await Promise.all(reads);
  });

  it("reads a query waits on go before reads ahead of need that were queued earlier", async () => {
    const f = heldFetch();
    const store = new HttpStore("http://cdn.test/db", { fetch: f.fetch, maxConnections: 1 });
    const reads = queryAndAhead(store);
    await f.settle();
    // Multi-range reads (getRanges) are reads a query waits on too.
    reads.push(store.getRanges("c.qvf", [{ offset: 16, length: 4 }, { offset: 20, length: 4 }]).then((b) => b[0]!));
    await f.settle();
    await f.drain(reads);
    await Promise.all(reads);
    expect(f.sent).toEqual(["index.qvi@0", "index.qvi@64", "c.qvf@16", "a.qvf@100", "b.qvf@100"]);
  });

  it("reads ahead leave the last free connection to the reads a query waits on", async () => {
    const f = heldFetch();
    const store = new HttpStore("http://cdn.test/db", { fetch: f.fetch, maxConnections: 3 });
    const reads = Array.from({ length: 5 }, (_, i) => store.getRange(`f${i}.qvf`, 0, 8, { ahead: true }));
    await f.settle();
    expect(f.sent).toHaveLength(2);
    reads.push(store.getRange("index.qvi", 0, 8));
    await f.settle();
    expect(f.sent).toEqual(["f0.qvf@0", "f1.qvf@0", "index.qvi@0"]);
    await f.drain(reads);
    expect(f.sent).toHaveLength(6);
    expect(f.most()).toBe(3);
  });

  it("a read ahead that a query now waits on (needed) goes before the other reads ahead, after the reads already waited on", async () => {
    const f = heldFetch();
    const store = new HttpStore("http://cdn.test/db", { fetch: f.fetch, maxConnections: 1 });
    const reads = queryAndAhead(store);
    await f.settle();
    store.needed("b.qvf");
    await f.drain(reads);
    expect(f.sent).toEqual(["index.qvi@0", "index.qvi@64", "b.qvf@100", "a.qvf@100"]);
  });

  it("an abort rejects the requests in flight and the waiting ones with ABORTED", async () => {
    const f = heldFetch();
    const controller = new AbortController();
    const store = new HttpStore("http://cdn.test/db", { fetch: f.fetch, maxConnections: 1, signal: controller.signal });
    const reads = [store.getRange("f.bin", 0, 4), store.getRange("f.bin", 8, 4, { ahead: true }), store.getRange("f.bin", 16, 4)];
    const outcomes = reads.map((r) => r.then(() => "answered", (e: unknown) => (isQuiverError(e) ? e.code : String(e))));
    await f.settle();
    controller.abort();
    expect(await Promise.all(outcomes)).toEqual(["ABORTED", "ABORTED", "ABORTED"]);
    expect(f.sent).toHaveLength(1);
  });

  it("rejects a budget that is not a non-negative number", () => {
    for (const bad of [-1, Number.NaN, Infinity]) {
      let caught: unknown;
      try {
        new HttpStore("http://cdn.test/db", { maxConnections: bad, fetch: heldFetch().fetch });
      } catch (error) {
        caught = error;
      }
      expect(isQuiverError(caught) && caught.code).toBe("INVALID_ARGUMENT");
    }
  });
});
