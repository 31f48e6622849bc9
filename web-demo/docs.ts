// Documents: SciFact abstracts or the visitor's own files, embedded in the database worker (the
// Universal Sentence Encoder offline, or MiniLM through transformers.js) and indexed for BM25,
// searched as you type in vector, full-text or hybrid mode, with matches highlighted.
import { getRegistry, Index, typeToString, type EmbeddingFunction, type Kernels } from "quiverdb";
import type { RemoteConnection, RemoteTable } from "quiverdb/worker";
import { scatter, type MapPoint } from "./lib/charts.js";
import { readDocuments, toPassages } from "./lib/files.js";
import { BrowserUse } from "./lib/use-encoder.js";
import { $, debounce, discard, download, generationName, ms, openCurrent, Progress, promote, showError, showText, showTimeline } from "./lib/ui.js";

const SCIFACT = "/data/beir-scifact/corpus.jsonl";
const MAP_SAMPLE = 600;
const STOP = new Set("a an and are as at be by for from has have in is it its of on or that the to was were what which with does do how why when".split(" "));

export interface DocsHooks {
  changed(table: RemoteTable | undefined): void;
  kernels(): Promise<Kernels>;
}

type Collection = "scifact" | "mine";
type Mode = "hybrid" | "vector" | "fts";

function encoder(kind: string): EmbeddingFunction {
  if (kind === "minilm") return getRegistry().get("huggingface").create({ model: "Xenova/all-MiniLM-L6-v2", dtype: "q8" });
  return new BrowserUse();
}

/** Query words worth marking: lower-cased, without stop words, cut to a stem-like prefix. */
function markTerms(query: string): RegExp | undefined {
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].filter((w) => w.length > 2 && !STOP.has(w));
  if (words.length === 0) return undefined;
  const stems = words.map((w) => (w.length > 5 ? w.slice(0, w.length - 2) : w).replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`(?<![\\p{L}\\p{N}])(${stems.join("|")})[\\p{L}\\p{N}]*`, "giu");
}

/** `text` as nodes with the matches of `re` in <mark>. */
function highlighted(text: string, re: RegExp | undefined): Node[] {
  if (!re) return [document.createTextNode(text)];
  const out: Node[] = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    out.push(document.createTextNode(text.slice(at, m.index)), Object.assign(document.createElement("mark"), { textContent: m[0] }));
    at = m.index! + m[0].length;
  }
  out.push(document.createTextNode(text.slice(at)));
  return out;
}

/** About 320 characters around the first match (or the start). */
function snippet(text: string, re: RegExp | undefined): string {
  const first = re ? text.search(new RegExp(re.source, "iu")) : -1;
  const from = first > 120 ? text.lastIndexOf(" ", first - 100) + 1 : 0;
  const cut = text.slice(from, from + 320);
  return (from > 0 ? "…" : "") + cut + (from + 320 < text.length ? "…" : "");
}

export class DocsSection {
  table: RemoteTable | undefined;
  #seq = 0;
  #busy = false;
  #map: { table: string; titles: string[]; ids: string[]; coords: Float32Array; components: Float32Array; mean: Float32Array } | undefined;

  constructor(private readonly db: RemoteConnection, private readonly hooks: DocsHooks, sizeFromUrl: number | undefined) {
    const size = $<HTMLSelectElement>("docs-size");
    if (sizeFromUrl) {
      if (![...size.options].some((o) => Number(o.value) === sizeFromUrl)) size.add(new Option(`first ${sizeFromUrl.toLocaleString("en")}`, String(sizeFromUrl)));
      size.value = String(sizeFromUrl);
    }
    const encoderSelect = $<HTMLSelectElement>("docs-encoder");
    const online = () => {
      // transformers.js downloads its model from the Hugging Face hub: offer it only with a network.
      encoderSelect.options[1]!.disabled = !navigator.onLine;
      if (!navigator.onLine && encoderSelect.value === "minilm") { encoderSelect.value = "use"; void this.open(); }
    };
    addEventListener("online", online);
    addEventListener("offline", online);
    online();
    for (const id of ["docs-collection", "docs-encoder", "docs-size"]) $(id).addEventListener("change", () => void this.open());
    $("docs-build").addEventListener("click", () => void this.buildScifact());
    $("docs-form").addEventListener("submit", (e) => { e.preventDefault(); void this.search(); });
    const later = debounce(() => void this.search(), 250);
    $("docs-query").addEventListener("input", later);
    $("docs-where").addEventListener("input", later);
    for (const r of document.querySelectorAll<HTMLInputElement>("input[name=mode]")) r.addEventListener("change", () => void this.search());

    const drop = $("drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      void this.addFiles([...(e.dataTransfer?.files ?? [])]);
    });
    const pick = $<HTMLInputElement>("files");
    pick.addEventListener("change", () => { void this.addFiles([...(pick.files ?? [])]); pick.value = ""; });
  }

  get collection(): Collection {
    return $<HTMLSelectElement>("docs-collection").value as Collection;
  }

  get base(): string {
    const enc = $<HTMLSelectElement>("docs-encoder").value;
    return this.collection === "mine" ? `mine_${enc}` : `scifact_${$<HTMLSelectElement>("docs-size").value}_${enc}`;
  }

  get mode(): Mode {
    return (document.querySelector<HTMLInputElement>("input[name=mode]:checked")?.value ?? "hybrid") as Mode;
  }

  setState(state: "idle" | "loading" | "ready" | "error"): void {
    $("docs").dataset.state = state;
    const usable = this.table !== undefined;
    for (const e of document.querySelectorAll<HTMLInputElement>("#docs-form input")) e.disabled = !usable;
    const loading = state === "loading";
    for (const id of ["docs-build", "docs-collection", "docs-encoder", "docs-size", "files"]) $<HTMLButtonElement>(id).disabled = loading;
    $("scifact-load").hidden = this.collection !== "scifact";
    $("drop").hidden = this.collection !== "mine";
    $("docs-build").textContent = usable ? "Rebuild SciFact" : "Load SciFact";
  }

  clearResults(): void {
    this.#seq++;
    $("docs-results").replaceChildren();
    showText($("docs-timing"), "");
  }

  async open(): Promise<void> {
    this.table?.close();
    this.table = undefined;
    this.#map = undefined;
    this.clearResults();
    $("docs-map").replaceChildren();
    const start = performance.now();
    try {
      this.table = this.collection === "mine"
        ? (await this.db.tableNames()).includes(this.base) ? await this.db.openTable(this.base) : undefined
        : await openCurrent(this.db, this.base);
      if (this.table) {
        const [version, rows] = await Promise.all([this.table.version(), this.table.countRows()]);
        showText($("docs-info"), `Opened the saved table (v${version}, ${rows.toLocaleString("en")} ${this.collection === "mine" ? "passages" : "abstracts"}) in ${ms(performance.now() - start)}.`);
      } else {
        showText($("docs-info"), this.collection === "mine" ? "No files yet: drop some below." : "Not loaded yet: loading embeds every abstract in this browser (the encoder runs in the database worker).");
      }
      this.setState(this.table ? "ready" : "idle");
      await this.showColumns();
    } catch (err) {
      showError($("docs-info"), err);
      this.setState(this.table ? "ready" : "error");
    }
    showTimeline($("docs-timeline"), this.table?.name ?? "");
    this.hooks.changed(this.table);
  }

  async showColumns(): Promise<void> {
    const where = $("docs-columns");
    if (!this.table) return void where.replaceChildren("—");
    const schema = await this.table.quiverSchema();
    where.replaceChildren(...schema.fields.filter((f) => f.type.kind !== "vector").map((f) => {
      const b = Object.assign(document.createElement("button"), { type: "button", className: "chip", textContent: `${f.name} ${typeToString(f.type)}` });
      b.dataset.column = f.name;
      b.title = `add ${f.name} to the filter`;
      b.addEventListener("click", () => {
        const input = $<HTMLInputElement>("docs-where");
        input.value = (input.value.trim() ? `${input.value.trim()} AND ` : "") + `${f.name} `;
        input.focus();
      });
      return b;
    }));
  }

  async buildScifact(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    const n = Number($<HTMLSelectElement>("docs-size").value);
    const base = this.base;
    const name = generationName(base);
    const progress = new Progress($<HTMLProgressElement>("docs-progress"), $("docs-progress-label"));
    this.setState("loading");
    showText($("docs-info"), "");
    let built: RemoteTable | undefined;
    try {
      const lines = new TextDecoder().decode(await download(SCIFACT, (d, t) => progress.report("download", `downloading abstracts: ${(d / 1e6).toFixed(1)} MB`, d / t)))
        .split("\n").filter((l) => l.trim() !== "").slice(0, n);
      const rows = lines.map((l) => {
        const d = JSON.parse(l) as { _id: string; title: string; text: string };
        return { id: d._id, title: d.title, text: d.text, chars: d.text.length };
      });
      progress.report("load encoder", "loading the sentence encoder in the worker…", 0);
      built = await this.db.createTable(name, rows.slice(0, 1), { embeddingFunction: { sourceColumn: "text", function: encoder($<HTMLSelectElement>("docs-encoder").value) } });
      await built.add(rows.slice(1), {
        progress: (p) => progress.report(p.phase === "embed" ? "embed" : "store", `${p.phase === "embed" ? "embedding" : "storing"} ${(p.rowsDone + 1).toLocaleString("en")} / ${rows.length.toLocaleString("en")} abstracts`, (p.rowsDone + 1) / rows.length),
      });
      await built.createIndex("text", { config: Index.fts(), progress: (p) => progress.report("full-text index", `BM25 index ${p.done} / ${p.total}`, p.total ? p.done / p.total : 0) });
      await promote(this.db, base, built);
      const phases = progress.finish("done");
      const old = this.table;
      this.table = built;
      old?.close();
      this.#map = undefined;
      this.clearResults();
      showText($("docs-info"), `Built table v${await built.version()}: ${rows.length.toLocaleString("en")} abstracts, 512-d vectors and a BM25 index, in ${((phases.at(-1)?.end ?? 0) / 1000).toFixed(1)} s.`);
      showTimeline($("docs-timeline"), built.name, phases);
      this.setState("ready");
      await this.showColumns();
    } catch (err) {
      built?.close();
      await discard(this.db, name);
      progress.finish("failed");
      showError($("docs-info"), err);
      if (this.table) $("docs-info").append(" The previous table is unchanged and still searchable.");
      this.setState(this.table ? "ready" : "error");
    } finally {
      this.#busy = false;
      this.hooks.changed(this.table);
    }
  }

  /** Reads, splits, embeds and indexes dropped files into the "your files" table (one version per drop). */
  async addFiles(files: File[]): Promise<void> {
    if (this.#busy || files.length === 0) return;
    this.#busy = true;
    const progress = new Progress($<HTMLProgressElement>("files-progress"), $("files-progress-label"));
    const info = $("docs-info");
    this.setState("loading");
    showText(info, "");
    const problems: string[] = [];
    // A table this drop creates is only kept if the whole drop goes in.
    let created: RemoteTable | undefined;
    let added = false;
    try {
      const docs = [];
      for (const f of files) {
        progress.report("read", `reading ${f.name}`, 0);
        try {
          docs.push(...(await readDocuments(f)));
        } catch (err) {
          problems.push(err instanceof Error ? err.message : String(err));
        }
      }
      const passages = toPassages(docs);
      if (passages.length === 0) throw Object.assign(new Error(`Nothing to add: ${problems.join(" ") || "the files hold no text."}`), { code: "INVALID_ARGUMENT" });
      const names = await this.db.tableNames();
      let table = this.table;
      let rest = passages;
      if (!table || !names.includes(this.base)) {
        progress.report("load encoder", "loading the sentence encoder in the worker…", 0);
        table = await this.db.createTable(this.base, passages.slice(0, 1), { embeddingFunction: { sourceColumn: "text", function: encoder($<HTMLSelectElement>("docs-encoder").value) } });
        created = table;
        rest = passages.slice(1);
      }
      if (rest.length > 0) {
        await table.add(rest, {
          progress: (p) => progress.report(p.phase === "embed" ? "embed" : "store", `${p.phase === "embed" ? "embedding" : "storing"} ${p.rowsDone} / ${rest.length} passages`, p.rowsDone / rest.length),
        });
      }
      added = true;
      await table.createIndex("text", { config: Index.fts(), progress: (p) => progress.report("full-text index", `BM25 index ${p.done} / ${p.total}`, p.total ? p.done / p.total : 0) });
      const phases = progress.finish("done");
      if (created) this.table = created;
      this.#map = undefined;
      this.clearResults();
      const sources = new Set(passages.map((p) => p.source));
      showText(info, `Added ${passages.length} passages from ${[...sources].join(", ")} (table v${await table.version()}, ${(await table.countRows()).toLocaleString("en")} passages in all).`);
      if (problems.length) info.append(` Skipped: ${problems.join(" ")}`);
      showTimeline($("docs-timeline"), table.name, phases);
      this.setState("ready");
      await this.showColumns();
    } catch (err) {
      if (created) {
        created.close();
        await discard(this.db, created.name);
        added = false;
      }
      progress.finish("failed");
      showError(info, err);
      if (added) info.append(" The passages were stored, but the full-text index was not rebuilt; drop a file again to retry.");
      else if (this.table) info.append(" Nothing was added; what was there before is unchanged.");
      this.setState(this.table ? "ready" : "idle");
    } finally {
      this.#busy = false;
      this.hooks.changed(this.table);
    }
  }

  async search(): Promise<void> {
    const seq = ++this.#seq;
    const table = this.table;
    const query = $<HTMLInputElement>("docs-query").value.trim();
    const where = $<HTMLInputElement>("docs-where").value.trim();
    const out = $("docs-results");
    const timing = $("docs-timing");
    if (!table || query === "") {
      out.replaceChildren();
      showText(timing, "");
      return;
    }
    const mode = this.mode;
    const mine = this.collection === "mine";
    out.setAttribute("aria-busy", "true");
    try {
      const columns = ["id", "title", "text", ...(mine ? ["source", "chunk"] : []), ...(mode === "fts" ? [] : ["vector"])];
      let q = mode === "fts" ? table.search(query, "fts") : table.search(query, mode);
      q = q.select(columns).limit(10);
      if (where !== "") q = q.where(where);
      const t0 = performance.now();
      const hits = await q.toArray();
      if (seq !== this.#seq) return;
      // Which request the list answers, for anyone (a test, a screen reader script) waiting on it.
      out.dataset.for = JSON.stringify({ query, mode, where });
      const label = { hybrid: "hybrid (vector + BM25, RRF)", vector: "vector (cosine)", fts: "BM25" }[mode];
      showText(timing, `${hits.length} ${mine ? "passage" : "abstract"}${hits.length === 1 ? "" : "s"} by ${label} in ${ms(performance.now() - t0)}${where ? ` where ${where}` : ""}`);
      const re = markTerms(query);
      out.replaceChildren(...hits.map((h) => {
        const li = document.createElement("li");
        li.dataset.id = String(h.id);
        const title = document.createElement("strong");
        title.append(...highlighted(String(h.title || h.source || h.id), re));
        const score = document.createElement("span");
        score.className = "score";
        score.textContent = mode === "vector" ? `similarity ${(1 - (h._distance as number)).toFixed(3)}` : mode === "fts" ? `BM25 ${(h._score as number).toFixed(2)}` : `relevance ${(h._relevance_score as number).toFixed(4)}`;
        const meta = document.createElement("small");
        meta.className = "muted";
        meta.textContent = mine ? `${String(h.source)} · passage ${Number(h.chunk) + 1}` : `#${String(h.id)}`;
        const text = document.createElement("p");
        text.append(...highlighted(snippet(String(h.text), re), re));
        li.append(title, score, meta, text);
        return li;
      }));
      if (mode !== "fts") void this.drawMap(hits.map((h) => ({ label: String(h.title || h.id), vector: h.vector as Float32Array })), seq);
    } catch (err) {
      if (seq !== this.#seq) return;
      out.replaceChildren();
      out.dataset.for = JSON.stringify({ query, mode, where });
      showError(timing, err);
    } finally {
      if (seq === this.#seq) out.removeAttribute("aria-busy");
    }
  }

  /** The documents' embedding space in 2-D (PCA in the kernels), with this query's results marked. */
  async drawMap(results: { label: string; vector: Float32Array }[], seq: number): Promise<void> {
    const table = this.table;
    if (!table || results.length === 0) return;
    try {
      if (this.#map?.table !== table.name) {
        const sample = await table.query().select(["id", "title", "vector"]).limit(MAP_SAMPLE).toArray();
        const dim = (sample[0]!.vector as Float32Array).length;
        const flat = new Float32Array(sample.length * dim);
        sample.forEach((r, i) => flat.set(r.vector as Float32Array, i * dim));
        const pca = await (await this.hooks.kernels()).pca(flat, dim, { components: 2 });
        this.#map = { table: table.name, titles: sample.map((r) => String(r.title || r.id)), ids: sample.map((r) => String(r.id)), coords: pca.coordinates, components: pca.components, mean: pca.mean };
      }
      if (seq !== this.#seq) return;
      const m = this.#map;
      const dim = m.mean.length;
      const points: MapPoint[] = m.titles.map((t, i) => ({ x: m.coords[2 * i]!, y: m.coords[2 * i + 1]!, label: t, role: "sample" }));
      for (const r of results) {
        let a = 0, b = 0;
        for (let i = 0; i < dim; i++) {
          const c = r.vector[i]! - m.mean[i]!;
          a += c * m.components[i]!;
          b += c * m.components[dim + i]!;
        }
        points.push({ x: a, y: b, label: r.label, role: "neighbour" });
      }
      $("docs-map").replaceChildren(scatter(points, `2-D PCA map of ${m.titles.length} documents with this query's results`));
    } catch (err) {
      showError($("docs-map"), err);
    }
  }
}
