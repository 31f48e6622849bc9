// What the sections share: elements, errors in a visitor's words, progress and build phases,
// downloads with progress, and table "generations" (a rebuild writes a new table and only replaces
// the old one once it is complete, so a failed rebuild leaves the old table searchable).
import { isQuiverError } from "quiverdb";
import type { RemoteConnection, RemoteTable } from "quiverdb/worker";
import { timeline, type Phase } from "./charts.js";

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`The page has no #${id}.`);
  return e as T;
};

export const ms = (x: number): string => (x < 10 ? x.toFixed(1) : x.toFixed(0)) + " ms";
export const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;

const FRIENDLY: Record<string, string> = {
  INVALID_FILTER: "That filter could not be read.",
  UNKNOWN_COLUMN: "The filter names a column this table does not have.",
  NETWORK_ERROR: "A download failed. Check your connection and try again.",
  QUOTA_EXCEEDED: "The browser has no room left for this table. Delete demo tables or free some space, then try again.",
  CLOSED: "The database worker stopped. Reload the page to start it again.",
  NOT_FOUND: "Something this table needs is missing.",
  EMBEDDING_FAILED: "The text encoder failed.",
  WASM_LOAD_FAILED: "This browser could not start the WebAssembly kernels.",
  COMMIT_CONFLICT: "Another tab changed this table at the same moment. Try again.",
  CORRUPT_FILE: "A stored file is damaged. Delete the demo tables and load the data again.",
  ABORTED: "Stopped.",
};

/** An error as a code and a sentence a visitor understands, with the technical message after it. */
export function explain(err: unknown): { code: string; text: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (isQuiverError(err)) return { code: err.code, text: FRIENDLY[err.code] ? `${FRIENDLY[err.code]} (${message})` : message };
  if (err instanceof TypeError && /fetch|network|load/i.test(message)) {
    return { code: "OFFLINE", text: `A download failed${navigator.onLine ? "" : " — you are offline"}. (${message})` };
  }
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : "ERROR";
  return { code, text: message };
}

export function showError(where: HTMLElement, err: unknown): void {
  const { code, text } = explain(err);
  const c = document.createElement("code");
  c.textContent = code;
  where.replaceChildren(c, ` ${text}`);
  where.classList.add("error");
}

export function showText(where: HTMLElement, text: string): void {
  where.classList.remove("error");
  where.textContent = text;
}

/** Calls `f` once input has paused for `wait` ms. */
export function debounce(f: () => void, wait: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(f, wait);
  };
}

/** A progress bar with its label, and the build's phases on a clock for the timeline chart. */
export class Progress {
  readonly #t0 = performance.now();
  readonly phases: Phase[] = [];

  constructor(readonly bar: HTMLProgressElement, readonly label: HTMLElement) {
    bar.value = 0;
    label.textContent = "";
  }

  report(phase: string, text: string, fraction: number): void {
    const now = performance.now() - this.#t0;
    const last = this.phases.at(-1);
    if (last?.name === phase) last.end = now;
    else {
      if (last) last.end = now;
      this.phases.push({ name: phase, start: now, end: now });
    }
    this.bar.value = Math.max(0, Math.min(1, fraction));
    this.label.textContent = text;
  }

  finish(text: string): Phase[] {
    const last = this.phases.at(-1);
    if (last) last.end = performance.now() - this.#t0;
    this.bar.value = 1;
    this.label.textContent = text;
    return this.phases;
  }
}

/** Saves a build's phases beside the table's name and draws them. */
export function showTimeline(where: HTMLElement, table: string, phases?: Phase[]): void {
  const key = `quiver-demo:timeline:${table}`;
  if (phases) localStorage.setItem(key, JSON.stringify(phases));
  const saved = phases ?? (JSON.parse(localStorage.getItem(key) ?? "null") as Phase[] | null);
  where.replaceChildren(saved && saved.length > 0 ? timeline(saved) : Object.assign(document.createElement("p"), { className: "muted", textContent: "No build recorded in this browser for this table." }));
}

/** GET `url` with a progress report per chunk; stops early once `limit(firstChunk)` bytes are in. */
export async function download(url: string, report: (done: number, total: number) => void, limit?: (head: Uint8Array) => number): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) {
    const why = res.status === 404 ? "it is not on the server (is the shared data folder there?)" : `the server answered ${res.status}`;
    throw Object.assign(new Error(`Could not download ${url}: ${why}.`), { code: "NETWORK_ERROR" });
  }
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
    report(got, want || got);
    if (want && got >= want) {
      await reader.cancel();
      break;
    }
  }
  const out = new Uint8Array(got);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return want && want < got ? out.subarray(0, want) : out;
}

// ── generations ────────────────────────────────────────────────────────────────────────────────
// A rebuild of `base` writes `base-g<time>`; when it is complete it is tagged "built" and older
// generations are dropped. A generation without the tag is a build that never finished.

export const BUILT_TAG = "built";

export function generationName(base: string): string {
  return `${base}-g${Date.now()}`;
}

function generationsOf(names: string[], base: string): string[] {
  return names.filter((n) => n.startsWith(`${base}-g`)).sort((a, b) => Number(b.slice(base.length + 2)) - Number(a.slice(base.length + 2)));
}

/** A build that has not finished in this long was interrupted (a closed tab), not still running in another. */
const ABANDONED_MS = 60 * 60 * 1000;

/** The newest complete generation of `base`, opened; abandoned unfinished ones are dropped. */
export async function openCurrent(db: RemoteConnection, base: string): Promise<RemoteTable | undefined> {
  for (const name of generationsOf(await db.tableNames(), base)) {
    const t = await db.openTable(name);
    const tags = await (await t.tags()).list();
    if (BUILT_TAG in tags) return t;
    t.close();
    if (Date.now() - Number(name.slice(base.length + 2)) > ABANDONED_MS) await db.dropTable(name);
  }
  return undefined;
}

/** Marks `table` complete and drops every other generation of `base`. */
export async function promote(db: RemoteConnection, base: string, table: RemoteTable): Promise<void> {
  await (await table.tags()).create(BUILT_TAG, await table.version());
  for (const name of generationsOf(await db.tableNames(), base)) if (name !== table.name) await db.dropTable(name);
}

/** Drops a generation whose build failed; the failure that made it matters more than this one. */
export async function discard(db: RemoteConnection, name: string): Promise<void> {
  try {
    if ((await db.tableNames()).includes(name)) await db.dropTable(name);
  } catch {
    // Left behind, it is dropped by the next openCurrent().
  }
}
