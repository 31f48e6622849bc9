// Nearest words: GloVe vectors in an IVF_PQ table, searched as you type, with a map of the space,
// the index's recall-vs-speed curve and its build timeline.
import { Index, type Kernels } from "quiverdb";
import type { RemoteConnection, RemoteTable } from "quiverdb/worker";
import { recallCurve, scatter, type CurvePoint, type MapPoint } from "./lib/charts.js";
import { $, debounce, discard, download, generationName, ms, openCurrent, Progress, promote, quote, showError, showText, showTimeline } from "./lib/ui.js";

const GLOVE = "/data/glove-100d-100k/";
const MAP_SAMPLE = 2000;

export interface WordsHooks {
  /** After the table changes (built, restored): refresh versions and storage. */
  changed(table: RemoteTable | undefined): void;
  kernels(): Promise<Kernels>;
}

interface Settings { k: number; nprobes: number; refineFactor: number; exact: boolean }

export class WordsSection {
  table: RemoteTable | undefined;
  #seq = 0;
  #map: { table: string; words: string[]; coords: Float32Array; components: Float32Array; mean: Float32Array } | undefined;
  #cheapest: CurvePoint | undefined;
  #points: CurvePoint[] = [];
  #building = false;

  constructor(private readonly db: RemoteConnection, private readonly hooks: WordsHooks, private readonly sizeFromUrl: number | undefined) {
    const size = $<HTMLSelectElement>("words-size");
    if (sizeFromUrl) {
      if (![...size.options].some((o) => Number(o.value) === sizeFromUrl)) size.add(new Option(`first ${sizeFromUrl.toLocaleString("en")}`, String(sizeFromUrl)));
      size.value = String(sizeFromUrl);
    } else size.value = localStorage.getItem("quiver-demo:words-size") ?? "20000";
    size.addEventListener("change", () => {
      localStorage.setItem("quiver-demo:words-size", size.value);
      void this.open();
    });
    $("words-build").addEventListener("click", () => void this.build());
    $("words-form").addEventListener("submit", (e) => { e.preventDefault(); void this.search(); });
    const later = debounce(() => void this.search(), 120);
    $("words-query").addEventListener("input", later);
    for (const id of ["words-k", "words-nprobes", "words-refine", "words-exact"]) $(id).addEventListener("change", () => void this.search());
    $("words-curve").addEventListener("click", () => void this.curve());
    $("words-target").addEventListener("change", () => this.redrawCurve());
    $("words-use-cheapest").addEventListener("click", () => this.useCheapest());
  }

  get size(): number {
    return Number($<HTMLSelectElement>("words-size").value);
  }

  get base(): string {
    return `words_${this.size}`;
  }

  setState(state: "idle" | "loading" | "ready" | "error"): void {
    $("words").dataset.state = state;
    const usable = this.table !== undefined;
    for (const e of document.querySelectorAll<HTMLInputElement>("#words-form input")) e.disabled = !usable;
    $<HTMLButtonElement>("words-curve").disabled = !usable || state === "loading";
    $<HTMLButtonElement>("words-build").disabled = state === "loading";
    $<HTMLSelectElement>("words-size").disabled = state === "loading";
    $("words-build").textContent = usable ? `Rebuild ${this.size.toLocaleString("en")} words` : `Load ${this.size.toLocaleString("en")} words`;
  }

  clearResults(): void {
    this.#seq++;
    $("words-results").replaceChildren();
    showText($("words-timing"), "");
  }

  /** Opens the current table of the chosen size, if one was built before. */
  async open(): Promise<void> {
    this.table?.close();
    this.table = undefined;
    this.#map = undefined;
    this.clearResults();
    $("words-curve-chart").replaceChildren();
    this.#points = [];
    showText($("words-curve-info"), "");
    const start = performance.now();
    try {
      this.table = await openCurrent(this.db, this.base);
      if (this.table) {
        const [version, rows] = await Promise.all([this.table.version(), this.table.countRows()]);
        showText($("words-info"), `Opened the saved table (v${version}, ${rows.toLocaleString("en")} words) in ${ms(performance.now() - start)}.`);
      } else showText($("words-info"), "Not loaded yet: the first load downloads the vectors and builds the index.");
      this.setState(this.table ? "ready" : "idle");
    } catch (err) {
      showError($("words-info"), err);
      this.setState("error");
    }
    showTimeline($("words-timeline"), this.table?.name ?? "");
    this.hooks.changed(this.table);
  }

  async build(): Promise<void> {
    if (this.#building) return;
    this.#building = true;
    const n = this.size;
    const base = this.base;
    const name = generationName(base);
    const progress = new Progress($<HTMLProgressElement>("words-progress"), $("words-progress-label"));
    this.setState("loading");
    showText($("words-info"), "");
    let built: RemoteTable | undefined;
    try {
      // .fvecs: each row is an int32 dimension, then that many float32s.
      const rowBytes = (head: Uint8Array) => 4 + 4 * new DataView(head.buffer, head.byteOffset).getInt32(0, true);
      const bytes = await download(GLOVE + "glove100k_base.fvecs", (d, t) => progress.report("download", `downloading vectors: ${(d / 1e6).toFixed(1)} MB`, d / t), (head) => n * rowBytes(head));
      const dim = new DataView(bytes.buffer, bytes.byteOffset).getInt32(0, true);
      const raw = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      const text = new TextDecoder().decode(await download(GLOVE + "glove100k_base_words.txt", (d, t) => progress.report("download", `downloading words: ${(d / 1e6).toFixed(1)} MB`, d / t)));
      const vocab = text.split("\n");
      const count = Math.min(n, raw.length / (dim + 1), vocab.length);
      const rows = Array.from({ length: count }, (_, i) => ({ id: i, word: vocab[i]!, vector: raw.subarray(i * (dim + 1) + 1, (i + 1) * (dim + 1)) }));

      progress.report("ingest", `storing ${count.toLocaleString("en")} words`, 0);
      built = await this.db.createTable(name, rows.slice(0, 1));
      await built.add(rows.slice(1), { progress: (p) => progress.report("ingest", `storing ${(p.rowsDone + 1).toLocaleString("en")} / ${count.toLocaleString("en")} words`, (p.rowsDone + 1) / count) });
      await built.createIndex("vector", {
        config: Index.ivfPq({ distanceType: "cosine", numSubVectors: 25 }),
        progress: (p) => progress.report(`index: ${p.phase}`, `IVF_PQ index: ${p.phase} ${p.done} / ${p.total}`, p.total ? p.done / p.total : 0),
      });
      await promote(this.db, base, built);
      const phases = progress.finish("done");
      const old = this.table;
      this.table = built;
      old?.close();
      this.#map = undefined;
      this.#points = [];
      $("words-curve-chart").replaceChildren();
      this.clearResults();
      showText($("words-info"), `Built table v${await built.version()}: ${count.toLocaleString("en")} words, IVF_PQ index, in ${((phases.at(-1)?.end ?? 0) / 1000).toFixed(1)} s.`);
      showTimeline($("words-timeline"), built.name, phases);
      this.setState("ready");
    } catch (err) {
      built?.close();
      await discard(this.db, name);
      progress.finish("failed");
      showError($("words-info"), err);
      if (this.table) $("words-info").append(" The previous table is unchanged and still searchable.");
      this.setState(this.table ? "ready" : "error");
    } finally {
      this.#building = false;
      this.hooks.changed(this.table);
    }
  }

  settings(): Settings {
    const num = (id: string) => Number($<HTMLInputElement>(id).value);
    return { k: num("words-k"), nprobes: num("words-nprobes"), refineFactor: num("words-refine"), exact: $<HTMLInputElement>("words-exact").checked };
  }

  async search(): Promise<void> {
    const seq = ++this.#seq;
    const table = this.table;
    const word = $<HTMLInputElement>("words-query").value.trim().toLowerCase();
    const out = $("words-results");
    const timing = $("words-timing");
    if (!table || word === "") {
      out.replaceChildren();
      showText(timing, "");
      return;
    }
    out.setAttribute("aria-busy", "true");
    try {
      const s = this.settings();
      const t0 = performance.now();
      const [row] = await table.query().where(`word = ${quote(word)}`).select(["id", "vector"]).limit(1).toArray();
      if (seq !== this.#seq) return;
      out.dataset.for = `${word} ${s.exact ? "exact" : `${s.nprobes}/${s.refineFactor}`}`;
      if (!row) {
        out.replaceChildren();
        showText(timing, `“${word}” is not among the ${this.size.toLocaleString("en")} words.`);
        return;
      }
      const lookup = performance.now() - t0;
      let q = table.search(row.vector as Float32Array).distanceType("cosine").limit(s.k).where(`id != ${row.id as number}`).select(["word", "vector"]);
      q = s.exact ? q.bypassVectorIndex() : q.nprobes(s.nprobes).refineFactor(s.refineFactor);
      const t1 = performance.now();
      const hits = await q.toArray();
      if (seq !== this.#seq) return;
      const searchMs = performance.now() - t1;
      showText(timing, `${hits.length} nearest in ${ms(searchMs)} (${s.exact ? "exact scan" : `IVF_PQ, nprobes ${s.nprobes}, refine ×${s.refineFactor}`}; word lookup ${ms(lookup)})`);
      out.replaceChildren(...hits.map((h) => {
        const li = document.createElement("li");
        const w = Object.assign(document.createElement("span"), { className: "word", textContent: h.word as string });
        const sim = Object.assign(document.createElement("span"), { className: "score", textContent: (1 - (h._distance as number)).toFixed(3) });
        sim.title = "cosine similarity";
        li.append(w, sim);
        return li;
      }));
      void this.drawMap(word, row.vector as Float32Array, hits.map((h) => ({ word: h.word as string, vector: h.vector as Float32Array })), seq);
    } catch (err) {
      if (seq !== this.#seq) return;
      out.replaceChildren();
      showError(timing, err);
    } finally {
      if (seq === this.#seq) out.removeAttribute("aria-busy");
    }
  }

  /** PCA of a fixed sample of the table (in the WASM kernels), then the query and its neighbours placed on it. */
  async drawMap(word: string, vector: Float32Array, neighbours: { word: string; vector: Float32Array }[], seq: number): Promise<void> {
    const table = this.table;
    if (!table) return;
    try {
      if (this.#map?.table !== table.name) {
        const sample = await table.query().select(["word", "vector"]).limit(MAP_SAMPLE).toArray();
        const dim = (sample[0]!.vector as Float32Array).length;
        const flat = new Float32Array(sample.length * dim);
        sample.forEach((r, i) => flat.set(r.vector as Float32Array, i * dim));
        const pca = await (await this.hooks.kernels()).pca(flat, dim, { components: 2 });
        this.#map = { table: table.name, words: sample.map((r) => r.word as string), coords: pca.coordinates, components: pca.components, mean: pca.mean };
      }
      if (seq !== this.#seq) return;
      const m = this.#map;
      const project = (v: Float32Array): [number, number] => {
        const dim = m.mean.length;
        let a = 0, b = 0;
        for (let i = 0; i < dim; i++) {
          const c = v[i]! - m.mean[i]!;
          a += c * m.components[i]!;
          b += c * m.components[dim + i]!;
        }
        return [a, b];
      };
      const points: MapPoint[] = m.words.map((w, i) => ({ x: m.coords[2 * i]!, y: m.coords[2 * i + 1]!, label: w, role: "sample" }));
      for (const n of neighbours) { const [x, y] = project(n.vector); points.push({ x, y, label: n.word, role: "neighbour" }); }
      const [qx, qy] = project(vector);
      points.push({ x: qx, y: qy, label: word, role: "query" });
      $("words-map").replaceChildren(scatter(points, `2-D PCA map: “${word}”, its neighbours and ${m.words.length} other words`));
    } catch (err) {
      showError($("words-map"), err);
    }
  }

  /** Sweeps nprobes × refine with the table's recall estimate; the exact scan measured beside them. */
  async curve(): Promise<void> {
    const table = this.table;
    if (!table) return;
    const info = $("words-curve-info");
    const chart = $("words-curve-chart");
    const target = Number($<HTMLInputElement>("words-target").value) || 0.95;
    const button = $<HTMLButtonElement>("words-curve");
    button.disabled = true;
    $<HTMLButtonElement>("words-use-cheapest").disabled = true;
    chart.dataset.state = "measuring";
    const k = 10;
    const queries = 50;
    const points: CurvePoint[] = [];
    this.#points = points;
    const draw = () => {
      const { svg, cheapest } = recallCurve(points, target, k);
      chart.replaceChildren(svg);
      this.#cheapest = cheapest;
      return cheapest;
    };
    try {
      // The exact scan: the same sample queries' cost without the index. One untimed query of each
      // kind first, so neither pays for loading vectors or the index into memory.
      const sample = await table.query().select(["vector"]).limit(20).toArray();
      await table.search(sample[0]!.vector as Float32Array).distanceType("cosine").bypassVectorIndex().select([]).limit(k).toArray();
      await table.estimateRecall({ distanceType: "cosine", k, queries: 5, nprobes: 1 });
      const t0 = performance.now();
      for (const r of sample) await table.search(r.vector as Float32Array).distanceType("cosine").bypassVectorIndex().select([]).limit(k).toArray();
      points.push({ label: "exact scan", recall: 1, msPerQuery: (performance.now() - t0) / sample.length, exact: true });
      const stats = await table.indexStats("vector_idx").catch(() => undefined);
      const partitions = Number(stats?.params.numPartitions ?? 64);
      const probes = [1, 2, 4, 8, 16, 32, 64].filter((p) => p <= partitions);
      const settings = [1, 4].flatMap((refineFactor) => probes.map((nprobes) => ({ nprobes, refineFactor })));
      for (const [i, p] of settings.entries()) {
        showText(info, `measuring ${i + 1} / ${settings.length}: nprobes ${p.nprobes}, refine ×${p.refineFactor} on ${queries} sample queries…`);
        const r = await table.estimateRecall({ distanceType: "cosine", k, queries, nprobes: p.nprobes, ...(p.refineFactor > 1 ? { refineFactor: p.refineFactor } : {}) });
        points.push({ label: `nprobes ${p.nprobes}, refine ×${p.refineFactor}`, recall: r.recall, msPerQuery: r.msPerQuery, params: { nprobes: p.nprobes, refineFactor: p.refineFactor } });
        draw();
      }
      this.redrawCurve();
      chart.dataset.state = "done";
    } catch (err) {
      showError(info, err);
      chart.dataset.state = "error";
    } finally {
      button.disabled = this.table === undefined;
    }
  }

  /** Draws the measured points for the current target, ringing the cheapest setting that reaches it. */
  redrawCurve(): void {
    const points = this.#points;
    const exact = points.find((p) => p.exact);
    if (!exact || points.length < 2) return;
    const target = Number($<HTMLInputElement>("words-target").value) || 0.95;
    const { svg, cheapest } = recallCurve(points, target, 10);
    $("words-curve-chart").replaceChildren(svg);
    this.#cheapest = cheapest;
    showText($("words-curve-info"), cheapest
      ? `Cheapest setting with recall@10 ≥ ${target}: ${cheapest.label} — recall ${cheapest.recall.toFixed(3)} at ${ms(cheapest.msPerQuery)}/query (exact scan ${ms(exact.msPerQuery)}).`
      : `No measured setting reaches recall@10 ≥ ${target}; the exact scan does, at ${ms(exact.msPerQuery)}/query.`);
    $<HTMLButtonElement>("words-use-cheapest").disabled = !cheapest;
  }

  useCheapest(): void {
    const c = this.#cheapest;
    if (!c?.params) return;
    $<HTMLInputElement>("words-nprobes").value = String(c.params.nprobes);
    $<HTMLInputElement>("words-refine").value = String(c.params.refineFactor);
    $<HTMLInputElement>("words-exact").checked = false;
    void this.search();
  }
}
