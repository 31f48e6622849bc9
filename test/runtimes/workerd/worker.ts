// A tiny Worker for test/runtimes/workerd.test.ts, importing the package's workerd entry (which
// registers the .wasm modules that workerd compiled at startup):
//   GET  /?flavor=…   one kernel search per flavor;
//   POST /remote      opens a read-only table over HTTP and answers a vector and a filtered query.
import { connect, loadKernels, type Row } from "../../../src/index.workerd.js";

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
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/remote") return await remote(request);
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
