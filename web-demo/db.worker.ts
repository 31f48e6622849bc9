// The demo's database: one Quiver connection (OPFS, or IndexedDB where OPFS is missing), two tables.
import { connect, Index, isQuiverError, type Connection, type Table } from "quiverdb";
import type { DocsReply, OpenReply, Progress, RecallReply, Reply, Request, TableInfo, WordsReply, WordsSettings } from "./protocol.js";

const DB = "quiver-demo";
const GLOVE = "/data/glove-100d-100k/";
const SCIFACT = "/data/beir-scifact/corpus.jsonl";

let db: Connection | undefined;
let backend: OpenReply["backend"] = "OPFS";
let words: Table | undefined;
let scifact: Table | undefined;
let wordRows = 100_000;

const post = (reply: Reply) => (self as unknown as Worker).postMessage(reply);
const progress = (p: Progress) => post({ progress: p });
const wordsTableName = () => (wordRows === 100_000 ? "words" : `words_${wordRows}`);

async function database(): Promise<Connection> {
  if (db) return db;
  try {
    if (typeof navigator.storage?.getDirectory !== "function") throw new Error("no OPFS");
    await navigator.storage.getDirectory();
    db = await connect(`opfs://${DB}`);
    backend = "OPFS";
  } catch {
    db = await connect(`idb://${DB}`);
    backend = "IndexedDB";
  }
  return db;
}

/** Opens a table only if a previous run finished it (its index exists); half-built tables are rebuilt. */
async function reopen(name: string, indexColumn: string): Promise<{ table: Table; info: TableInfo } | undefined> {
  const conn = await database();
  const start = performance.now();
  if (!(await conn.tableNames()).includes(name)) return undefined;
  const table = await conn.openTable(name);
  const indexed = (await table.listIndices()).some((i) => i.columns.includes(indexColumn));
  if (!indexed) return undefined;
  const info = { version: await table.version(), rows: await table.countRows(), ms: performance.now() - start };
  return { table, info };
}

/** Reads the body of `url`, reporting bytes; stops once `limit(bytesSoFar)` bytes are in. */
async function download(url: string, table: Progress["table"], label: string, limit?: (head: Uint8Array) => number): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  const total = Number(res.headers.get("Content-Length") ?? 0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let got = 0;
  let want = total;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    got += value.length;
    if (limit && parts.length === 1) want = Math.min(total || Infinity, limit(value));
    progress({ table, label: `${label}: ${(got / 1e6).toFixed(1)} MB`, fraction: want ? Math.min(1, got / want) : 0 });
    if (want && got >= want) { await reader.cancel(); break; }
  }
  const out = new Uint8Array(got);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return want && want < got ? out.subarray(0, want) : out;
}

async function buildWords(): Promise<TableInfo> {
  const conn = await database();
  const n = wordRows;
  const start = performance.now();
  // .fvecs: each row is an int32 dimension followed by that many float32s.
  const rowBytes = (head: Uint8Array) => 4 + 4 * new DataView(head.buffer, head.byteOffset).getInt32(0, true);
  const bytes = await download(GLOVE + "glove100k_base.fvecs", "words", "download vectors", (head) => n * rowBytes(head));
  const dim = new DataView(bytes.buffer, bytes.byteOffset).getInt32(0, true);
  const raw = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const text = new TextDecoder().decode(await download(GLOVE + "glove100k_base_words.txt", "words", "download words"));
  const vocab = text.split("\n");
  const count = Math.min(n, raw.length / (dim + 1), vocab.length);
  const rows = Array.from({ length: count }, (_, i) => ({
    id: i,
    word: vocab[i]!,
    vector: raw.subarray(i * (dim + 1) + 1, (i + 1) * (dim + 1)),
  }));

  const table = await conn.createTable(wordsTableName(), rows.slice(0, 1), { mode: "overwrite" });
  await table.add(rows.slice(1), {
    progress: (p) => progress({ table: "words", label: `ingest ${p.rowsDone + 1} / ${count} rows`, fraction: (p.rowsDone + 1) / count }),
  });
  progress({ table: "words", label: "building IVF_PQ index", fraction: 0 });
  await table.createIndex("vector", {
    config: Index.ivfPq({ distanceType: "cosine", numSubVectors: 25 }),
    progress: (p) => progress({ table: "words", label: `index: ${p.phase} ${p.done} / ${p.total}`, fraction: p.total ? p.done / p.total : 0 }),
  });
  words = table;
  return { version: await table.version(), rows: await table.countRows(), ms: performance.now() - start };
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

function vectorSearch(table: Table, vector: Float32Array, s: WordsSettings) {
  let q = table.search(vector).distanceType("cosine").limit(s.k);
  q = s.exact ? q.bypassVectorIndex() : q.nprobes(s.nprobes).refineFactor(s.refineFactor);
  return q;
}

async function searchWords(word: string, s: WordsSettings): Promise<WordsReply> {
  if (!words) throw new Error("Load the words table first.");
  const start = performance.now();
  const [row] = await words.query().where(`word = ${quote(word.trim().toLowerCase())}`).select(["id", "vector"]).limit(1).toArray();
  const lookupMs = performance.now() - start;
  if (!row) return { hits: [], ms: 0, lookupMs, found: false };
  const t = performance.now();
  const hits = await vectorSearch(words, row.vector as Float32Array, s).where(`id != ${row.id as number}`).select(["word"]).toArray();
  return {
    hits: hits.map((h) => ({ word: h.word as string, similarity: 1 - (h._distance as number) })),
    ms: performance.now() - t,
    lookupMs,
    found: true,
  };
}

async function recall(s: WordsSettings): Promise<RecallReply> {
  if (!words) throw new Error("Load the words table first.");
  const r = await words.estimateRecall({ distanceType: "cosine", k: s.k, queries: 100, ...(s.exact ? {} : { nprobes: s.nprobes, refineFactor: s.refineFactor }) });
  // The exact toggle asks for exact search, whose recall is 1 by definition; the estimate then shows the index's defaults.
  return { recall: r.recall, k: r.k, queries: r.queries, msPerQuery: r.msPerQuery, exactMsPerQuery: r.exactMsPerQuery };
}

async function buildScifact(): Promise<TableInfo> {
  const conn = await database();
  const start = performance.now();
  const text = new TextDecoder().decode(await download(SCIFACT, "scifact", "download corpus"));
  const rows = text.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const d = JSON.parse(l) as { _id: string; title: string; text: string };
    return { id: d._id, title: d.title, text: d.text, chars: d.text.length };
  });
  const table = await conn.createTable("scifact", rows.slice(0, 1), { mode: "overwrite" });
  await table.add(rows.slice(1), {
    progress: (p) => progress({ table: "scifact", label: `ingest ${p.rowsDone + 1} / ${rows.length} abstracts`, fraction: (p.rowsDone + 1) / rows.length }),
  });
  await table.createIndex("text", {
    config: Index.fts(),
    progress: (p) => progress({ table: "scifact", label: `full-text index ${p.done} / ${p.total}`, fraction: p.total ? p.done / p.total : 0 }),
  });
  scifact = table;
  return { version: await table.version(), rows: await table.countRows(), ms: performance.now() - start };
}

async function searchScifact(query: string, where: string, k: number): Promise<DocsReply> {
  if (!scifact) throw new Error("Load the SciFact table first.");
  const start = performance.now();
  let q = scifact.search(query, "fts").select(["id", "title", "text"]).limit(k);
  if (where.trim() !== "") q = q.where(where);
  const hits = await q.toArray();
  return {
    hits: hits.map((h) => ({ id: h.id as string, title: h.title as string, text: (h.text as string).slice(0, 240), score: h._score as number })),
    ms: performance.now() - start,
  };
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case "open": {
      wordRows = req.rows;
      await database();
      const w = await reopen(wordsTableName(), "vector");
      const s = await reopen("scifact", "text");
      words = w?.table;
      scifact = s?.table;
      return { backend, words: w?.info, scifact: s?.info } satisfies OpenReply;
    }
    case "buildWords": wordRows = req.rows; return buildWords();
    case "searchWords": return searchWords(req.word, req.settings);
    case "recall": return recall(req.settings);
    case "buildScifact": return buildScifact();
    case "searchScifact": return searchScifact(req.query, req.where, req.k);
    case "reset": {
      await (await database()).dropAllTables();
      words = scifact = undefined;
      return null;
    }
  }
}

// One request at a time, in order: a search never races the build that makes its table.
let queue: Promise<unknown> = Promise.resolve();
self.onmessage = (e: MessageEvent<{ id: number; req: Request }>) => {
  const { id, req } = e.data;
  queue = queue.then(async () => {
    try {
      post({ id, ok: true, value: await handle(req) });
    } catch (err) {
      const code = isQuiverError(err) ? err.code : "ERROR";
      post({ id, ok: false, code, message: err instanceof Error ? err.message : String(err) });
    }
  });
};
