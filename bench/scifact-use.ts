/**
 * Universal Sentence Encoder vectors of the SciFact corpus and test queries, cached outside the repo.
 * USE (TensorFlow.js, CPU) embeds about 7 abstracts/s here, so the 5,183 + 300 texts take minutes;
 * the vectors are written once to `$QUIVER_SCIFACT_CACHE` (default `os.tmpdir()`) under a name keyed
 * by a hash of the model files' manifest, the normalization and every text, and read back on reruns.
 * A cold run splits the texts over child processes (one per CPU, `--use-jobs n` to change it).
 *
 *   npx tsx bench/scifact-use.ts [--train]   # fill the cache ahead of `npm run bench -- scifact`
 *
 * Cache file: "QVUSE1\n" + JSON header line { key, count, dims } + count × dims float32 (little-endian).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_USE_PATH, UniversalSentenceEncoder } from "../examples/use-embedding.js";
import { progress } from "./report.js";
import { loadScifact, type Scifact } from "./scifact-data.js";

const MAGIC = "QVUSE1\n";
const DIMS = 512;
const BATCH = 32;

/** The text embedded for a document: title and abstract. */
export const useDocText = (d: { title: string; text: string }): string => `${d.title}. ${d.text}`;

export interface UseVectors {
  /** One unit-length 512-d vector per corpus document, in corpus order. */
  docs: Float32Array[];
  /** Query id → unit-length vector. */
  queries: Map<string, Float32Array>;
  /** True when read from the cache file. */
  cached: boolean;
  file: string;
  /** Seconds spent embedding (0 when cached), and texts per second. */
  embed_s: number;
}

function cacheKey(texts: readonly string[]): string {
  const h = createHash("sha256");
  h.update(readFileSync(join(DEFAULT_USE_PATH, "model.json")));
  h.update("\0normalize=true\0");
  for (const t of texts) h.update(t).update("\0");
  return h.digest("hex").slice(0, 24);
}

function writeVectors(file: string, key: string, vectors: readonly Float32Array[]): void {
  const head = Buffer.from(MAGIC + JSON.stringify({ key, count: vectors.length, dims: DIMS }) + "\n");
  const body = new Float32Array(vectors.length * DIMS);
  vectors.forEach((v, i) => body.set(v, i * DIMS));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.concat([head, Buffer.from(body.buffer)]));
  renameSync(tmp, file); // a killed run never leaves a half-written cache behind
}

function readVectors(file: string, key: string): Float32Array[] | undefined {
  if (!existsSync(file)) return undefined;
  const buf = readFileSync(file);
  if (buf.subarray(0, MAGIC.length).toString() !== MAGIC) return undefined;
  const nl = buf.indexOf(10, MAGIC.length);
  const head = JSON.parse(buf.subarray(MAGIC.length, nl).toString()) as { key: string; count: number; dims: number };
  if (head.key !== key || head.dims !== DIMS) return undefined;
  const body = buf.subarray(nl + 1);
  const all = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + head.count * DIMS * 4));
  return Array.from({ length: head.count }, (_, i) => all.subarray(i * DIMS, (i + 1) * DIMS));
}

async function embedAll(texts: readonly string[], label: string): Promise<Float32Array[]> {
  const fn = new UniversalSentenceEncoder();
  await fn.init();
  const out: Float32Array[] = [];
  const t = performance.now();
  for (let at = 0; at < texts.length; at += BATCH) {
    out.push(...(await fn.computeSourceEmbeddings(texts.slice(at, at + BATCH))));
    if ((at / BATCH) % 10 === 9) {
      const s = (performance.now() - t) / 1000;
      progress(`${label}: ${out.length}/${texts.length} embedded (${(out.length / s).toFixed(1)}/s)`);
    }
  }
  return out;
}

/** Child process: embeds texts [from, to) of a JSON list and writes them as a cache-format file. */
async function child(textsFile: string, from: number, to: number, outFile: string): Promise<void> {
  const texts = (JSON.parse(readFileSync(textsFile, "utf8")) as string[]).slice(from, to);
  writeVectors(outFile, "part", await embedAll(texts, `USE [${from}, ${to})`));
}

function runChild(args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: ["ignore", "inherit", "inherit"] });
    p.on("error", rej);
    p.on("exit", (code) => (code === 0 ? res() : rej(new Error(`USE child exited with ${code}`))));
  });
}

/**
 * Vectors of `texts`, from the cache file for exactly these texts when there is one, else embedded
 * (in `jobs` child processes) and cached. The corpus and each query set are cached separately, so a
 * new query set never re-embeds the corpus.
 */
export async function cachedUseVectors(texts: readonly string[], jobs = Math.max(1, Math.min(cpus().length, 4))): Promise<{ vectors: Float32Array[]; cached: boolean; file: string; embed_s: number }> {
  const key = cacheKey(texts);
  const file = join(process.env.QUIVER_SCIFACT_CACHE ?? tmpdir(), `quiver-scifact-use-${key}.bin`);
  let vectors = readVectors(file, key);
  if (vectors) return { vectors, cached: true, file, embed_s: 0 };
  jobs = Math.max(1, Math.min(jobs, Math.ceil(texts.length / BATCH)));
  progress(`USE vectors not cached (${file}): embedding ${texts.length} texts in ${jobs} process(es); about 7 abstracts/s per process`);
  const t = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "quiver-scifact-use-"));
  try {
    const textsFile = join(dir, "texts.json");
    writeFileSync(textsFile, JSON.stringify(texts));
    const per = Math.ceil(texts.length / jobs);
    const parts = Array.from({ length: jobs }, (_, i) => ({ from: i * per, to: Math.min(texts.length, (i + 1) * per), out: join(dir, `part-${i}.bin`) }));
    await Promise.all(parts.map((p) => runChild(["--use-child", textsFile, String(p.from), String(p.to), p.out])));
    vectors = parts.flatMap((p) => readVectors(p.out, "part")!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const embed_s = (performance.now() - t) / 1000;
  writeVectors(file, key, vectors);
  progress(`USE: ${texts.length} texts in ${embed_s.toFixed(0)} s; cached in ${file}`);
  return { vectors, cached: false, file, embed_s };
}

export async function useVectors(data: Scifact, jobs?: number): Promise<UseVectors> {
  const docs = await cachedUseVectors(data.corpus.map(useDocText), jobs);
  const queries = await cachedUseVectors(data.queries.map((q) => q.text), jobs);
  return {
    docs: docs.vectors,
    queries: new Map(data.queries.map((q, i) => [q.id, queries.vectors[i]!])),
    cached: docs.cached && queries.cached,
    file: docs.file,
    embed_s: docs.embed_s + queries.embed_s,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf("--use-child");
  if (at >= 0) await child(argv[at + 1]!, Number(argv[at + 2]), Number(argv[at + 3]), argv[at + 4]!);
  else {
    const j = argv.indexOf("--use-jobs");
    const split = argv.includes("--train") ? "train" : "test";
    const v = await useVectors(loadScifact(split), j >= 0 ? Number(argv[j + 1]) : undefined);
    progress(`${v.docs.length} document and ${v.queries.size} query vectors ${v.cached ? "read from" : "written to"} ${v.file}`);
  }
}
