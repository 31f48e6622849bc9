/**
 * What `listIndices()`, `indexStats()` and `stats()` report about a version, with LanceDB's field
 * names and type names. Loaded on demand (src/query/on-demand.ts): it reads no data, and it is
 * only the answer's shape.
 */
import type { IndexEntry } from "../storage/manifest.js";
import type { TableState } from "./dataset.js";

/** An index as `listIndices()` describes it: LanceDB's `IndexConfig` fields, plus Quiver's own `kind`. */
export interface IndexInfo {
  name: string;
  /** LanceDB's spelling: "IvfPq", "IvfFlat", "IvfSq", "IvfRq", "IvfHnswSq", "IvfHnswPq", "IvfHnswFlat", "BTree", "Bitmap", "FTS". */
  indexType: string;
  columns: string[];
  numIndexedRows: number;
  numUnindexedRows: number;
  /** Bytes of the index file. */
  sizeBytes: number;
  /** Always 1: a Quiver index is one file. */
  numSegments: number;
  /** The options the index was built with. */
  indexDetails: Readonly<Record<string, unknown>>;
  /** Quiver's name of the index type, as stored in the manifest ("IVF_PQ", "HNSW_SQ", "IVF_BINARY", "BTREE", …). */
  kind: string;
}

/** As LanceDB's `IndexStatistics`, plus the file size and build options. */
export interface IndexStatistics {
  /** LanceDB's spelling here: "IVF_PQ", "IVF_FLAT", "IVF_HNSW_SQ", "BTREE", "BITMAP", "FTS", … */
  indexType: string;
  /** Vector indexes only. */
  distanceType?: string;
  numIndexedRows: number;
  numUnindexedRows: number;
  /** Always 1: a Quiver index is one file. */
  numIndices: number;
  /** Bytes of the index file. */
  sizeBytes: number;
  params: Readonly<Record<string, unknown>>;
}

/**
 * Quiver's index kinds in LanceDB's two spellings: `listIndices()` (`IndexConfig.indexType`) and
 * `indexStats()`. Quiver's HNSW indexes are one graph, not LanceDB's IVF of graphs, but they answer
 * the same configs (`Index.hnswSq()` …), so they carry the names LanceDB gives those; an IVF over
 * packed bit vectors is LanceDB's IVF_FLAT with hamming distance.
 */
const LANCE_INDEX_TYPES: Readonly<Record<string, readonly [config: string, stats: string, vector?: true]>> = {
  IVF_FLAT: ["IvfFlat", "IVF_FLAT", true], IVF_BINARY: ["IvfFlat", "IVF_FLAT", true], IVF_PQ: ["IvfPq", "IVF_PQ", true], IVF_SQ: ["IvfSq", "IVF_SQ", true], IVF_RQ: ["IvfRq", "IVF_RQ", true],
  HNSW: ["IvfHnswFlat", "IVF_HNSW_FLAT", true], HNSW_SQ: ["IvfHnswSq", "IVF_HNSW_SQ", true], HNSW_PQ: ["IvfHnswPq", "IVF_HNSW_PQ", true],
  BTREE: ["BTree", "BTREE"], BITMAP: ["Bitmap", "BITMAP"], LABEL_LIST: ["LabelList", "LABEL_LIST"], FM: ["FM", "FM"], FTS: ["FTS", "FTS"],
};

function rowCoverage(head: TableState, entry: IndexEntry): { indexed: number; unindexed: number } {
  const covered = new Set(entry.fragments);
  let indexed = 0;
  let unindexed = 0;
  for (const f of head.fragments) {
    if (covered.has(f.id)) indexed += f.liveRows;
    else unindexed += f.liveRows;
  }
  return { indexed, unindexed };
}

export function indexInfo(head: TableState, entry: IndexEntry): IndexInfo {
  const { indexed, unindexed } = rowCoverage(head, entry);
  return {
    name: entry.name, indexType: LANCE_INDEX_TYPES[entry.kind]?.[0] ?? entry.kind, columns: [...entry.columns],
    numIndexedRows: indexed, numUnindexedRows: unindexed, sizeBytes: entry.fileSize, numSegments: 1, indexDetails: entry.params, kind: entry.kind,
  };
}

export function indexStatistics(head: TableState, entry: IndexEntry): IndexStatistics {
  const { indexed, unindexed } = rowCoverage(head, entry);
  return {
    indexType: LANCE_INDEX_TYPES[entry.kind]?.[1] ?? entry.kind,
    ...(LANCE_INDEX_TYPES[entry.kind]?.[2] ? { distanceType: String(entry.params.distanceType ?? (entry.kind === "IVF_BINARY" ? "hamming" : "l2")) } : {}),
    numIndexedRows: indexed, numUnindexedRows: unindexed, numIndices: 1, sizeBytes: entry.fileSize, params: entry.params,
  };
}

/** LanceDB's `TableStatistics`. */
export interface TableStatistics {
  /** Bytes of the data and index files the version names (deletion files and manifests are not counted, as in LanceDB). */
  totalBytes: number;
  numRows: number;
  numIndices: number;
  fragmentStats: {
    numFragments: number;
    /** Fragments under SMALL_FRAGMENT_ROWS live rows, which `optimize()` would merge. */
    numSmallFragments: number;
    /** Live rows per fragment: min, max, mean and percentiles (all 0 for a table without fragments). */
    lengths: { min: number; max: number; mean: number; p25: number; p50: number; p75: number; p99: number };
  };
}

/** A fragment with fewer live rows than this counts as small in `stats()` (LanceDB's threshold). */
export const SMALL_FRAGMENT_ROWS = 100_000;

export function tableStatistics(state: TableState): TableStatistics {
  const lengths = state.fragments.map((f) => f.liveRows).sort((a, b) => a - b);
  // Percentiles of the fragment lengths, indexed as LanceDB does: sorted[floor(p · n)].
  const pct = (p: number): number => (lengths.length === 0 ? 0 : lengths[Math.min(lengths.length - 1, Math.floor((p / 100) * lengths.length))]!);
  const numRows = lengths.reduce((a, b) => a + b, 0);
  const dataBytes = state.fragments.reduce((s, f) => s + f.files.reduce((t, d) => t + d.size, 0), 0);
  return {
    totalBytes: dataBytes + state.indices.reduce((s, i) => s + i.fileSize, 0),
    numRows,
    numIndices: state.indices.length,
    fragmentStats: {
      numFragments: lengths.length,
      numSmallFragments: lengths.filter((n) => n < SMALL_FRAGMENT_ROWS).length,
      lengths: {
        min: lengths[0] ?? 0, max: lengths.at(-1) ?? 0, mean: lengths.length === 0 ? 0 : Math.floor(numRows / lengths.length),
        p25: pct(25), p50: pct(50), p75: pct(75), p99: pct(99),
      },
    },
  };
}
