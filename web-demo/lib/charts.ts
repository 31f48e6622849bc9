// Small hand-drawn SVG charts. Each mark carries its numbers in data-* attributes, so the
// browser test (and anyone inspecting the page) can read the points, not just see them.
const NS = "http://www.w3.org/2000/svg";

type Attrs = Record<string, string | number | boolean | undefined>;

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Attrs = {}, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(width: number, height: number, label: string): SVGSVGElement {
  // The viewBox scales the chart to its container (CSS width: 100%), down to a 390 px phone.
  return el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, preserveAspectRatio: "xMidYMid meet" });
}

const fmt = (x: number) => (x < 1 ? x.toFixed(2) : x < 10 ? x.toFixed(1) : x.toFixed(0));

// ── recall vs latency ──────────────────────────────────────────────────────────────────────────

export interface CurvePoint {
  /** What the point is, e.g. "nprobes 8, refine ×4" or "exact scan". */
  label: string;
  recall: number;
  msPerQuery: number;
  exact?: boolean;
  params?: Record<string, number>;
}

/**
 * Recall@k (y, 0…1) against milliseconds per query (x, log scale). Points of one refine factor are
 * joined; the exact scan is a square at recall 1; the cheapest point at or above `target` is ringed.
 */
export function recallCurve(points: readonly CurvePoint[], target: number, k: number): { svg: SVGSVGElement; cheapest?: CurvePoint } {
  const W = 560, H = 300, L = 48, R = 16, T = 16, B = 40;
  const out = svg(W, H, `recall@${k} against milliseconds per query`);
  const ms = points.map((p) => p.msPerQuery).filter((x) => x > 0);
  const lo = Math.log10(Math.max(0.01, Math.min(...ms, 1) / 1.5));
  const hi = Math.log10(Math.max(...ms, 1) * 1.5);
  const yMin = Math.max(0, Math.floor(Math.min(...points.map((p) => p.recall), target) * 10) / 10 - 0.05);
  const x = (v: number) => L + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (W - L - R);
  const y = (r: number) => T + (1 - (r - yMin) / (1 - yMin)) * (H - T - B);

  // Axes, grid and labels.
  out.append(el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }), el("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) < lo || Math.log10(v) > hi) continue;
      out.append(el("line", { x1: x(v), y1: T, x2: x(v), y2: H - B, class: "grid" }), el("text", { x: x(v), y: H - B + 14, class: "tick", "text-anchor": "middle" }, fmt(v)));
    }
  }
  for (let r = Math.ceil(yMin * 10) / 10; r <= 1.0001; r += 0.1) {
    out.append(el("line", { x1: L, y1: y(r), x2: W - R, y2: y(r), class: "grid" }), el("text", { x: L - 6, y: y(r) + 4, class: "tick", "text-anchor": "end" }, r.toFixed(1)));
  }
  out.append(
    el("text", { x: (L + W - R) / 2, y: H - 6, class: "label", "text-anchor": "middle" }, "milliseconds per query (log scale)"),
    el("text", { x: 12, y: (T + H - B) / 2, class: "label", "text-anchor": "middle", transform: `rotate(-90 12 ${(T + H - B) / 2})` }, `recall@${k}`),
    el("line", { x1: L, y1: y(target), x2: W - R, y2: y(target), class: "target" }),
    el("text", { x: W - R - 4, y: y(target) - 4, class: "tick", "text-anchor": "end" }, `target ${target}`),
  );

  const approx = points.filter((p) => !p.exact);
  const series = new Map<number, CurvePoint[]>();
  for (const p of approx) {
    const refine = p.params?.refineFactor ?? 1;
    series.set(refine, [...(series.get(refine) ?? []), p]);
  }
  let s = 0;
  for (const [refine, list] of series) {
    // Joined in knob order (nprobes / ef rising), so a noisy timing shows as a kink, not a jump.
    const knob = (p: CurvePoint) => p.params?.nprobes ?? p.params?.ef ?? 0;
    const sorted = [...list].sort((a, b) => knob(a) - knob(b));
    out.append(el("polyline", { points: sorted.map((p) => `${x(p.msPerQuery)},${y(p.recall)}`).join(" "), class: `series s${s}`, "data-refine": refine }));
    const last = sorted.at(-1)!;
    const right = x(last.msPerQuery) > W * 0.7;
    out.append(el("text", { x: x(last.msPerQuery) + (right ? -6 : 6), y: y(last.recall) + 14, "text-anchor": right ? "end" : "start", class: `tick s${s}` }, refine > 1 ? `refine ×${refine}` : "no refine"));
    s++;
  }
  const cheapest = approx.filter((p) => p.recall >= target).sort((a, b) => a.msPerQuery - b.msPerQuery)[0];
  for (const p of points) {
    const common = {
      class: `point${p.exact ? " exact" : ""}${p === cheapest ? " cheapest" : ""}`,
      "data-recall": p.recall.toFixed(4),
      "data-ms": p.msPerQuery.toFixed(4),
      "data-label": p.label,
      "data-exact": p.exact ? "true" : undefined,
      "data-cheapest": p === cheapest ? "true" : undefined,
      ...Object.fromEntries(Object.entries(p.params ?? {}).map(([k2, v]) => [`data-${k2.toLowerCase()}`, v])),
    };
    const mark = p.exact
      ? el("rect", { ...common, x: x(p.msPerQuery) - 5, y: y(p.recall) - 5, width: 10, height: 10 })
      : el("circle", { ...common, cx: x(p.msPerQuery), cy: y(p.recall), r: p === cheapest ? 7 : 4 });
    mark.append(el("title", {}, `${p.label}: recall ${p.recall.toFixed(3)}, ${p.msPerQuery.toFixed(2)} ms/query`));
    out.append(mark);
    if (p.exact) out.append(el("text", { x: Math.min(x(p.msPerQuery), W - R - 30), y: y(p.recall) - 9, class: "tick", "text-anchor": "middle" }, "exact scan"));
  }
  return { svg: out, cheapest };
}

// ── build timeline ─────────────────────────────────────────────────────────────────────────────

export interface Phase {
  name: string;
  /** Milliseconds from the start of the build. */
  start: number;
  end: number;
}

/** One bar per phase on a shared time axis, in the order they ran. */
export function timeline(phases: readonly Phase[]): SVGSVGElement {
  const W = 560, L = 120, R = 60, row = 22, T = 8;
  const H = T + phases.length * row + 26;
  const out = svg(W, H, "build phases over time");
  const total = Math.max(1, ...phases.map((p) => p.end));
  const x = (t: number) => L + (t / total) * (W - L - R);
  phases.forEach((p, i) => {
    const y = T + i * row;
    const g = el("g", { class: "phase", "data-phase": p.name, "data-ms": Math.round(p.end - p.start), "data-start": Math.round(p.start) });
    g.append(
      el("text", { x: L - 6, y: y + 14, class: "tick", "text-anchor": "end" }, p.name),
      el("rect", { x: x(p.start), y: y + 3, width: Math.max(1.5, x(p.end) - x(p.start)), height: row - 8, class: `bar b${i % 6}` }),
      el("text", { x: x(p.end) + 4, y: y + 14, class: "tick" }, `${fmt((p.end - p.start) / 1000)} s`),
    );
    out.append(g);
  });
  const y = T + phases.length * row + 4;
  out.append(el("line", { x1: L, y1: y, x2: W - R, y2: y, class: "axis" }), el("text", { x: W - R, y: y + 16, class: "tick", "text-anchor": "end" }, `${fmt(total / 1000)} s in all`));
  return out;
}

// ── 2-D map ────────────────────────────────────────────────────────────────────────────────────

export interface MapPoint {
  x: number;
  y: number;
  label: string;
  role: "sample" | "neighbour" | "query";
}

/** A scatter of projected points: the sample as faint dots, the neighbours labelled, the query on top. */
export function scatter(points: readonly MapPoint[], caption: string): SVGSVGElement {
  const W = 560, H = 360, P = 14;
  const out = svg(W, H, caption);
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (v: number) => P + ((v - x0) / (x1 - x0 || 1)) * (W - 2 * P);
  const sy = (v: number) => H - P - ((v - y0) / (y1 - y0 || 1)) * (H - 2 * P);
  const order = { sample: 0, neighbour: 1, query: 2 } as const;
  for (const p of [...points].sort((a, b) => order[a.role] - order[b.role])) {
    const c = el("circle", {
      cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: p.role === "sample" ? 2 : p.role === "neighbour" ? 4 : 6,
      class: `dot ${p.role}`, "data-role": p.role, "data-label": p.label, "data-x": p.x.toFixed(4), "data-y": p.y.toFixed(4),
    });
    c.append(el("title", {}, p.label));
    out.append(c);
    // Labels point inwards, so none runs past the chart's edge.
    const right = sx(p.x) > W / 2;
    if (p.role !== "sample") out.append(el("text", { x: sx(p.x) + (right ? -6 : 6), y: sy(p.y) - 5, "text-anchor": right ? "end" : "start", class: `map-label ${p.role}` }, p.label.length > 28 ? p.label.slice(0, 27) + "…" : p.label));
  }
  return out;
}
