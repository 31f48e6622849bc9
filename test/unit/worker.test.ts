/**
 * The public API suite (api-suite.ts) in-thread and through a Node worker_threads worker, plus what
 * only the worker hop has: transfers, typed errors, worker ownership and death.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel, type Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Connection } from "../../src/connection.js";
import { QuiverError } from "../../src/errors.js";
import type { Table } from "../../src/table.js";
import { connectThrough, type RemoteConnection, type RemoteTable } from "../../src/worker/client.js";
import { toEndpoint } from "../../src/util/worker-endpoint.js";
import { serve } from "../../src/worker/service.js";
import { apiSuite, makeRows } from "./api-suite.js";
import { startTsWorker } from "./worker-harness.js";

// The same API both ways, checked by the type checker (npm run typecheck): every public member of
// Table exists on RemoteTable with a compatible type (tags() gives the same methods, not the class),
// and every public member of Connection exists on RemoteConnection.
type Missing<T, U> = Exclude<keyof T, keyof U>;
export const tableSurface = (t: RemoteTable): Omit<Table, "tags"> => t;
export const connectionSurface: [Missing<Connection, RemoteConnection>] extends [never] ? true : false = true;

const connectWorker = (uri: string, worker: Worker, options = {}): Promise<RemoteConnection> =>
  connectThrough(uri, { ...options, worker }, () => {
    throw new Error("the tests pass their worker");
  });

describe("Table API in-thread (memory://)", () => {
  for (const c of apiSuite({ connect: (name, options) => connect(`memory://${name}`, options) })) it(c.name, c.run);
});

describe("Table API through a worker_threads worker", () => {
  let worker: Worker;
  const dir = mkdtempSync(join(tmpdir(), "quiver-worker-"));
  beforeAll(() => {
    worker = startTsWorker();
  });
  afterAll(async () => {
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("memory://", () => {
    for (const c of apiSuite({ connect: (name, options) => connectWorker(`memory://${name}`, worker, options) })) it(c.name, c.run);
  });

  describe("file system", () => {
    for (const c of apiSuite({ connect: (name, options) => connectWorker(join(dir, name), worker, options) })) it(c.name, c.run);
  });

  it("queries in flight at once each get their own answer", async () => {
    const db = await connectWorker("memory://", worker);
    const rows = makeRows(500);
    const t = await db.createTable("t", rows);
    const queries = rows.slice(0, 40).map((r) => r.vector as number[]);
    const sequential: unknown[] = [];
    for (const q of queries) sequential.push(await t.search(q).select(["id"]).limit(3).toArray());
    const parallel = await Promise.all(queries.map((q) => t.search(q).select(["id"]).limit(3).toArray()));
    expect(parallel).toEqual(sequential);
    expect(parallel.map((hits) => (hits as { id: number }[])[0]!.id)).toEqual(rows.slice(0, 40).map((r) => r.id));
    await db.close();
  });

  it("options that cannot be cloned into a worker are refused up front", async () => {
    for (const options of [{ http: { signal: new AbortController().signal } }, { http: { fetch } }]) {
      const start = (): never => { throw new Error("no worker may start"); };
      await expect(connectThrough("https://example.invalid/db", options, start)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });

  it("a network failure arrives typed across the hop, with what failed", async () => {
    // Port 1 on the loopback interface: nothing listens, so every attempt fails at once.
    const db = await connectWorker("http://127.0.0.1:1/db", worker);
    const error = await db.tableNames().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuiverError);
    expect(error).toMatchObject({ code: "NETWORK_ERROR", details: { attempts: 4 } });
    expect((error as Error).message).toMatch(/connection failed \(fetch failed\)/);
    await db.close();
  });

  it("a read-only store refuses writes with READ_ONLY across the hop", async () => {
    const db = await connectWorker("http://127.0.0.1:1/db", worker);
    await expect(db.createTable("t", [{ x: 1 }])).rejects.toMatchObject({ code: "READ_ONLY", name: "QuiverError" });
    await db.close();
  });
});

describe("the worker hop", () => {
  /** A service on one end of a MessageChannel in this thread, the client on the other, both recorded. */
  function channel() {
    const { port1, port2 } = new MessageChannel();
    /** Per message posted: the byte lengths of the buffers it transferred, before and after posting. */
    const sent = { client: [] as { before: number[]; after: number[] }[], service: [] as { before: number[]; after: number[] }[] };
    const record = (port: typeof port1, log: typeof sent.client) => ({
      postMessage: (message: unknown, transfer?: Transferable[]) => {
        const buffers = (transfer ?? []) as ArrayBuffer[];
        const before = buffers.map((b) => b.byteLength);
        port.postMessage(message, transfer as never);
        log.push({ before, after: buffers.map((b) => b.byteLength) });
      },
      addEventListener: (type: string, listener: EventListenerOrEventListenerObject) => port.addEventListener(type, listener as never),
      removeEventListener: (type: string, listener: EventListenerOrEventListenerObject) => port.removeEventListener(type, listener as never),
      start: () => port.start(),
    });
    serve(toEndpoint(record(port2, sent.service)));
    return { client: record(port1, sent.client), sent, close: () => { port1.close(); port2.close(); } };
  }

  it("moves query vectors to the worker and result vectors back instead of copying them", async () => {
    const { client, sent, close } = channel();
    try {
      const db = await connectThrough("memory://", { worker: client }, () => client);
      const t = await db.createTable("t", makeRows(50));
      const q = new Float32Array(8).fill(0.25);
      sent.client.length = 0;
      sent.service.length = 0;
      const hits = await t.search(q).limit(4).toArray();
      // One 8 × f32 query vector went over, and was detached here: moved, not copied.
      expect(sent.client).toEqual([{ before: [32], after: [0] }]);
      expect(q.byteLength).toBe(32); // the plan's copy moved, not the caller's vector
      // Four result vectors came back the same way.
      expect(sent.service).toEqual([{ before: [32, 32, 32, 32], after: [0, 0, 0, 0] }]);
      expect(hits.map((h) => (h.vector as Float32Array).length)).toEqual([8, 8, 8, 8]);
      expect(hits.every((h) => h.vector instanceof Float32Array)).toBe(true);
      // Scans without vectors move nothing.
      sent.service.length = 0;
      await t.query().select(["id"]).limit(3).toArray();
      expect(sent.service).toEqual([{ before: [], after: [] }]);
      await db.close();
    } finally {
      close();
    }
  });

  it("a worker the connection started ends with close(); one passed in keeps running", async () => {
    const own = startTsWorker();
    const exited = once(own, "exit");
    const db = await connectThrough("memory://", {}, () => own);
    await db.createTable("t", [{ x: 1 }]);
    await db.close();
    expect((await exited)[0]).toBe(1); // terminate() ends a worker thread with code 1
    expect(db.isOpen()).toBe(false);

    const shared = startTsWorker();
    try {
      const a = await connectWorker("memory://shared-a", shared);
      const b = await connectWorker("memory://shared-a", shared);
      await (await a.createTable("t", [{ x: 1 }])).add([{ x: 2 }]);
      await a.close();
      expect(await (await b.openTable("t")).countRows()).toBe(2);
      await b.close();
    } finally {
      await shared.terminate();
    }
  });

  it("calls on a dead worker fail with CLOSED instead of waiting forever", async () => {
    const doomed = startTsWorker();
    const db = await connectWorker("memory://", doomed);
    const t = await db.createTable("t", makeRows(10));
    await Promise.all([doomed.terminate(), once(doomed, "exit")]);
    await expect(t.countRows()).rejects.toMatchObject({ code: "CLOSED", message: expect.stringMatching(/worker stopped: it exited/) });
    await expect(db.tableNames()).rejects.toBeInstanceOf(QuiverError);
  });

  it("a worker whose script fails to load rejects connect() with CLOSED", async () => {
    const broken = startTsWorker("data:text/javascript,throw new Error('no such worker')");
    await expect(connectThrough("memory://", {}, () => broken)).rejects.toMatchObject({
      code: "CLOSED", message: expect.stringMatching(/no such worker/),
    });
  });

  it("connectWorker takes URI strings only", async () => {
    await expect(connectThrough({} as string, {}, () => { throw new Error("not started"); })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
