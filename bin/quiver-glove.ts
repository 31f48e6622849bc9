/**
 * The main job until the web demo exists: load the real GloVe 100-d set (100K words) into a Quiver
 * table and answer nearest-word queries with exact cosine search, printing neighbours and timings.
 *
 *   npm start                      # default words
 *   npm start -- paris piano 12    # your words, then an optional k
 */
import { performance } from "node:perf_hooks";
import { dataPath, hasData, loadGlove, recallAtK } from "../bench/datasets.js";
import { connect } from "../src/index.js";

const args = process.argv.slice(2);
const k = /^\d+$/.test(args.at(-1) ?? "") ? Number(args.pop()) : 8;
const words = args.length > 0 ? args : ["london", "korea", "piano", "physics", "soccer"];

if (!hasData("glove-100d-100k", "glove100k_base.fvecs")) {
  console.error(`GloVe data not found at ${dataPath("glove-100d-100k")}; set QUIVER_DATA to the shared data folder.`);
  process.exit(1);
}

const t0 = performance.now();
const glove = loadGlove("cosine");
const { base, queries, groundTruth } = glove;
const vocab = glove.words!;
const t1 = performance.now();
console.log(`read ${base.n} × ${base.dim} GloVe vectors in ${(t1 - t0).toFixed(0)} ms`);

const db = await connect("memory://glove");
const rows = Array.from({ length: base.n }, (_, i) => ({ id: i, word: vocab[i]!, vector: base.data.subarray(i * base.dim, (i + 1) * base.dim) }));
let lastShown = -1;
const table = await db.createTable("words", rows.slice(0, 1), { mode: "overwrite" });
await table.add(rows.slice(1), {
  progress: ({ rowsDone, rowsTotal }) => {
    const pct = Math.floor((100 * rowsDone) / rowsTotal);
    if (pct >= lastShown + 25 || rowsDone === rowsTotal) { lastShown = pct; process.stdout.write(`  ingest ${pct}% (${rowsDone}/${rowsTotal})\n`); }
  },
});
const t2 = performance.now();
console.log(`table "words": ${await table.countRows()} rows, ingested in ${(t2 - t1).toFixed(0)} ms`);

// A word is looked up among the table's words, then among the 1,000 held-out query words.
const inBase = new Map(vocab.map((w, i) => [w, i] as const));
const inQueries = new Map(glove.queryWords!.map((w, i) => [w, i] as const));
for (const word of words) {
  const w = word.toLowerCase();
  const id = inBase.get(w);
  const qid = inQueries.get(w);
  if (id === undefined && qid === undefined) { console.log(`\n"${word}" is not among the 101K most frequent words`); continue; }
  const vector = id !== undefined ? base.data.subarray(id * base.dim, (id + 1) * base.dim) : queries.data.subarray(qid! * queries.dim, (qid! + 1) * queries.dim);
  const s = performance.now();
  let search = table.search(vector).distanceType("cosine").select(["word"]).limit(k);
  if (id !== undefined) search = search.where(`id != ${id}`);
  const hits = await search.toArray();
  const ms = performance.now() - s;
  console.log(`\n${word} (${ms.toFixed(1)} ms): ${hits.map((h) => `${h.word as string} ${(1 - (h._distance as number)).toFixed(3)}`).join(", ")}`);
}

// The published query split: 1,000 held-out words, checked against the exact angular ground truth.
const times: number[] = [];
const found: number[][] = [];
for (let q = 0; q < queries.n; q++) {
  const s = performance.now();
  const hits = await table.search(queries.data.subarray(q * queries.dim, (q + 1) * queries.dim)).distanceType("cosine").select(["id"]).limit(10).toArray();
  times.push(performance.now() - s);
  found.push(hits.map((h) => h.id as number));
}
times.sort((a, b) => a - b);
console.log(`\n${queries.n} held-out queries, exact cosine top-10: recall@10 ${recallAtK(found, groundTruth, 10).toFixed(4)} vs ground truth, ` +
  `median ${times[times.length >> 1]!.toFixed(2)} ms, p99 ${times[Math.floor(times.length * 0.99)]!.toFixed(2)} ms per query`);
