// The page. The database lives in a worker behind quiverdb/worker (db.worker.ts adds the sentence
// encoder to it); the page holds RemoteConnection / RemoteTable, the same API as in-thread Quiver.
import { loadKernels, type Kernels } from "quiverdb";
import { connectWorker, type RemoteConnection, type RemoteTable } from "quiverdb/worker";
import { DocsSection } from "./docs.js";
import { $, explain, showError, showText } from "./lib/ui.js";
import { USE_MODEL_URL } from "./lib/use-encoder.js";
import { WordsSection } from "./words.js";

declare global {
  interface Window { quiverDemoStarted?: boolean }
}
window.quiverDemoStarted = true;

const params = new URLSearchParams(location.search);
const sizeParam = (name: string) => (params.has(name) ? Math.max(1, Number(params.get(name)) || 1) : undefined);

const status = $("status");
function fail(err: unknown): void {
  status.dataset.state = "error";
  showError(status, err);
}
// A script or chunk that cannot load (offline, before it was cached) surfaces here, not as a spinner.
addEventListener("unhandledrejection", (e) => fail(e.reason));

// ── storage: how much, how much is allowed, and whether the browser may clear it ──────────────

async function showStorage(): Promise<void> {
  const el = $("storage");
  if (!navigator.storage?.estimate) return void (el.textContent = "This browser does not report its storage use.");
  const [{ usage = 0, quota = 0 }, persisted] = await Promise.all([navigator.storage.estimate(), navigator.storage.persisted?.() ?? false]);
  const mb = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${(b / 1e6).toFixed(1)} MB`);
  el.dataset.persisted = String(persisted);
  el.dataset.usage = String(usage);
  el.textContent = `Storage: ${mb(usage)} used of ${mb(quota)} allowed · ${persisted ? "persistent (the browser keeps it)" : "not persistent (the browser may clear it when space runs low)"}`;
  $<HTMLButtonElement>("persist").hidden = persisted;
}

/** Asks once per visit, after the first table is built: a 55 MB download is worth keeping. */
let asked = false;
async function askToPersist(): Promise<void> {
  if (asked || !navigator.storage?.persist) return;
  asked = true;
  await navigator.storage.persist().catch(() => false);
  await showStorage();
}

/**
 * Asks the service worker to keep the sentence encoder's files (28 MB), so documents can be
 * searched offline: a text query is embedded by the model before the vector search.
 */
let encoderKept = false;
async function keepEncoderOffline(): Promise<void> {
  if (encoderKept || !import.meta.env.PROD || !("serviceWorker" in navigator)) return;
  encoderKept = true;
  try {
    const model = (await (await fetch(`${USE_MODEL_URL}model.json`)).json()) as { weightsManifest: { paths: string[] }[] };
    const urls = ["model.json", "vocab.json", ...model.weightsManifest.flatMap((m) => m.paths)].map((p) => USE_MODEL_URL + p);
    (await navigator.serviceWorker.ready).active?.postMessage({ cache: urls });
  } catch (err) {
    encoderKept = false;
    console.warn("the encoder is not kept for offline use:", err);
  }
}
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.addEventListener("message", (e: MessageEvent<{ cached?: number; cacheError?: string }>) => {
    if (e.data.cached !== undefined) document.body.dataset.encoderOffline = "true";
    if (e.data.cacheError !== undefined) console.warn("the encoder is not kept for offline use:", e.data.cacheError);
  });
}

// ── versions ───────────────────────────────────────────────────────────────────────────────────

async function showVersions(listId: string, table: RemoteTable | undefined, after: () => Promise<void>): Promise<void> {
  const list = $(listId);
  if (!table) return void list.replaceChildren();
  try {
    const [versions, current] = await Promise.all([table.listVersions(), table.version()]);
    list.replaceChildren(...versions.slice().reverse().map((v) => {
      const li = document.createElement("li");
      li.dataset.version = String(v.version);
      li.append(`v${v.version} · ${new Date(v.timestamp).toLocaleString()} · ${v.metadata.operation}`);
      if (v.version === current) li.append(Object.assign(document.createElement("em"), { textContent: " (current)" }));
      else {
        const b = Object.assign(document.createElement("button"), { type: "button", textContent: "Restore" });
        b.addEventListener("click", async () => {
          if (!confirm(`Make version ${v.version} of this table the current one? Later versions stay in the history, so this can be undone.`)) return;
          try {
            await table.restore(v.version);
            await after();
          } catch (err) {
            showError(list, err);
          }
        });
        li.append(" ", b);
      }
      return li;
    }));
  } catch (err) {
    showError(list, err);
  }
}

// ── start ──────────────────────────────────────────────────────────────────────────────────────

let kernels: Promise<Kernels> | undefined;
const pageKernels = () => (kernels ??= loadKernels());

async function connectDatabase(): Promise<{ db: RemoteConnection; backend: string }> {
  const worker = new Worker(new URL("./db.worker.ts", import.meta.url), { type: "module", name: "quiver-demo-db" });
  // OPFS where the browser has it (fast synchronous access in workers), IndexedDB elsewhere.
  let opfs = false;
  try {
    opfs = typeof navigator.storage?.getDirectory === "function" && (await navigator.storage.getDirectory()) !== undefined;
  } catch {
    opfs = false;
  }
  if (opfs) {
    try {
      const db = await connectWorker("opfs://quiver-demo", { worker });
      await db.tableNames();
      return { db, backend: "OPFS" };
    } catch (err) {
      if (explain(err).code === "CLOSED") throw err;
    }
  }
  const db = await connectWorker("idb://quiver-demo", { worker });
  await db.tableNames();
  return { db, backend: "IndexedDB" };
}

try {
  const { db, backend } = await connectDatabase();
  $("backend").textContent = backend;
  status.dataset.state = "ready";
  showText(status, `Database quiver-demo on ${backend}, in a worker.`);

  const words: WordsSection = new WordsSection(db, {
    kernels: pageKernels,
    changed: (t) => {
      void showVersions("words-versions", t, async () => { await words.open(); void words.search(); });
      void showStorage();
      if (t) void askToPersist();
    },
  }, sizeParam("n"));
  const docs: DocsSection = new DocsSection(db, {
    kernels: pageKernels,
    changed: (t) => {
      void showVersions("docs-versions", t, async () => { await docs.open(); void docs.search(); });
      void showStorage();
      if (t) void askToPersist();
      if (t && $<HTMLSelectElement>("docs-encoder").value === "use") void keepEncoderOffline();
    },
  }, sizeParam("docs"));

  $("persist").addEventListener("click", () => { asked = false; void askToPersist(); });
  $("reset").addEventListener("click", async () => {
    if (!confirm("Delete every demo table from this browser? Downloads and indexes will have to be built again.")) return;
    try {
      words.table?.close();
      docs.table?.close();
      await db.dropAllTables();
      for (const k of Object.keys(localStorage)) if (k.startsWith("quiver-demo:timeline:")) localStorage.removeItem(k);
      await Promise.all([words.open(), docs.open()]);
    } catch (err) {
      fail(err);
    }
  });
  await Promise.all([words.open(), docs.open()]);
  void showStorage();
} catch (err) {
  fail(err);
}

if ("serviceWorker" in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register("/sw.js").catch((err: unknown) => console.warn("offline support is off:", err));
}
