/**
 * Publishing a table for static hosting: copies table `<table>` of the file-system database
 * `<src-dir>` into `<out-dir>` (a CDN, object storage, any web server that answers Range requests)
 * and (re)writes `<out-dir>/_listing.json` so readers can list it. Several tables can be published
 * into one directory. Readers then open it read-only:
 *
 *   const db = await connect("https://cdn.example.com/db");   // <out-dir> served at that URL
 *   const tbl = await db.openTable("docs");
 *
 * Every version is copied as it is (so readers can `checkout()` them). With `compact: true` only
 * the latest version is published, its fragments compacted into few large data files: a table
 * written in many batches has a fragment per batch, and a query's refine reads one range request
 * per data file, which a browser over HTTP/1.1 queues behind its 6 connections per host (20 data
 * files: 7 round trips for a cold query instead of 3). The compaction is the table's own
 * `optimize()` on a temporary copy, so the source is not changed and the indexes are rebuilt
 * over the compacted rows (which costs an index build's time).
 * Files are immutable once written, so a CDN may cache everything except `_versions/` and the listing.
 * Run as `npx quiverdb publish …` or, in this repository, `npm run publish-table -- …`.
 */
import { copyFile, cp, mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connect, type ConnectionOptions } from "../connection.js";
import { createError } from "../errors.js";
import { FsStore } from "../storage/fs-store.js";
import { writeHttpListing } from "../storage/http-store.js";
import { temporaryName } from "../storage/keys.js";

export interface PublishStats {
  files: number;
  bytes: number;
}

export interface PublishOptions {
  /**
   * Publish the latest version only, its fragments compacted into data files of up to
   * `targetRowsPerFragment` rows (and its indexes rebuilt over them), instead of every version as
   * it is. Fewer data files, fewer requests per query. Default false. The source is not changed.
   */
  compact?: boolean;
  /**
   * Rows a compacted data file aims for, as `optimize()`'s option of that name. Default 1,048,576
   * (LanceDB's). Only with `compact`.
   */
  targetRowsPerFragment?: number;
  /** Options of the connection that compacts the copy, e.g. `workers` for the index rebuild. Only with `compact`. */
  connection?: ConnectionOptions;
}

export async function publishTable(srcDir: string, table: string, outDir: string, options: PublishOptions = {}): Promise<PublishStats> {
  if (options.targetRowsPerFragment !== undefined && !options.compact) {
    throw createError("INVALID_ARGUMENT", "targetRowsPerFragment applies to a compacted publication only: pass compact: true (--compact) with it.");
  }
  const db = await connect(srcDir);
  try {
    if (!(await db.tableNames()).includes(table)) {
      throw createError("TABLE_NOT_FOUND", `No table "${table}" in ${srcDir} (tables: ${(await db.tableNames()).join(", ") || "none"}).`);
    }
  } finally {
    await db.close();
  }
  if (!options.compact) return copyTable(srcDir, table, outDir);
  const scratch = await mkdtemp(join(tmpdir(), "quiver-publish-"));
  try {
    await cp(join(srcDir, `${table}.quiver`), join(scratch, `${table}.quiver`), { recursive: true });
    const copy = await connect(scratch, options.connection);
    try {
      const t = await copy.openTable(table);
      // A bound in the future prunes every version but the latest (and tagged ones), committed
      // during this call too, with the files only they named: the copy is private, so no writer
      // can be in flight. Pruned manifests leave tombstones (a few bytes each), published too.
      await t.optimize({
        cleanupOlderThan: new Date(Date.now() + 24 * 3600 * 1000), deleteUnverified: true,
        ...(options.targetRowsPerFragment !== undefined ? { targetRowsPerFragment: options.targetRowsPerFragment } : {}),
      });
    } finally {
      await copy.close();
    }
    return await copyTable(scratch, table, outDir);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Copies one file by the file system (no bytes through this process: a compacted data file may be
 * gigabytes) to a temporary name beside `to`, then renames it into place, so a reader of the output
 * never sees half a file. Returns the bytes copied.
 */
async function copyFileInto(from: string, to: string): Promise<number> {
  await mkdir(dirname(to), { recursive: true });
  // The store's own temporary name: listings skip it, and removeTemporaryFiles sweeps one a crash left.
  const temp = join(dirname(to), temporaryName());
  try {
    await copyFile(from, temp);
    await rename(temp, to);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  return (await stat(to)).size;
}

/** Copies every file of `table` from `srcDir` into `outDir`, manifests last, and rewrites the listing. */
async function copyTable(srcDir: string, table: string, outDir: string): Promise<PublishStats> {
  const src = await FsStore.open(srcDir);
  const out = await FsStore.open(outDir);
  try {
    const prefix = `${table}.quiver/`;
    const wanted = new Set((await src.list(prefix)).map((f) => f.key));
    // Manifests last, so a reader of a half-finished copy never sees a version whose files are missing.
    const files = [...wanted].sort((a, b) => Number(a.includes("/_versions/")) - Number(b.includes("/_versions/")));
    let bytes = 0;
    for (const key of files) bytes += await copyFileInto(join(srcDir, key), join(outDir, key));
    // Files of an earlier publication that the table no longer has: the copy must equal the source.
    for (const old of await out.list(prefix)) if (!wanted.has(old.key)) await out.delete(old.key);
    await writeHttpListing(out);
    return { files: files.length, bytes };
  } finally {
    await src.close();
    await out.close();
  }
}
