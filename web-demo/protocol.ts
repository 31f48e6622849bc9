// Messages between the page (main.ts) and the database worker (db.worker.ts). The database lives in
// a dedicated worker so progress bars repaint while rows convert and indexes train, and so OPFS gets
// its fast synchronous access handles.

export interface WordsSettings {
  k: number;
  nprobes: number;
  refineFactor: number;
  exact: boolean;
}

export type Request =
  | { op: "open"; rows: number }
  | { op: "buildWords"; rows: number }
  | { op: "searchWords"; word: string; settings: WordsSettings }
  | { op: "recall"; settings: WordsSettings }
  | { op: "buildScifact" }
  | { op: "searchScifact"; query: string; where: string; k: number }
  | { op: "reset" };

export interface OpenReply {
  backend: "OPFS" | "IndexedDB";
  words?: TableInfo;
  scifact?: TableInfo;
}

export interface TableInfo {
  version: number;
  rows: number;
  ms: number;
}

export interface WordHit { word: string; similarity: number }
export interface WordsReply { hits: WordHit[]; ms: number; lookupMs: number; found: boolean }

export interface RecallReply { recall: number; k: number; queries: number; msPerQuery: number; exactMsPerQuery: number }

export interface DocHit { id: string; title: string; text: string; score: number }
export interface DocsReply { hits: DocHit[]; ms: number }

/** A request's id, then either its reply or a QuiverError's code and message. */
export type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; code: string; message: string }
  | { progress: Progress };

export interface Progress {
  table: "words" | "scifact";
  label: string;
  /** 0 … 1 */
  fraction: number;
}
