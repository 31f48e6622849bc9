// Bring your own data: dropped files become documents ({ id, source, title, text }), then passages
// through Quiver's text splitter. Parsers load on demand (papaparse for CSV, hyparquet for Parquet),
// so visitors who never drop a file never download them.
import { chunkDocuments, QuiverError } from "quiverdb";

export interface Doc {
  id: string;
  source: string;
  title: string;
  text: string;
}

export interface Passage {
  id: string;
  source: string;
  title: string;
  chunk: number;
  text: string;
}

const TEXT_FIELDS = ["text", "content", "body", "abstract", "description", "passage"];
const TITLE_FIELDS = ["title", "name", "heading", "subject"];

/** The record's text: a well-known field, else its longest string field. */
function recordText(r: Record<string, unknown>): { title: string; text: string } {
  const keys = Object.keys(r);
  const pick = (names: string[]) => keys.find((k) => names.includes(k.toLowerCase()) && typeof r[k] === "string" && (r[k] as string).trim() !== "");
  const textKey = pick(TEXT_FIELDS) ?? keys.filter((k) => typeof r[k] === "string").sort((a, b) => (r[b] as string).length - (r[a] as string).length)[0];
  const titleKey = pick(TITLE_FIELDS);
  return { title: titleKey ? String(r[titleKey]) : "", text: textKey ? String(r[textKey]) : "" };
}

function records(file: File, list: Record<string, unknown>[]): Doc[] {
  return list.map((r, i) => ({ id: `${file.name}#${i + 1}`, source: file.name, ...recordText(r) })).filter((d) => d.text.trim() !== "");
}

/** Reads one file into documents. Unknown kinds and unreadable contents are INVALID_ARGUMENT with the file's name. */
export async function readDocuments(file: File): Promise<Doc[]> {
  const ext = file.name.toLowerCase().split(".").pop() ?? "";
  const bad = (why: string) => new QuiverError("INVALID_ARGUMENT", `${file.name}: ${why}`, { file: file.name });
  if (["txt", "md", "markdown", "text"].includes(ext) || (ext === file.name.toLowerCase() && file.type.startsWith("text/"))) {
    const text = await file.text();
    if (text.includes("\u0000")) throw bad("this looks like a binary file, not text.");
    const heading = /^#\s+(.+)$/m.exec(text)?.[1];
    return text.trim() === "" ? [] : [{ id: file.name, source: file.name, title: heading ?? file.name, text }];
  }
  if (ext === "jsonl" || ext === "ndjson") {
    const lines = (await file.text()).split("\n").filter((l) => l.trim() !== "");
    const parsed = lines.map((l, i) => {
      try {
        const v: unknown = JSON.parse(l);
        if (typeof v === "string") return { text: v };
        if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
        return v as Record<string, unknown>;
      } catch (e) {
        throw bad(`line ${i + 1} is not a JSON object (${(e as Error).message}).`);
      }
    });
    return records(file, parsed);
  }
  if (ext === "csv" || ext === "tsv") {
    const Papa = (await import("papaparse")).default;
    const result = Papa.parse<Record<string, unknown>>(await file.text(), { header: true, skipEmptyLines: true, dynamicTyping: false });
    const fatal = result.errors.find((e) => e.type === "Delimiter" || e.type === "Quotes");
    if (fatal) throw bad(`CSV row ${fatal.row ?? "?"}: ${fatal.message}.`);
    return records(file, result.data);
  }
  if (ext === "parquet") {
    const { parquetReadObjects } = await import("hyparquet");
    try {
      const rows = await parquetReadObjects({ file: await file.arrayBuffer() });
      return records(file, rows as Record<string, unknown>[]);
    } catch (e) {
      throw bad(`not a readable Parquet file (${(e as Error).message}).`);
    }
  }
  throw bad("unsupported kind of file; drop .txt, .md, .jsonl, .csv or .parquet files.");
}

/** Documents → passages of at most ~600 characters (USE reads short texts best), overlapping a little. */
export function toPassages(docs: readonly Doc[]): Passage[] {
  const chunks = chunkDocuments(docs.map((d) => ({ ...d })), { chunkSize: 600, chunkOverlap: 80, keepFields: ["source", "title"] });
  return chunks.map((c) => ({
    id: `${String(c.source_id)}:${c.chunk_index}`,
    source: String(c.source),
    title: String(c.title ?? ""),
    chunk: c.chunk_index,
    text: c.text,
  }));
}
