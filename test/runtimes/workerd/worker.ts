// A tiny Worker for test/runtimes/workerd.test.ts, importing the package's workerd entry (which
// registers the .wasm modules that workerd compiled at startup):
//   GET  /?flavor=…   one kernel search per flavor;
//   POST /remote      opens a read-only table over HTTP and answers a vector and a filtered query;
//   /do/<name>/…      forwarded to the Durable Object <name> (class TableObject below), whose
//                     storage (on local disk in the test's config) holds a writable table.
import { connect, Index, loadKernels, type Row } from "../../../src/index.workerd.js";
import { DurableObjectStore, type DurableObjectStorageLike } from "../../../src/edge.js";
import { blobStoreContract } from "../../unit/storage-contract.js";

interface Env {
  TABLES: { idFromName(name: string): unknown; get(id: unknown): { fetch(request: Request): Promise<Response> } };
}

const vectorOf = (i: number): number[] => [i % 17, (i * 7) % 13, 1, (i % 5) / 5];

/**
 * A Durable Object owning one Quiver database in its storage:
 *   POST /contract            the BlobStore contract against fresh stores in this object's storage
 *   POST /create              a table of 300 rows, then 200 more, 10 deleted, an IVF_FLAT index
 *   POST /append?from=&n=     appends rows from..from+n, one commit each
 *   GET  /inspect             ids, version, count, the nearest ids to row 42, index types
 */
export class TableObject {
  readonly #storage: DurableObjectStorageLike;

  constructor(state: { storage: DurableObjectStorageLike }) {
    this.#storage = state.storage;
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const op = url.pathname.split("/").at(-1);
    try {
      if (op === "contract") {
        let n = 0;
        const cases = blobStoreContract({
          make: async () => new DurableObjectStore(this.#storage, `contract-${n++}`, { chunkBytes: 4096 }),
          reopen: async (store) => new DurableObjectStore(this.#storage, store.uri.slice("durable-object://".length), { chunkBytes: 4096 }),
        });
        const failed: string[] = [];
        for (const c of cases) await c.run().catch((e: Error) => failed.push(`${c.name}: ${e.message}`));
        return Response.json({ cases: cases.length, failed });
      }
      const db = await connect(new DurableObjectStore(this.#storage, "app"));
      try {
        if (op === "create") {
          const t = await db.createTable("docs", Array.from({ length: 300 }, (_, i) => ({ id: i, vector: vectorOf(i) })));
          await t.add(Array.from({ length: 200 }, (_, i) => ({ id: 300 + i, vector: vectorOf(300 + i) })));
          await t.delete("id < 10");
          await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 4 }) });
          return Response.json({ version: await t.version() });
        }
        const t = await db.openTable("docs");
        if (op === "append") {
          const from = Number(url.searchParams.get("from"));
          const n = Number(url.searchParams.get("n"));
          for (let i = from; i < from + n; i++) await t.add([{ id: i, vector: vectorOf(i) }]);
          return Response.json({ done: n });
        }
        const ids = (await t.query().select(["id"]).toArray()).map((r) => r.id as number).sort((a, b) => a - b);
        return Response.json({
          ids, version: await t.version(), count: await t.countRows(),
          nearest: (await t.search(vectorOf(42)).select(["id"]).limit(3).toArray()).map((r) => r.id),
          indices: (await t.listIndices()).map((i) => i.indexType),
        });
      } finally {
        await db.close();
      }
    } catch (error) {
      const e = error as { code?: string; message?: string; stack?: string };
      return Response.json({ error: e.code ?? "unknown", message: e.message, stack: e.stack }, { status: 500 });
    }
  }
}

interface RemoteRequest {
  base: string;
  table: string;
  vector: number[];
  where: string;
}

async function remote(request: Request): Promise<Response> {
  const { base, table, vector, where } = (await request.json()) as RemoteRequest;
  const db = await connect(base);
  try {
    const t = await db.openTable(table);
    const strip = (rows: Row[]) => rows.map((r) => ({ ...r, _distance: Math.round((r._distance as number) * 1e4) / 1e4 }));
    return Response.json({
      tables: await db.tableNames(),
      count: await t.countRows(),
      nearest: strip(await t.search(vector).select(["id", "category"]).limit(5).toArray()),
      filteredNearest: strip(await t.search(vector).where(where).select(["id", "category"]).limit(5).toArray()),
      filtered: await t.query().where(where).select(["id", "year"]).limit(20).toArray(),
      readOnly: await t.add([]).then(() => "none", (e: { code?: string }) => e.code ?? String(e)),
    });
  } finally {
    await db.close();
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/remote") return await remote(request);
      if (url.pathname.startsWith("/do/")) return await env.TABLES.get(env.TABLES.idFromName(url.pathname.split("/")[2]!)).fetch(request);
      const flavor = (url.searchParams.get("flavor") ?? "auto") as "auto" | "simd" | "scalar";
      const kernels = await loadKernels({ flavor });
      const dim = 3;
      const block = kernels.upload(new Float32Array([0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 1, 1]), dim);
      const hits = kernels.search("l2", [0.9, 0.1, 0], [{ block }], dim, 3);
      block.free();
      return Response.json({
        flavor: kernels.flavor,
        rows: Array.from(hits.row),
        distances: Array.from(hits.distance, (d) => Math.round(d * 1000) / 1000),
      });
    } catch (error) {
      const e = error as { code?: string; message?: string; stack?: string };
      return Response.json({ error: e.code ?? "unknown", message: e.message, stack: e.stack }, { status: 500 });
    }
  },
};
