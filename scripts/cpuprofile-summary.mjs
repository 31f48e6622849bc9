#!/usr/bin/env node
// Summarizes a V8 CPU profile (.cpuprofile, as QUIVER_BENCH_CPU_PROFILE writes): self time by
// function, heaviest first (the bottom-up view), then the busy time per slice of the profile so the
// work can be lined up with the requests (the matching .requests.json, when present, is printed too).
//
//   node scripts/cpuprofile-summary.mjs <file.cpuprofile> [--top 30] [--slice 25] [--from ms] [--to ms]
//
// Times count from the first sample inside a function named by --anchor (default "evaluate",
// Playwright's call of the bench page's query: the profile starts some ms before it); --from / --to count self time only
// in that window (ms from the anchor), to line it up with the query's requests.
import { existsSync, readFileSync } from "node:fs";

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--") && !/^\d+$/.test(a));
if (!file) {
  console.error("Usage: node scripts/cpuprofile-summary.mjs <file.cpuprofile> [--top 30] [--slice 25]");
  process.exit(1);
}
const opt = (name, dflt) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : dflt);
const top = opt("top", 30);
const sliceMs = opt("slice", 25);
const from = opt("from", 0);
const to = opt("to", Infinity);

const profile = JSON.parse(readFileSync(file, "utf8"));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const label = (n) => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\//, "")}:${f.lineNumber + 1}:${f.columnNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
};
// Parents, to name the caller of each function's heaviest samples.
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const anchor = args.includes("--anchor") ? args[args.indexOf("--anchor") + 1] : "evaluate";
const inAnchor = (id) => {
  for (let n = id; n !== undefined; n = parent.get(n)) if (nodes.get(n).callFrame.functionName === anchor) return true;
  return false;
};
let zero = 0;
for (let i = 0, at = 0; i < profile.samples.length; i++) {
  at += (profile.timeDeltas[i] ?? 0) / 1000;
  if (inAnchor(profile.samples[i])) { zero = at; break; }
}

const self = new Map();
const callers = new Map();
const slices = [];
let t = -zero;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  // timeDeltas[i] is the time from the previous sample to sample i; the sample stands for the time until the next.
  const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
  t += (profile.timeDeltas[i] ?? 0) / 1000;
  if (t < from || t >= to) continue;
  const node = nodes.get(profile.samples[i]);
  const name = label(node);
  self.set(name, (self.get(name) ?? 0) + dt);
  const p = nodes.get(parent.get(node.id));
  if (p) {
    const by = callers.get(name) ?? new Map();
    by.set(label(p), (by.get(label(p)) ?? 0) + dt);
    callers.set(name, by);
  }
  total += dt;
  const s = Math.floor((t + zero) / sliceMs);
  slices[s] ??= new Map();
  if (node.callFrame.functionName !== "(idle)") slices[s].set(name, (slices[s].get(name) ?? 0) + dt);
}

const ms = (x) => x.toFixed(1).padStart(8);
const idle = [...self].filter(([n]) => n.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
console.log(`${file}: ${total.toFixed(0)} ms (from ${from} to ${to} ms after the first sample in ${anchor}, ${zero.toFixed(0)} ms into the profile): busy ${(total - idle).toFixed(0)} ms, idle ${idle.toFixed(0)} ms`);
console.log(`\nself ms  function (heaviest caller)`);
for (const [name, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  const caller = [...(callers.get(name) ?? [])].sort((a, b) => b[1] - a[1])[0];
  console.log(`${ms(v)}  ${name}${caller ? `   ← ${caller[0]}` : ""}`);
}
console.log(`\nbusy ms per ${sliceMs} ms of the profile (heaviest function in the slice)`);
slices.forEach((m, s) => {
  if (!m) return;
  const busy = [...m.values()].reduce((a, b) => a + b, 0);
  const [name, v] = [...m].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
  console.log(`${String(Math.round(s * sliceMs - zero)).padStart(6)}  ${ms(busy)}  ${name} ${v.toFixed(1)}`);
});

const requests = file.replace(/\.cpuprofile$/, ".requests.json");
if (existsSync(requests)) {
  const { ms: queryMs, requests: list, server = [] } = JSON.parse(readFileSync(requests, "utf8"));
  console.log(`\nrequests of the query (${queryMs.toFixed(0)} ms), ms from its start: fetch, sent, first byte, last byte, KB`);
  for (const r of [...list].sort((a, b) => a.start - b.start)) {
    console.log(`${ms(r.start)} ${ms(r.requestStart)} ${ms(r.responseStart)} ${ms(r.responseEnd)} ${(r.bytes / 1024).toFixed(0).padStart(7)}  ${r.url.replace(/^.*\//, "")}`);
  }
  if (server.length > 0) {
    console.log(`\nthe server's log: ms from the first arrival: arrived, answered, KB, ranges`);
    for (const r of [...server].sort((a, b) => a.arrived - b.arrived)) {
      console.log(`${ms(r.arrived)} ${ms(r.end)} ${(r.bytes / 1024).toFixed(0).padStart(7)} ${String(r.ranges).padStart(5)}  ${r.path.replace(/^.*\//, "")}`);
    }
  }
}
