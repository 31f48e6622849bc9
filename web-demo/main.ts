// The page: forms and results. All database work happens in db.worker.ts, through the public quiverdb API.
import type { DocsReply, OpenReply, Progress, RecallReply, Reply, Request, TableInfo, WordsReply, WordsSettings } from "./protocol.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
// ?n=10000 loads the first 10,000 words only (faster; the browser test uses it).
const wordRows = Math.max(1, Math.min(100_000, Number(params.get("n")) || 100_000));

class RequestError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

const worker = new Worker(new URL("./db.worker.ts", import.meta.url), { type: "module", name: "quiver-demo" });
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
let nextId = 1;
worker.onmessage = (e: MessageEvent<Reply>) => {
  const reply = e.data;
  if ("progress" in reply) return showProgress(reply.progress);
  const p = pending.get(reply.id)!;
  pending.delete(reply.id);
  if (reply.ok) p.resolve(reply.value);
  else p.reject(new RequestError(reply.code, reply.message));
};
worker.onerror = (e) => showError($("status"), new RequestError("WORKER", e.message || "the database worker failed to start"));

function call<T>(req: Request): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ id, req });
  });
}

function showProgress(p: Progress): void {
  ($(`${p.table}-progress`) as HTMLProgressElement).value = p.fraction;
  $(`${p.table}-progress-label`).textContent = p.label;
}

function showError(where: HTMLElement, err: unknown): void {
  const code = err instanceof RequestError ? err.code : "ERROR";
  const message = err instanceof Error ? err.message : String(err);
  where.textContent = "";
  const c = document.createElement("code");
  c.textContent = code;
  where.append(c, ` ${message}`);
  where.classList.add("error");
}

const ms = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0)) + " ms";

function setState(section: "words" | "scifact", state: "idle" | "loading" | "ready" | "error"): void {
  const el = $(section);
  el.dataset.state = state;
  for (const input of el.querySelectorAll<HTMLInputElement | HTMLButtonElement>("form input, form button")) input.disabled = state !== "ready";
  $<HTMLButtonElement>(`${section}-build`).disabled = state === "loading";
  $<HTMLButtonElement>(`${section}-build`).textContent = state === "ready" ? "Rebuild" : section === "words" ? `Load ${wordRows.toLocaleString("en")} GloVe words` : "Load SciFact";
  if (state === "ready") { ($(`${section}-progress`) as HTMLProgressElement).value = 1; }
}

function ready(section: "words" | "scifact", info: TableInfo, verb: string): void {
  setState(section, "ready");
  const infoEl = $(`${section}-info`);
  infoEl.classList.remove("error");
  infoEl.textContent = `${verb} table v${info.version} in ${ms(info.ms)} — ${info.rows.toLocaleString("en")} rows`;
  $(`${section}-progress-label`).textContent = verb === "opened existing" ? "" : "done";
}

async function build(section: "words" | "scifact"): Promise<void> {
  setState(section, "loading");
  $(`${section}-info`).textContent = "";
  try {
    const info = await call<TableInfo>(section === "words" ? { op: "buildWords", rows: wordRows } : { op: "buildScifact" });
    ready(section, info, "built");
  } catch (err) {
    setState(section, "error");
    showError($(`${section}-info`), err);
  }
}

function wordsSettings(): WordsSettings {
  const num = (id: string) => Number($<HTMLInputElement>(id).value);
  return { k: num("words-k"), nprobes: num("words-nprobes"), refineFactor: num("words-refine"), exact: $<HTMLInputElement>("words-exact").checked };
}

async function searchWords(): Promise<void> {
  const word = $<HTMLInputElement>("words-query").value.trim();
  if (!word) return;
  const out = $("words-results");
  const timing = $("words-timing");
  timing.classList.remove("error");
  try {
    const r = await call<WordsReply>({ op: "searchWords", word, settings: wordsSettings() });
    out.replaceChildren();
    if (!r.found) { timing.textContent = `"${word}" is not among the table's words`; return; }
    const s = wordsSettings();
    timing.textContent = `${r.hits.length} nearest in ${ms(r.ms)} (${s.exact ? "exact scan" : `IVF_PQ, nprobes ${s.nprobes}, refine ×${s.refineFactor}`}; word lookup ${ms(r.lookupMs)})`;
    for (const h of r.hits) {
      const li = document.createElement("li");
      li.innerHTML = `<span class="word"></span><span class="score">${h.similarity.toFixed(3)}</span>`;
      li.querySelector(".word")!.textContent = h.word;
      out.append(li);
    }
  } catch (err) { showError(timing, err); }
}

async function estimateRecall(): Promise<void> {
  const timing = $("words-timing");
  timing.classList.remove("error");
  timing.textContent = "estimating recall on 100 sample queries…";
  try {
    const r = await call<RecallReply>({ op: "recall", settings: wordsSettings() });
    timing.textContent = `recall@${r.k} ≈ ${r.recall.toFixed(3)} over ${r.queries} queries — ${ms(r.msPerQuery)}/query vs ${ms(r.exactMsPerQuery)} exact`;
    timing.dataset.recall = String(r.recall);
  } catch (err) { showError(timing, err); }
}

async function searchScifact(): Promise<void> {
  const query = $<HTMLInputElement>("scifact-query").value.trim();
  if (!query) return;
  const out = $("scifact-results");
  const timing = $("scifact-timing");
  timing.classList.remove("error");
  try {
    const where = $<HTMLInputElement>("scifact-where").value;
    const r = await call<DocsReply>({ op: "searchScifact", query, where, k: 10 });
    timing.textContent = `${r.hits.length} abstracts by BM25 in ${ms(r.ms)}${where.trim() ? ` (where ${where.trim()})` : ""}`;
    out.replaceChildren(...r.hits.map((h) => {
      const li = document.createElement("li");
      const title = document.createElement("strong");
      title.textContent = h.title;
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = h.score.toFixed(2);
      const text = document.createElement("p");
      text.textContent = h.text + "…";
      li.append(title, score, text);
      return li;
    }));
  } catch (err) { showError(timing, err); }
}

$("words-build").addEventListener("click", () => void build("words"));
$("scifact-build").addEventListener("click", () => void build("scifact"));
$("words-form").addEventListener("submit", (e) => { e.preventDefault(); void searchWords(); });
$("words-recall").addEventListener("click", () => void estimateRecall());
$("scifact-form").addEventListener("submit", (e) => { e.preventDefault(); void searchScifact(); });
$("reset").addEventListener("click", async () => {
  try {
    await call({ op: "reset" });
    for (const s of ["words", "scifact"] as const) { setState(s, "idle"); $(`${s}-info`).textContent = ""; $(`${s}-results`).replaceChildren(); }
  } catch (err) { showError($("status"), err); }
});

setState("words", "idle");
setState("scifact", "idle");
try {
  const opened = await call<OpenReply>({ op: "open", rows: wordRows });
  $("backend").textContent = opened.backend;
  const status = $("status");
  status.textContent = `Database quiver-demo on ${opened.backend}.`;
  status.dataset.state = "ready";
  if (opened.words) ready("words", opened.words, "opened existing");
  if (opened.scifact) ready("scifact", opened.scifact, "opened existing");
} catch (err) {
  $("status").dataset.state = "error";
  showError($("status"), err);
}

if ("serviceWorker" in navigator && import.meta.env.PROD) void navigator.serviceWorker.register("/sw.js");
