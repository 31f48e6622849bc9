// A Deno HTTP function with a table in Deno KV (a local file here; Deno Deploy's KV when deployed).
//
//   deno run --unstable-kv --allow-net --allow-read --allow-write examples/deno-function/main.ts [kv file] [port] [hostname]
//
//   POST /notes   {"id": 1, "text": "…", "vector": [...]}   adds a note
//   POST /search  {"vector": [...], "limit": 5}              nearest notes
//   GET  /count                                              how many notes
import { connect, Index, type Row, type Table } from "quiverdb";
import { DenoKvStore } from "quiverdb/edge";

declare const Deno: {
  args: string[];
  openKv(path?: string): Promise<never>;
  serve(options: { port: number; hostname?: string; onListen?: (addr: { port: number }) => void }, handler: (request: Request) => Promise<Response>): unknown;
};

const [path, port = "8000", hostname = "0.0.0.0"] = Deno.args;
const db = await connect(new DenoKvStore(await Deno.openKv(path), "notes"));

async function table(first?: Row): Promise<Table | undefined> {
  if ((await db.tableNames()).includes("notes")) return db.openTable("notes");
  if (first === undefined) return undefined;
  try {
    await db.createTable("notes", [first]);
    return undefined;
  } catch (e) {
    if ((e as { code?: string }).code !== "TABLE_EXISTS") throw e;
    return db.openTable("notes");
  }
}

Deno.serve({ port: Number(port), hostname, onListen: ({ port }) => console.log(JSON.stringify({ listening: port })) }, async (request) => {
  const route = new URL(request.url).pathname;
  try {
    if (route === "/notes" && request.method === "POST") {
      const note = await request.json();
      const t = await table(note);
      if (t === undefined) return Response.json({ added: 1, version: 1 });
      const { version } = await t.add([note]);
      if ((await t.countRows()) === 256) await t.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 8 }) });
      return Response.json({ added: 1, version });
    }
    const t = await table();
    if (t === undefined) return Response.json({ error: "TABLE_NOT_FOUND" }, { status: 404 });
    if (route === "/search" && request.method === "POST") {
      const { vector, limit = 5 } = await request.json();
      return Response.json(await t.search(vector).select(["id", "text"]).limit(limit).toArray());
    }
    if (route === "/count") return Response.json({ count: await t.countRows(), version: await t.version() });
    return new Response("not found", { status: 404 });
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return Response.json({ error: e.code ?? "INTERNAL", message: e.message }, { status: 400 });
  }
});
