/**
 * A diagnosis for the Chromium benchmarks: CPU profiles of a page's dedicated workers, where
 * Quiver's queries run. Playwright opens CDP sessions for pages and frames only, so the page's own
 * session auto-attaches to its workers (unflattened: each worker is reached through
 * Target.sendMessageToTarget) and readies V8's sampling profiler in each as it starts; start() and
 * stop() bracket a window (a timed pass), and stop writes one .cpuprofile per worker (open it in
 * Chrome DevTools' Performance panel) and prints the functions with the most self time.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CDPSession } from "@playwright/test";

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export class WorkerProfiler {
  private readonly sessions = new Map<string, string>();
  private readonly pending = new Map<number, (result: unknown) => void>();
  private nextId = 1;

  private constructor(private readonly cdp: CDPSession, private readonly intervalUs: number) {}

  /** Readies the profiler of every dedicated worker the page starts from now until detach(). */
  static async attach(cdp: CDPSession, intervalUs = 100): Promise<WorkerProfiler> {
    const p = new WorkerProfiler(cdp, intervalUs);
    cdp.on("Target.attachedToTarget", p.onAttached);
    cdp.on("Target.detachedFromTarget", p.onDetached);
    cdp.on("Target.receivedMessageFromTarget", p.onMessage);
    await cdp.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
    return p;
  }

  private readonly onAttached = (e: { sessionId: string; targetInfo: { type: string; url: string } }): void => {
    if (e.targetInfo.type !== "worker") return;
    this.sessions.set(e.sessionId, e.targetInfo.url);
    void (async () => {
      await this.send(e.sessionId, "Profiler.enable");
      await this.send(e.sessionId, "Profiler.setSamplingInterval", { interval: this.intervalUs });
      await this.send(e.sessionId, "Runtime.runIfWaitingForDebugger");
    })();
  };

  private readonly onDetached = (e: { sessionId: string }): void => void this.sessions.delete(e.sessionId);

  private readonly onMessage = (e: { message: string }): void => {
    const m = JSON.parse(e.message) as { id?: number; result?: unknown };
    if (m.id !== undefined) this.pending.get(m.id)?.(m.result), this.pending.delete(m.id);
  };

  private send(sessionId: string, method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    const done = new Promise<unknown>((resolve) => this.pending.set(id, resolve));
    void this.cdp.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params }) });
    return done;
  }

  async start(): Promise<void> {
    for (const sessionId of this.sessions.keys()) await this.send(sessionId, "Profiler.start");
  }

  /** Stops every live worker's profiler, writes <dir>/<label>-<n>.cpuprofile, prints the top self times. */
  async stop(dir: string, label: string, top = 40): Promise<void> {
    let n = 0;
    for (const sessionId of this.sessions.keys()) {
      const r = (await this.send(sessionId, "Profiler.stop")) as { profile?: Profile } | undefined;
      if (!r?.profile) continue;
      const file = join(dir, `${label}-${n++}.cpuprofile`);
      writeFileSync(file, JSON.stringify(r.profile));
      console.error(`[bench] cpu profile ${file}\n${selfTimes(r.profile, top)}`);
    }
  }

  async detach(): Promise<void> {
    await this.cdp.send("Target.setAutoAttach", { autoAttach: false, waitForDebuggerOnStart: false, flatten: false });
    this.cdp.off("Target.attachedToTarget", this.onAttached);
    this.cdp.off("Target.detachedFromTarget", this.onDetached);
    this.cdp.off("Target.receivedMessageFromTarget", this.onMessage);
  }
}

/** Self time per function (ms and share), the largest first. */
export function selfTimes(p: Profile, top: number): string {
  const byNode = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) byNode.set(p.samples[i]!, (byNode.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const byFn = new Map<string, number>();
  for (const node of p.nodes) {
    const us = byNode.get(node.id);
    if (us === undefined) continue;
    const f = node.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const total = [...byFn.values()].reduce((s, x) => s + x, 0);
  return [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, us]) => `${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`).join("\n");
}
