/**
 * The web demo (web-demo/) driven as a visitor would, in Chromium, on the real data sets:
 *
 * 1. On the dev server: load the first 20,000 GloVe words and 80 SciFact abstracts (embedded with
 *    the Universal Sentence Encoder in the database worker), search each mode and check expected
 *    neighbours, read the recall-vs-latency chart's points, the build timeline and the PCA map,
 *    bring files of one's own and find them, reload and find everything still there, restore a
 *    version, see typed errors clear stale results, and check that nothing overflows at 390 px.
 * 2. On a production build served by `vite preview`: go offline right after the first visit,
 *    reload, and search words and documents again; a missing script is an error, never HTML.
 *
 * Screenshots go to the test's output folder (test-results/).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { parquetWriteBuffer } from "hyparquet-writer";

const repo = resolve(import.meta.dirname, "../..");
const data = process.env.QUIVER_DATA ?? resolve(repo, "../shared/data");
const DEMO = `http://localhost:${process.env.QUIVER_DEMO_PORT ?? 5173}`;
const PREVIEW_PORT = Number(process.env.QUIVER_PREVIEW_PORT ?? 4273);

test.skip(
  !["glove-100d-100k/glove100k_base.fvecs", "beir-scifact/corpus.jsonl", "use-tfjs-energetic-ai/model.json"].every((f) => existsSync(resolve(data, f))),
  `the demo's data sets are not all in ${data}`,
);

/** Collects uncaught page errors; confirm() dialogs are accepted unless `dialogs.accept` is set false. */
function watchErrors(page: Page): { errors: string[]; dialogs: { accept: boolean; seen: string[] } } {
  const errors: string[] = [];
  const dialogs = { accept: true, seen: [] as string[] };
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("dialog", (d) => {
    dialogs.seen.push(d.message());
    void (dialogs.accept ? d.accept() : d.dismiss());
  });
  return { errors, dialogs };
}

/** Types a word and waits for the list that answers it (its data-for names the request). */
/** GloVe's nearest words to "paris" are France and other European capitals (london is 11th or so). */
function looksLikeParis(words: string[]): void {
  expect(words).toContain("france");
  const capitals = ["london", "rome", "berlin", "brussels", "vienna", "madrid", "amsterdam", "prague", "lyon", "strasbourg"];
  expect(words.filter((w) => capitals.includes(w)).length).toBeGreaterThanOrEqual(4);
}

async function searchWords(page: Page, word: string): Promise<string[]> {
  await page.fill("#words-query", word);
  await expect(page.locator("#words-results")).toHaveAttribute("data-for", new RegExp(`^${word} `));
  await expect(page.locator("#words-results")).not.toHaveAttribute("aria-busy", "true");
  return page.locator("#words-results .word").allTextContents();
}

async function searchDocs(page: Page, mode: "hybrid" | "vector" | "fts", query: string, where = ""): Promise<void> {
  await page.check(`input[name=mode][value=${mode}]`);
  await page.fill("#docs-where", where);
  await page.fill("#docs-query", query);
  await expect(page.locator("#docs-results")).toHaveAttribute("data-for", JSON.stringify({ query, mode, where }), { timeout: 60_000 });
  await expect(page.locator("#docs-results")).not.toHaveAttribute("aria-busy", "true");
}

test("demo: a visitor's tour of words, documents and their own files", async ({ page }, testInfo) => {
  // About 90 s on an idle 2-core machine; generous, as other suites often share it.
  test.setTimeout(360_000);
  const { errors, dialogs } = watchErrors(page);
  // What a visitor waited for, kept beside the screenshots (timings.json) for the record.
  const timings: Record<string, number | string> = {};
  let since = Date.now();
  const lap = (name: string): void => {
    timings[name] = Date.now() - since;
    since = Date.now();
  };
  await page.goto(`${DEMO}/?n=20000&docs=80`);
  await expect(page.locator("#status")).toHaveAttribute("data-state", "ready");
  lap("pageReadyMs");
  await expect(page.locator("#status")).toContainText("in a worker");
  await expect(page.locator("#storage")).toContainText("Storage:");

  // ── words ──
  const words = page.locator("#words");
  await expect(words).toHaveAttribute("data-state", "idle");
  await expect(page.locator("#words-query")).toBeDisabled();
  since = Date.now();
  await page.click("#words-build");
  await expect(words).toHaveAttribute("data-state", "loading");
  await expect(words).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
  lap("wordsLoadAndIndexMs");
  await expect(page.locator("#words-info")).toContainText("20,000 words");
  const paris = await searchWords(page, "paris");
  lap("wordsFirstSearchMs");
  timings.wordsSearchShown = (await page.locator("#words-timing").textContent()) ?? "";
  expect(paris).toHaveLength(10);
  looksLikeParis(paris);
  expect(paris).not.toContain("paris");

  // The map: 2,000 sampled words, the query and its 10 neighbours, with coordinates to read.
  const map = page.locator("#words-map svg");
  await expect(map.locator("circle[data-role=query]")).toHaveAttribute("data-label", "paris");
  await expect(map.locator("circle[data-role=neighbour]")).toHaveCount(10);
  expect(await map.locator("circle[data-role=sample]").count()).toBe(2000);
  const coords = await map.locator("circle").evaluateAll((cs) => cs.map((c) => [Number(c.getAttribute("data-x")), Number(c.getAttribute("data-y"))]));
  expect(coords.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y))).toBe(true);
  expect(new Set(coords.map(([x]) => x!.toFixed(2))).size).toBeGreaterThan(100);

  await page.check("#words-exact");
  await expect(page.locator("#words-results")).toHaveAttribute("data-for", "paris exact");
  await expect(page.locator("#words-timing")).toContainText("exact scan");
  timings.wordsExactShown = (await page.locator("#words-timing").textContent()) ?? "";
  looksLikeParis(await page.locator("#words-results .word").allTextContents());
  await page.uncheck("#words-exact");
  await expect(page.locator("#words-timing")).toContainText("IVF_PQ");

  // A rebuild that fails (here: the download breaks) says why and leaves the old table searchable.
  await page.route("**/glove100k_base.fvecs", (route) => route.fulfill({ status: 503, body: "busy" }));
  await page.click("#words-build");
  await expect(page.locator("#words-info code")).toHaveText("NETWORK_ERROR");
  await expect(page.locator("#words-info")).toContainText("The previous table is unchanged and still searchable.");
  await expect(words).toHaveAttribute("data-state", "ready");
  await page.unroute("**/glove100k_base.fvecs");
  const violin = await searchWords(page, "violin");
  expect(violin.filter((w) => ["cello", "piano", "viola", "violinist"].includes(w)).length).toBeGreaterThanOrEqual(2);
  await searchWords(page, "paris");

  // Unknown words say so, and leave no stale list behind.
  await page.fill("#words-query", "qqqzzzxx");
  await expect(page.locator("#words-timing")).toContainText("is not among the 20,000 words");
  await expect(page.locator("#words-results li")).toHaveCount(0);

  // The recall-vs-latency curve, read point by point.
  await page.click("#words-curve-box summary");
  await page.click("#words-curve");
  await expect(page.locator("#words-curve-chart")).toHaveAttribute("data-state", "done", { timeout: 90_000 });
  const points = await page.locator("#words-curve-chart .point").evaluateAll((ps) => ps.map((p) => ({
    recall: Number(p.getAttribute("data-recall")), ms: Number(p.getAttribute("data-ms")), exact: p.getAttribute("data-exact") === "true",
    nprobes: Number(p.getAttribute("data-nprobes")), refine: Number(p.getAttribute("data-refinefactor")), cheapest: p.getAttribute("data-cheapest") === "true",
  })));
  const exact = points.filter((p) => p.exact);
  const approx = points.filter((p) => !p.exact);
  expect(exact).toHaveLength(1);
  expect(exact[0]!.recall).toBe(1);
  expect(approx.length).toBeGreaterThanOrEqual(10);
  for (const p of points) {
    expect(p.recall).toBeGreaterThanOrEqual(0);
    expect(p.recall).toBeLessThanOrEqual(1);
    expect(p.ms).toBeGreaterThan(0);
  }
  const at = (nprobes: number, refine: number) => approx.find((p) => p.nprobes === nprobes && p.refine === refine)!;
  expect(at(32, 4).recall).toBeGreaterThan(at(1, 1).recall);
  expect(at(32, 4).recall).toBeGreaterThan(0.9);
  const cheapest = approx.filter((p) => p.cheapest);
  expect(cheapest).toHaveLength(1);
  expect(cheapest[0]!.recall).toBeGreaterThanOrEqual(0.95);
  for (const p of approx) if (p.recall >= 0.95) expect(p.ms).toBeGreaterThanOrEqual(cheapest[0]!.ms);
  // A stricter target moves the ring without measuring again.
  await page.fill("#words-target", "0.99");
  await page.dispatchEvent("#words-target", "change");
  await expect(page.locator("#words-curve-info")).toContainText("0.99");
  const strict = await page.locator("#words-curve-chart .point[data-cheapest=true]").evaluateAll((ps) => ps.map((p) => Number(p.getAttribute("data-recall"))));
  for (const r of strict) expect(r).toBeGreaterThanOrEqual(0.99);
  await page.fill("#words-target", "0.95");
  await page.dispatchEvent("#words-target", "change");
  await page.click("#words-use-cheapest");
  await expect(page.locator("#words-nprobes")).toHaveValue(String(cheapest[0]!.nprobes));

  // The build timeline: download, ingest and the index's phases, in order on one clock.
  const phases = await page.locator("#words-timeline .phase").evaluateAll((gs) => gs.map((g) => ({ name: g.getAttribute("data-phase"), start: Number(g.getAttribute("data-start")), ms: Number(g.getAttribute("data-ms")) })));
  expect(phases.map((p) => p.name)).toEqual(expect.arrayContaining(["download", "ingest", "index: kmeans", "index: encode"]));
  for (let i = 1; i < phases.length; i++) expect(phases[i]!.start).toBeGreaterThanOrEqual(phases[i - 1]!.start);

  // ── SciFact: vector, full-text and hybrid ──
  const docs = page.locator("#docs");
  since = Date.now();
  await page.click("#docs-build");
  await expect(docs).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
  lap("docsLoadEmbedAndIndexMs");
  await expect(page.locator("#docs-info")).toContainText("80 abstracts");
  await expect(page.locator("#docs-columns .chip")).toHaveText([/^id /, /^title /, /^text /, /^chars /]);

  await searchDocs(page, "fts", "vitamin D");
  await expect(page.locator("#docs-results mark").first()).toHaveText(/^vitamin$/i);
  await searchDocs(page, "vector", "sunlight and vitamin D production in the skin");
  expect((await page.locator("#docs-results strong").first().textContent())!.toLowerCase()).toContain("vitamin d");
  await expect(page.locator("#docs-results .score").first()).toContainText("similarity");
  await expect(page.locator("#docs-map circle[data-role=neighbour]")).toHaveCount(10);
  since = Date.now();
  await searchDocs(page, "hybrid", "vitamin D deficiency");
  lap("docsHybridSearchMs");
  timings.docsHybridShown = (await page.locator("#docs-timing").textContent()) ?? "";
  expect((await page.locator("#docs-results strong").first().textContent())!.toLowerCase()).toContain("vitamin");
  await expect(page.locator("#docs-results .score").first()).toContainText("relevance");
  await searchDocs(page, "fts", "cells", "title LIKE '%cell%'");
  const titles = await page.locator("#docs-results strong").allTextContents();
  expect(titles.length).toBeGreaterThan(0);
  for (const t of titles) expect(t.toLowerCase()).toContain("cell");
  // A broken filter: a typed error in words, and the previous results are gone.
  await page.fill("#docs-where", "title >");
  await expect(page.locator("#docs-results")).toHaveAttribute("data-for", JSON.stringify({ query: "cells", mode: "fts", where: "title >" }));
  await expect(page.locator("#docs-timing code")).toHaveText("INVALID_FILTER");
  await expect(page.locator("#docs-timing")).toContainText("could not be read");
  await expect(page.locator("#docs-results li")).toHaveCount(0);
  await page.fill("#docs-where", "");

  // ── your own files ──
  await page.selectOption("#docs-collection", "mine");
  await expect(page.locator("#drop")).toBeVisible();
  await page.setInputFiles("#files", [
    { name: "zorblax.md", mimeType: "text/markdown", buffer: Buffer.from("# The zorblax harvest\n\nEvery autumn the village of Quillmere holds the zorblax harvest festival, when growers bring purple zorblax gourds to the square.\n\nThe largest gourd wins a copper kettle.") },
    { name: "ships.csv", mimeType: "text/csv", buffer: Buffer.from("title,text\nPelican,The Pelican was a tall ship that sailed the Brindle Sea in 1742.\nMarigold,The Marigold carried tea and silk between two harbours.\n") },
    { name: "broken.jsonl", mimeType: "application/x-ndjson", buffer: Buffer.from("{\"text\": \"fine\"}\nnot json\n") },
  ]);
  await expect(page.locator("#docs-info")).toContainText("Added", { timeout: 60_000 });
  await expect(page.locator("#docs-info")).toContainText("zorblax.md, ships.csv");
  await expect(page.locator("#docs-info")).toContainText("Skipped: broken.jsonl: line 2 is not a JSON object");
  await searchDocs(page, "fts", "zorblax festival");
  await expect(page.locator("#docs-results li").first().locator("small")).toContainText("zorblax.md");
  await searchDocs(page, "vector", "a sailing vessel on the sea");
  await expect(page.locator("#docs-results li").first().locator("strong")).toHaveText("Pelican");
  // A second drop is a new version; restoring the one before it takes that file out again.
  const before = Number(await page.locator("#docs-versions li:has(em)").getAttribute("data-version"));
  const parquet = parquetWriteBuffer({ columnData: [
    { name: "name", data: ["Orrin Vale", "Tessaly Brook"], type: "STRING" },
    { name: "description", data: ["A glassblower who built lanterns shaped like owls.", "A cartographer of underground rivers beneath Quillmere."], type: "STRING" },
  ] });
  await page.setInputFiles("#files", [
    { name: "comets.txt", mimeType: "text/plain", buffer: Buffer.from("Comet Halvard returns every 93 years and glows green over the northern hills.") },
    { name: "people.parquet", mimeType: "application/vnd.apache.parquet", buffer: Buffer.from(parquet) },
  ]);
  await expect(page.locator("#docs-info")).toContainText("comets.txt, people.parquet");
  await searchDocs(page, "fts", "Halvard");
  await expect(page.locator("#docs-results li")).toHaveCount(1);
  await searchDocs(page, "fts", "lanterns");
  await expect(page.locator("#docs-results li strong")).toHaveText(["Orrin Vale"]);

  // ── reload: everything is still there ──
  since = Date.now();
  await page.reload();
  await expect(page.locator("#status")).toHaveAttribute("data-state", "ready");
  await expect(words).toHaveAttribute("data-state", "ready");
  lap("reloadToWordsReadyMs");
  await expect(page.locator("#words-info")).toContainText("Opened the saved table");
  looksLikeParis(await searchWords(page, "paris"));
  await expect(docs).toHaveAttribute("data-state", "ready");
  await searchDocs(page, "hybrid", "vitamin D deficiency");
  await expect(page.locator("#docs-results li")).toHaveCount(10);
  await page.selectOption("#docs-collection", "mine");
  await expect(page.locator("#docs-info")).toContainText("Opened the saved table");
  await searchDocs(page, "fts", "Halvard");
  await expect(page.locator("#docs-results li")).toHaveCount(1);
  await page.click("#docs .versions-box summary");
  await page.locator(`#docs-versions li[data-version="${before}"] button`).click();
  await expect(page.locator("#docs-versions li:has(em)")).toHaveAttribute("data-version", String(before + 3));
  await searchDocs(page, "fts", "Halvard");
  await expect(page.locator("#docs-results li")).toHaveCount(0);
  await searchDocs(page, "fts", "zorblax");
  expect(await page.locator("#docs-results li").count()).toBeGreaterThan(0);
  await page.screenshot({ path: testInfo.outputPath("demo-desktop.png"), fullPage: true });
  writeFileSync(testInfo.outputPath("timings.json"), JSON.stringify(timings, null, 2));
  console.log(`demo timings: ${JSON.stringify(timings)}`);

  // Deleting everything asks first; saying no deletes nothing.
  dialogs.accept = false;
  await page.click("#reset");
  expect(dialogs.seen.at(-1)).toContain("Delete every demo table");
  dialogs.accept = true;
  await searchDocs(page, "fts", "zorblax harvest");
  expect(await page.locator("#docs-results li").count()).toBeGreaterThan(0);

  // ── 390 px wide: nothing overflows ──
  await page.setViewportSize({ width: 390, height: 844 });
  await page.selectOption("#docs-collection", "scifact");
  await searchDocs(page, "hybrid", "vitamin D deficiency");
  await searchWords(page, "paris");
  const overflow = await page.evaluate(() => {
    const wide = [...document.querySelectorAll<HTMLElement>("body *")].filter((e) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && (r.right > window.innerWidth + 0.5 || r.left < -0.5);
    });
    return { page: document.documentElement.scrollWidth, elements: wide.slice(0, 5).map((e) => `${e.tagName}#${e.id} ${e.getAttribute("class") ?? ""} ${(e.textContent ?? "").slice(0, 30)}`) };
  });
  expect(overflow).toEqual({ page: 390, elements: [] });
  await page.screenshot({ path: testInfo.outputPath("demo-390px.png"), fullPage: true });
  expect(errors).toEqual([]);
});

test.describe("offline (a production build)", () => {
  let out = "";
  let server: ChildProcess | undefined;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    out = mkdtempSync(join(tmpdir(), "quiver-demo-build-"));
    const build = spawnSync("npx", ["vite", "build", "--outDir", out, "--logLevel", "error"], { cwd: repo, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`vite build failed:\n${build.stderr}`);
    server = spawn("npx", ["vite", "preview", "--outDir", out, "--port", String(PREVIEW_PORT), "--strictPort"], { cwd: repo, stdio: "ignore", detached: true });
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://localhost:${PREVIEW_PORT}/precache.json`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error("vite preview did not start");
  });
  test.afterAll(() => {
    if (server?.pid) process.kill(-server.pid);
    rmSync(out, { recursive: true, force: true });
  });

  test("demo: works offline right after the first visit", async ({ page, context }, testInfo) => {
    test.setTimeout(180_000);
    const { errors } = watchErrors(page);
    const origin = `http://localhost:${PREVIEW_PORT}`;
    await page.goto(`${origin}/?n=3000&docs=30`);
    await expect(page.locator("#status")).toHaveAttribute("data-state", "ready");
    await page.click("#words-build");
    await expect(page.locator("#words")).toHaveAttribute("data-state", "ready", { timeout: 90_000 });
    await page.click("#docs-build");
    await expect(page.locator("#docs")).toHaveAttribute("data-state", "ready", { timeout: 90_000 });
    // The service worker has precached the build, and kept the encoder the documents need.
    expect(await page.evaluate(async () => Boolean((await navigator.serviceWorker.ready).active))).toBe(true);
    await expect(page.locator("body")).toHaveAttribute("data-encoder-offline", "true", { timeout: 60_000 });

    await context.setOffline(true);
    await page.reload();
    await expect(page.locator("#status")).toHaveAttribute("data-state", "ready");
    await expect(page.locator("#words")).toHaveAttribute("data-state", "ready");
    // 3,000 words hold fewer capitals than 20,000: France is still the nearest.
    expect((await searchWords(page, "paris"))[0]).toBe("france");
    await expect(page.locator("#docs")).toHaveAttribute("data-state", "ready");
    await searchDocs(page, "hybrid", "vitamin D");
    expect(await page.locator("#docs-results li").count()).toBeGreaterThan(0);
    // transformers.js needs the network: offline, it is not offered.
    await expect(page.locator("#docs-encoder option[value=minilm]")).toBeDisabled();
    // A script that was never cached is an error response, not index.html.
    const missing = await page.evaluate(async () => {
      const r = await fetch("/assets/not-built.js");
      return { status: r.status, type: r.headers.get("Content-Type") };
    });
    expect(missing.status).toBe(504);
    expect(missing.type).toContain("text/plain");
    await page.screenshot({ path: testInfo.outputPath("demo-offline.png"), fullPage: true });
    expect(errors).toEqual([]);
  });
});
