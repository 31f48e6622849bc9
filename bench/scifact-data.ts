/**
 * BEIR SciFact from ../shared/data/beir-scifact (see its SOURCE.md): 5,183 abstracts, the claims used
 * as queries, and the relevance judgments of the test (300 queries) and train (809) splits. Plus the
 * two BEIR metrics: nDCG@k (graded gain, log2 discount, ideal from the judgments) and Recall@k.
 * Shared by bench/scifact.ts and the quality test.
 */
import { readFileSync } from "node:fs";
import { dataPath, hasData } from "./datasets.js";

export interface ScifactDoc {
  id: string;
  title: string;
  text: string;
}

export interface ScifactQuery {
  id: string;
  text: string;
}

/** Query id → (document id → gain). */
export type Qrels = Map<string, Map<string, number>>;

export interface Scifact {
  corpus: ScifactDoc[];
  /** Queries that have judgments in `qrels`, in file order. */
  queries: ScifactQuery[];
  qrels: Qrels;
  split: "test" | "train";
}

export const SCIFACT_DIR = "beir-scifact";

export function hasScifact(): boolean {
  return hasData(SCIFACT_DIR, "corpus.jsonl") && hasData(SCIFACT_DIR, "queries.jsonl") && hasData(SCIFACT_DIR, "qrels", "test.tsv");
}

function jsonl<T>(file: string): T[] {
  return readFileSync(dataPath(SCIFACT_DIR, file), "utf8")
    .split("\n")
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as T);
}

export function readQrels(split: "test" | "train"): Qrels {
  const lines = readFileSync(dataPath(SCIFACT_DIR, "qrels", `${split}.tsv`), "utf8").split("\n");
  const qrels: Qrels = new Map();
  for (const line of lines.slice(1)) {
    const [q, d, s] = line.trim().split("\t");
    if (!q || !d || s === undefined) continue;
    const gain = Number(s);
    if (gain <= 0) continue;
    if (!qrels.has(q)) qrels.set(q, new Map());
    qrels.get(q)!.set(d, gain);
  }
  return qrels;
}

export function loadScifact(split: "test" | "train" = "test"): Scifact {
  const corpus = jsonl<{ _id: string; title?: string; text?: string }>("corpus.jsonl").map((d) => ({
    id: String(d._id),
    title: d.title ?? "",
    text: d.text ?? "",
  }));
  const qrels = readQrels(split);
  const queries = jsonl<{ _id: string; text: string }>("queries.jsonl")
    .map((q) => ({ id: String(q._id), text: q.text }))
    .filter((q) => qrels.has(q.id));
  return { corpus, queries, qrels, split };
}

/** nDCG@k of one ranking (document ids, best first) against one query's judgments. */
export function ndcgAt(ranked: readonly string[], judged: ReadonlyMap<string, number> | undefined, k = 10): number {
  if (!judged || judged.size === 0) return 0;
  let dcg = 0;
  const seen = new Set<string>();
  for (let i = 0; i < Math.min(k, ranked.length); i++) {
    const id = ranked[i]!;
    if (seen.has(id)) continue; // a document counts once
    seen.add(id);
    const g = judged.get(id) ?? 0;
    if (g > 0) dcg += g / Math.log2(i + 2);
  }
  const ideal = [...judged.values()].sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i]! / Math.log2(i + 2);
  return idcg > 0 ? dcg / idcg : 0;
}

/** Recall@k: judged-relevant documents found in the first k, over all judged-relevant ones. */
export function recallAt(ranked: readonly string[], judged: ReadonlyMap<string, number> | undefined, k = 100): number {
  if (!judged || judged.size === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  let hit = 0;
  for (const [id, g] of judged) if (g > 0 && top.has(id)) hit++;
  return hit / judged.size;
}

/** Mean nDCG@10 and Recall@100 over `queries` given a ranking function. */
export function evaluate(
  data: Pick<Scifact, "queries" | "qrels">,
  rank: (q: ScifactQuery) => readonly string[],
): { ndcg10: number; recall100: number; perQuery: number[] } {
  let ndcg = 0;
  let recall = 0;
  const perQuery: number[] = [];
  for (const q of data.queries) {
    const ranked = rank(q);
    const n = ndcgAt(ranked, data.qrels.get(q.id), 10);
    perQuery.push(n);
    ndcg += n;
    recall += recallAt(ranked, data.qrels.get(q.id), 100);
  }
  return { ndcg10: ndcg / data.queries.length, recall100: recall / data.queries.length, perQuery };
}
