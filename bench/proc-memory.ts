/**
 * Chromium's memory as Linux counts it, read from /proc for the browser processes this Node process
 * started (bench/scale-chromium.ts).
 *
 * Which figure is which (per process):
 *
 *   VmRSS           every resident page mapped by the process, including the file-backed pages of
 *                   the chromium binary and its shared libraries, which every Chromium process maps
 *                   and the OS keeps once (RssFile), and shared memory (RssShmem)
 *   RssAnon         resident anonymous pages: the process's own heap, JS heaps, WebAssembly
 *                   memories, compiled code. RssAnon + VmSwap is Chrome's "private memory
 *                   footprint" on Linux, the figure its task manager shows as a tab's "Memory
 *                   footprint" (memory_instrumentation's CalculatePrivateFootprintKb)
 *   Private_*       (smaps_rollup) pages mapped by this process alone, clean and dirty: the
 *                   unique set size; close to RssAnon, plus file pages no other process maps
 *   Pss             resident pages with each shared page divided among the processes sharing it
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Bytes, per the field names of /proc/PID/status and /proc/PID/smaps_rollup. */
export interface ProcMemory {
  pid: number;
  vmRss: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  vmSwap: number;
  pss: number;
  privateClean: number;
  privateDirty: number;
  sharedClean: number;
  sharedDirty: number;
  anonymous: number;
  /** RssAnon + VmSwap: Chrome's private memory footprint on Linux. */
  footprint: number;
}

/** "Field:   123 kB" lines → bytes by field name. */
function kbFields(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) out.set(m[1]!, Number(m[2]) * 1024);
  return out;
}

/** One process's memory, or undefined when it has exited (or /proc is not readable). */
export function procMemory(pid: number): ProcMemory | undefined {
  try {
    const status = kbFields(readFileSync(`/proc/${pid}/status`, "utf8"));
    const rollup = kbFields(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    const f = (m: Map<string, number>, name: string): number => m.get(name) ?? 0;
    return {
      pid,
      vmRss: f(status, "VmRSS"), rssAnon: f(status, "RssAnon"), rssFile: f(status, "RssFile"), rssShmem: f(status, "RssShmem"), vmSwap: f(status, "VmSwap"),
      pss: f(rollup, "Pss"), privateClean: f(rollup, "Private_Clean"), privateDirty: f(rollup, "Private_Dirty"),
      sharedClean: f(rollup, "Shared_Clean"), sharedDirty: f(rollup, "Shared_Dirty"), anonymous: f(rollup, "Anonymous"),
      footprint: f(status, "RssAnon") + f(status, "VmSwap"),
    };
  } catch {
    return undefined;
  }
}

/** Chromium's processes among this Node process's descendants, with their --type (browser when none). */
export function chromiumProcesses(): { pid: number; type: string }[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch { /* exited meanwhile */ }
  }
  const ours = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parent) if (!ours.has(pid) && ours.has(ppid)) { ours.add(pid); grew = true; }
  }
  ours.delete(process.pid);
  const out: { pid: number; type: string }[] = [];
  for (const pid of ours) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmd.includes("chrom")) continue;
      out.push({ pid, type: /--type=([\w-]+)/.exec(cmd)?.[1] ?? "browser" });
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** A sample: the tab's renderer (the renderer with the most private memory), and VmRSS of all Chromium processes. */
export interface TabSample { renderer: ProcMemory | undefined; chromiumVmRss: number }

export function sampleTab(): TabSample {
  let renderer: ProcMemory | undefined;
  let chromiumVmRss = 0;
  for (const { pid, type } of chromiumProcesses()) {
    const m = procMemory(pid);
    if (m === undefined) continue;
    chromiumVmRss += m.vmRss;
    if (type === "renderer" && (renderer === undefined || m.footprint > renderer.footprint)) renderer = m;
  }
  return { renderer, chromiumVmRss };
}

/** Peaks per phase of the renderer's VmRSS and private footprint, and of all Chromium's VmRSS. */
export interface PhasePeak { vmRss: number; footprint: number; chromiumVmRss: number }

/** The tab's memory sampled every 250 ms (peaks per named phase), plus marks taken at named stages. */
export class TabMemory {
  readonly peaks = new Map<string, PhasePeak>();
  readonly marks = new Map<string, ProcMemory>();
  phase = "idle";
  readonly #timer: NodeJS.Timeout;
  readonly #start = Date.now();
  /** QUIVER_BENCH_TRACE=<file>: every sample and mark appended as a line (ms, phase, MiB), to line memory up with a phase's steps. */
  readonly #trace = process.env.QUIVER_BENCH_TRACE;

  constructor(everyMs = 250) {
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  /** A line in the trace file (when QUIVER_BENCH_TRACE names one). */
  trace(line: string): void {
    if (this.#trace) appendFileSync(this.#trace, `${Date.now() - this.#start}\t${this.phase}\t${line}\n`);
  }

  sample(): TabSample {
    const s = sampleTab();
    if (s.renderer) this.trace(`footprint ${(s.renderer.footprint / 2 ** 20).toFixed(1)} vmrss ${(s.renderer.vmRss / 2 ** 20).toFixed(1)}`);
    const p = this.peaks.get(this.phase) ?? { vmRss: 0, footprint: 0, chromiumVmRss: 0 };
    this.peaks.set(this.phase, {
      vmRss: Math.max(p.vmRss, s.renderer?.vmRss ?? 0), footprint: Math.max(p.footprint, s.renderer?.footprint ?? 0), chromiumVmRss: Math.max(p.chromiumVmRss, s.chromiumVmRss),
    });
    return s;
  }

  /**
   * The renderer's memory now, kept under `label`. With QUIVER_BENCH_SMAPS=<dir> in the
   * environment, its /proc/PID/smaps (every mapping) is copied there too, to see what holds it.
   */
  mark(label: string): ProcMemory | undefined {
    const r = this.sample().renderer;
    if (r === undefined) return r;
    this.marks.set(label, r);
    this.trace(`mark ${label}`);
    const dir = process.env.QUIVER_BENCH_SMAPS;
    if (dir) {
      try {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${this.marks.size.toString().padStart(2, "0")}-${label.replace(/[^\w.-]+/g, "_")}.smaps`), readFileSync(`/proc/${r.pid}/smaps`));
      } catch { /* exited meanwhile */ }
    }
    return r;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
