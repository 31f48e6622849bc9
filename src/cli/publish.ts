/**
 * Publishing a table for static hosting: copies table `<table>` of the file-system database
 * `<src-dir>` into `<out-dir>` (a CDN, object storage, any web server that answers Range requests)
 * and (re)writes `<out-dir>/_listing.json` so readers can list it. Several tables can be published
 * into one directory. Readers then open it read-only:
 *
 *   const db = await connect("https://cdn.example.com/db");   // <out-dir> served at that URL
 *   const tbl = await db.openTable("docs");
 *
 * Every version is copied (so readers can `checkout()` them); run `optimize()` first to publish less.
 * Files are immutable once written, so a CDN may cache everything except `_versions/` and the listing.
 * Run as `npx quiverdb publish …` or, in this repository, `npm run publish-table -- …`.
 */
import { connect } from "../connection.js";
import { createError } from "../errors.js";
import { FsStore } from "../storage/fs-store.js";
import { writeHttpListing } from "../storage/http-store.js";

export interface PublishStats {
  files: number;
  bytes: number;
}

export async function publishTable(srcDir: string, table: string, outDir: string): Promise<PublishStats> {
  const db = await connect(srcDir);
  try {
    if (!(await db.tableNames()).includes(table)) {
      throw createError("TABLE_NOT_FOUND", `No table "${table}" in ${srcDir} (tables: ${(await db.tableNames()).join(", ") || "none"}).`);
    }
  } finally {
    await db.close();
  }
  const src = await FsStore.open(srcDir);
  const out = await FsStore.open(outDir);
  try {
    const prefix = `${table}.quiver/`;
    const wanted = new Set((await src.list(prefix)).map((f) => f.key));
    // Manifests last, so a reader of a half-finished copy never sees a version whose files are missing.
    const files = [...wanted].sort((a, b) => Number(a.includes("/_versions/")) - Number(b.includes("/_versions/")));
    let bytes = 0;
    for (const key of files) {
      const data = await src.get(key);
      await out.put(key, data);
      bytes += data.length;
    }
    // Files of an earlier publication that the table no longer has: the copy must equal the source.
    for (const old of await out.list(prefix)) if (!wanted.has(old.key)) await out.delete(old.key);
    await writeHttpListing(out);
    return { files: files.length, bytes };
  } finally {
    await src.close();
    await out.close();
  }
}
