/**
 * The page of `npm run bench -- remote --http2`: opens the remote table "t" at a URL through the
 * public API and runs indexed queries one at a time, timing each in the page, so the bench can
 * tell the server's requests apart per query.
 */
import { connect, type Connection, type Table } from "quiverdb";

export interface RemoteBenchPage {
  /** connect + openTable; ms. `maxConnections` as HttpStore's option. */
  open(url: string, maxConnections: number): Promise<number>;
  query(vector: number[], nprobes: number, refineFactor: number, k: number): Promise<{ ids: number[]; ms: number }>;
  close(): Promise<void>;
}

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
    return { ids: rows.map((r) => r.id as number), ms: performance.now() - start };
  },
  async close() {
    await opened?.db.close();
    opened = undefined;
  },
};

(globalThis as unknown as { quiverRemoteBench: RemoteBenchPage }).quiverRemoteBench = page;
document.body.dataset.ready = "true";
