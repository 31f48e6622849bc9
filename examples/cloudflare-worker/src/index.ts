// A Cloudflare Worker with a table that persists: one Durable Object owns the database (its
// storage holds the files), the Worker routes requests to it.
//
//   POST /notes   {"id": 1, "text": "…", "vector": [...]}   adds a note
//   POST /search  {"vector": [...], "limit": 5}              nearest notes
//   GET  /count                                              how many notes
import { connect, Index, type Table } from "quiverdb";
import { DurableObjectStore, type DurableObjectStorageLike } from "quiverdb/edge";

interface Env {
  NOTES: { idFromName(name: string): unknown; get(id: unknown): { fetch(request: Request): Promise<Response> } };
}

type Note = {
  id: number;
  text: string;
  vector: number[];
};

export class NotesDatabase {
  readonly #storage: DurableObjectStorageLike;

  constructor(state: { storage: DurableObjectStorageLike }) {
    this.#storage = state.storage;
  }

  async fetch(request: Request): Promise<Response> {
    const db = await connect(new DurableObjectStore(this.#storage, "notes"));
    try {
      const path = new URL(request.url).pathname;
      if (path === "/notes" && request.method === "POST") {
        const note = (await request.json()) as Note;
        const table = await notes(db, note);
        if (table === undefined) return Response.json({ added: 1, version: 1 });
        const { version } = await table.add([note]);
        // An index once there is enough to partition; rows added later are searched exactly until optimize().
        if ((await table.countRows()) === 256) await table.createIndex("vector", { config: Index.ivfFlat({ numPartitions: 8 }) });
        return Response.json({ added: 1, version });
      }
      const table = await db.openTable("notes");
      if (path === "/search" && request.method === "POST") {
        const { vector, limit = 5 } = (await request.json()) as { vector: number[]; limit?: number };
        return Response.json(await table.search(vector).select(["id", "text"]).limit(limit).toArray());
      }
      if (path === "/count") return Response.json({ count: await table.countRows(), version: await table.version() });
      return new Response("not found", { status: 404 });
    } catch (error) {
      const e = error as { code?: string; message?: string };
      return Response.json({ error: e.code ?? "INTERNAL", message: e.message }, { status: e.code === "TABLE_NOT_FOUND" ? 404 : 400 });
    } finally {
      await db.close();
    }
  }
}

/** The notes table, or undefined when this note just created it. */
async function notes(db: Awaited<ReturnType<typeof connect>>, first: Note): Promise<Table | undefined> {
  if ((await db.tableNames()).includes("notes")) return db.openTable("notes");
  try {
    await db.createTable("notes", [first]);
    return undefined;
  } catch (e) {
    if ((e as { code?: string }).code !== "TABLE_EXISTS") throw e;
    return db.openTable("notes");
  }
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return env.NOTES.get(env.NOTES.idFromName("notes")).fetch(request);
  },
};
