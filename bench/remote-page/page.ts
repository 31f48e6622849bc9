/**
 * The page of `npm run bench -- remote --http2`: opens the remote table "t" at a URL through the
 * public API and runs indexed queries one at a time, timing each in the page, so the bench can
 * tell the server's requests apart per query.
 */
import { connect, type Connection, type Table } from "quiverdb";

export interface RemoteBenchPage {
  /** connect + openTable; ms. `maxConnections` as HttpStore's option. */
  open(url: string, maxConnections: number): Promise<number>;
  /** `start`: performance.now() when the query began (for `requests`). */
  query(vector: number[], nprobes: number, refineFactor: number, k: number): Promise<{ ids: number[]; ms: number; start: number }>;
  /** The requests sent since `since` (performance.now()), as Resource Timing saw them, in ms from `since`. */
  requests(since: number): RequestTiming[];
  close(): Promise<void>;
}

export interface RequestTiming {
  url: string;
  /** fetch() called, request sent, first byte of the answer, last byte; ms. */
  start: number; requestStart: number; responseStart: number; responseEnd: number;
  bytes: number;
}

// Room for every request of a run (the default buffer holds 250 entries).
performance.setResourceTimingBufferSize(100_000);

let opened: { db: Connection; table: Table } | undefined;

const page: RemoteBenchPage = {
  async open(url, maxConnections) {
    const start = performance.now();
    const db = await connect(url, { http: { maxConnections } });
    opened = { db, table: await db.openTable("t") };
    return performance.now() - start;
  },
  async query(vector, nprobes, refineFactor, k) {
    const start = performance.now();
    const rows = await opened!.table.search(Float32Array.from(vector)).distanceType("cosine").nprobes(nprobes).refineFactor(refineFactor).select(["id"]).limit(k).toArray();
    return { ids: rows.map((r) => r.id as number), ms: performance.now() - start, start };
  },
  requests(since) {
    const at = (t: number): number => Math.round((t - since) * 10) / 10;
    return (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
      .filter((e) => e.startTime >= since)
      .map((e) => ({ url: e.name, start: at(e.startTime), requestStart: at(e.requestStart), responseStart: at(e.responseStart), responseEnd: at(e.responseEnd), bytes: e.encodedBodySize }));
  },
  async close() {
    await opened?.db.close();
    opened = undefined;
  },
};

(globalThis as unknown as { quiverRemoteBench: RemoteBenchPage }).quiverRemoteBench = page;
document.body.dataset.ready = "true";
