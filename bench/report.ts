/**
 * Shared pieces of every benchmark: machine facts (including a measured memory bandwidth),
 * latency statistics, and the two outputs BENCH.md asks for — `bench/results/<name>.json` for tools
 * and `bench/results/<name>.md` for people.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = dirname(fileURLToPath(import.meta.url));
export const resultsDir = resolve(benchDir, "results");

// ── machine ─────────────────────────────────────────────────────────────────────────────────

export interface MachineInfo {
  cpus: number;
  cpu_model: string;
  node: string;
  total_memory_gb: number;
  /** Single-thread read bandwidth of a large block (see `measureMemoryBandwidth`). */
  memory_bandwidth_gb_s?: number;
  /** How the bandwidth was measured, and the other figures taken alongside it. */
  memory_bandwidth?: MemoryBandwidth;
  /** Peak resident set size of the benchmark process, read when the results are written. */
  peak_rss_mb?: number;
  note: string;
}

export function machineInfo(note = ""): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpu_model: list[0]?.model.trim() ?? "unknown",
    node: process.version,
    total_memory_gb: round(totalmem() / 2 ** 30, 1),
    note,
  };
}

/** Peak RSS of this process in MB (Node reports maxRSS in KiB). */
export function peakRssMb(): number {
  return round(process.resourceUsage().maxRSS / 1024, 0);
}

// ── memory bandwidth ────────────────────────────────────────────────────────────────────────

export interface MemoryBandwidth {
  /** WebAssembly SIMD sum over `bytes` (one thread, v128 loads, 4 accumulators): best pass. */
  wasm_simd_read_gb_s: number;
  /** `Float32Array.prototype.set` of bytes/2 → bytes/2, counting read + write bytes: best pass. */
  js_copy_gb_s: number;
  /** A plain JS for-loop summing a Float32Array of bytes/2 (one accumulator, so add-latency bound): best pass. */
  js_read_gb_s: number;
  bytes: number;
  passes: number;
  /** When measured more than once in a run (e.g. at its start and end): each measurement. */
  runs?: Omit<MemoryBandwidth, "runs">[];
}

/**
 * The best of several measurements, each kept in `runs`. A shared machine's bandwidth dips while a
 * neighbour works; the best figure is the ceiling a scan should be compared with.
 */
export function bestBandwidth(runs: MemoryBandwidth[]): MemoryBandwidth {
  const best = (f: (m: MemoryBandwidth) => number) => Math.max(...runs.map(f));
  return {
    wasm_simd_read_gb_s: best((m) => m.wasm_simd_read_gb_s),
    js_copy_gb_s: best((m) => m.js_copy_gb_s),
    js_read_gb_s: best((m) => m.js_read_gb_s),
    bytes: runs[0]!.bytes,
    passes: runs.reduce((n, m) => n + m.passes, 0),
    runs: runs.map(({ runs: _, ...m }) => m),
  };
}

/**
 * A read-only streaming kernel, compiled at run time with the repo's AssemblyScript compiler so the
 * measurement does not depend on the Quiver kernels it is compared with. Each step reads one 64-byte
 * cache line into four independent accumulators, so the loop is limited by memory, not add latency.
 */
const READ_KERNEL = `
export function read_f32(ptr: usize, bytes: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let end = ptr + bytes;
  for (let p = ptr; p < end; p += 64) {
    a0 = f32x4.add(a0, v128.load(p));
    a1 = f32x4.add(a1, v128.load(p, 16));
    a2 = f32x4.add(a2, v128.load(p, 32));
    a3 = f32x4.add(a3, v128.load(p, 48));
  }
  let s = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
export function grow(pages: i32): i32 { return memory.grow(pages); }
`;

interface ReadKernel {
  memory: WebAssembly.Memory;
  read_f32(ptr: number, bytes: number): number;
  grow(pages: number): number;
}

/** A block of WebAssembly memory and the read kernel: each `pass()` streams it once and returns GB/s. */
export interface ReadProbe {
  bytes: number;
  pass(): number;
}

/**
 * Compiles the read kernel and fills a `bytes` block (every page touched before timing). Benchmarks
 * can call `pass()` between their own measurements to know the bandwidth under the same conditions.
 */
export async function createReadProbe(bytes: number): Promise<ReadProbe> {
  const { default: asc } = await import("assemblyscript/asc");
  const compiled = await asc.compileString(READ_KERNEL, { optimizeLevel: 3, enable: ["simd"], runtime: "stub", noAssert: true });
  if (compiled.binary === null) throw new Error(`memory bandwidth kernel did not compile: ${compiled.stderr.toString()}`);
  const { instance } = await WebAssembly.instantiate(compiled.binary as Uint8Array<ArrayBuffer>, { env: { abort() {} } });
  const k = instance.exports as unknown as ReadKernel;
  const base = k.memory.buffer.byteLength;
  if (k.grow(Math.ceil(bytes / 65536)) < 0) throw new Error(`cannot grow WebAssembly memory by ${bytes} bytes`);
  new Float32Array(k.memory.buffer, base, bytes / 4).fill(1);
  let sink = 0;
  return {
    bytes,
    pass() {
      const t = performance.now();
      sink += k.read_f32(base, bytes);
      const gbs = bytes / ((performance.now() - t) * 1e6);
      return sink === -1 ? 0 : gbs; // reads the sum so the kernel's work stays observable
    },
  };
}

/**
 * Measures single-thread memory bandwidth three ways over `bytes` (default 1 GiB, far beyond any
 * cache). The WebAssembly SIMD read is the headline: it is the ceiling for a one-thread scan.
 */
export async function measureMemoryBandwidth(bytes = 2 ** 30, passes = 5): Promise<MemoryBandwidth> {
  const probe = await createReadProbe(bytes);
  let wasmBest = 0;
  for (let p = 0; p < passes; p++) wasmBest = Math.max(wasmBest, probe.pass());
  let sink = 0;

  const half = bytes / 2;
  const a = new Float32Array(half / 4).fill(1);
  const b = new Float32Array(half / 4);
  let copyBest = 0;
  let readBest = 0;
  for (let p = 0; p < passes; p++) {
    let t = performance.now();
    b.set(a);
    copyBest = Math.max(copyBest, (2 * half) / ((performance.now() - t) * 1e6));
    t = performance.now();
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]!;
    sink += s;
    readBest = Math.max(readBest, half / ((performance.now() - t) * 1e6));
  }
  if (sink === -1) console.log(sink); // keeps the sums observable
  return { wasm_simd_read_gb_s: round(wasmBest, 2), js_copy_gb_s: round(copyBest, 2), js_read_gb_s: round(readBest, 2), bytes, passes };
}

// ── contention ──────────────────────────────────────────────────────────────────────────────

/** Busy CPU time of the whole machine since boot in ms (user, nice, system, irq, softirq, steal), from /proc/stat. */
function machineBusyMs(): number | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ = 100 on Linux
  } catch {
    return undefined;
  }
}

export interface CpuWindow {
  wallMs: number;
  /** CPU time of this process (all its threads). */
  ownCpuMs: number;
  /** CPU time of everything else on the machine, steal included; NaN off Linux. */
  othersCpuMs: number;
}

/**
 * Starts a measurement window; call the result to close it. On a shared machine the CPU time other
 * processes took meanwhile says how disturbed a figure is.
 */
export function cpuWindow(): () => CpuWindow {
  const busy0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const ownCpuMs = (cpu.user + cpu.system) / 1000;
    const busy1 = machineBusyMs();
    const othersCpuMs = busy0 === undefined || busy1 === undefined ? NaN : Math.max(0, busy1 - busy0 - ownCpuMs);
    return { wallMs, ownCpuMs, othersCpuMs };
  };
}

// ── statistics ──────────────────────────────────────────────────────────────────────────────

/** The q-quantile (0..1) of `values` by the nearest-rank method. */
/** Mean ms per call of `fn` over at least `minMs` of calls, after 3 warm-up calls (kernel micro-benches). */
export function msPerRun(fn: () => unknown, minMs = 500): number {
  for (let i = 0; i < 3; i++) fn();
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    runs++;
  }
  return (performance.now() - start) / runs;
}

export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export const median = (values: ArrayLike<number>): number => quantile(values, 0.5);
export const p99 = (values: ArrayLike<number>): number => quantile(values, 0.99);

export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Rounds to `sig` significant digits, for figures spanning orders of magnitude (qps, ms). */
export function sig(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}

// ── results ─────────────────────────────────────────────────────────────────────────────────

/** One measured configuration; the named fields follow BENCH.md, others may be added. */
export interface ResultRow {
  system: string;
  variant?: string;
  dataset: string;
  metric?: string;
  params?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface Results {
  benchmark: string;
  date: string;
  machine: MachineInfo;
  rows: ResultRow[];
  [field: string]: unknown;
}

/** A column of the markdown table: a heading and how to print a row's value. */
export interface Column {
  heading: string;
  value: (row: ResultRow) => unknown;
}

export interface MarkdownOptions {
  title: string;
  /** Paragraphs printed under the title (what is measured, what the goals are). */
  intro?: string[];
  columns: Column[];
  /** Rows are grouped into one table per distinct value of this field (default: dataset). */
  groupBy?: string;
  /** Per-group text printed above the group's table (dataset description). */
  groupIntro?: (group: string, rows: ResultRow[]) => string | undefined;
  /** Paragraphs printed after the tables (findings, caveats). */
  notes?: string[];
  /** The command that reproduces the run. */
  reproduce: string;
}

function cell(v: unknown): string {
  if (v === undefined || v === null || (typeof v === "number" && Number.isNaN(v))) return "–";
  if (typeof v === "number") return String(v);
  if (typeof v === "object") {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}=${typeof x === "object" ? JSON.stringify(x) : String(x)}`)
      .join(", ");
  }
  return String(v).replace(/\|/g, "\\|");
}

export function markdownTable(rows: ResultRow[], columns: Column[]): string {
  const head = `| ${columns.map((c) => c.heading).join(" | ")} |`;
  const rule = `|${columns.map(() => "---").join("|")}|`;
  const body = rows.map((r) => `| ${columns.map((c) => cell(c.value(r))).join(" | ")} |`);
  return [head, rule, ...body].join("\n");
}

function machineLine(m: MachineInfo): string {
  const bw = m.memory_bandwidth;
  const parts = [
    `${m.cpus} × ${m.cpu_model}`,
    `${m.total_memory_gb} GB RAM`,
    `Node ${m.node}`,
    bw
      ? `memory bandwidth (1 thread, ${Math.round(bw.bytes / 2 ** 20)} MiB block, best of ${bw.passes} passes` +
        `${bw.runs && bw.runs.length > 1 ? ` over ${bw.runs.length} measurements: ${bw.runs.map((r) => r.wasm_simd_read_gb_s).join(" / ")}` : ""}): ` +
        `**${bw.wasm_simd_read_gb_s} GB/s** WASM SIMD read, ${bw.js_read_gb_s} GB/s JS for-loop sum, ${bw.js_copy_gb_s} GB/s TypedArray copy (read + write bytes)`
      : undefined,
    m.peak_rss_mb !== undefined ? `peak RSS ${m.peak_rss_mb} MB` : undefined,
  ];
  return parts.filter((p) => p !== undefined).join("; ") + (m.note ? `. ${m.note}` : "");
}

export function renderMarkdown(results: Results, options: MarkdownOptions): string {
  const out: string[] = [`# ${options.title}`, ""];
  for (const p of options.intro ?? []) out.push(p, "");
  out.push(`Run ${results.date} on ${machineLine(results.machine)}`, "");
  const key = options.groupBy ?? "dataset";
  const groups = new Map<string, ResultRow[]>();
  for (const r of results.rows) {
    const g = String(r[key]);
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  for (const [g, rows] of groups) {
    out.push(`## ${g}`, "");
    const intro = options.groupIntro?.(g, rows);
    if (intro) out.push(intro, "");
    out.push(markdownTable(rows, options.columns), "");
  }
  for (const p of options.notes ?? []) out.push(p, "");
  out.push(`Reproduce: \`${options.reproduce}\` (writes bench/results/${results.benchmark}.json and .md).`, "");
  return out.join("\n");
}

/** Writes bench/results/<name>.json and bench/results/<name>.md; returns their paths. */
export function writeResults(results: Results, markdown: MarkdownOptions): { json: string; md: string } {
  mkdirSync(resultsDir, { recursive: true });
  results.machine.peak_rss_mb ??= peakRssMb();
  const json = join(resultsDir, `${results.benchmark}.json`);
  const md = join(resultsDir, `${results.benchmark}.md`);
  writeFileSync(json, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(md, renderMarkdown(results, markdown));
  return { json, md };
}

/** One progress line on stderr, so stdout stays clean for tools. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
