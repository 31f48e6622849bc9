/**
 * `npm run publish-table -- <src-dir> <table> <out-dir> [--compact [--target-rows N]] [--shards N [--by hash|<column>]]`:
 * copies table `<table>` of the file-system database `<src-dir>` into `<out-dir>`, ready for static
 * hosting, with the `_listing.json` readers list it with; with `--compact`, its latest version only,
 * compacted into data files of up to N rows (default 1,048,576); with `--shards N`, splits it into N shard tables and
 * a shard manifest (`db.openShardedTable(<table>)` reads them as one). The same as `npx quiverdb
 * publish`; the work is done by src/cli/publish.ts and src/cli/publish-shards.ts.
 */
import { fileURLToPath } from "node:url";
import { publishTable } from "../src/cli/publish.js";
import { publishShardedTable } from "../src/cli/publish-shards.js";

export { publishTable, type PublishOptions, type PublishStats } from "../src/cli/publish.js";
export { publishShardedTable, type PublishShardsOptions, type PublishShardsStats } from "../src/cli/publish-shards.js";

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const at = args.indexOf(name);
    if (at < 0) return undefined;
    const [, value] = args.splice(at, 2);
    return value;
  };
  const compact = args.includes("--compact");
  if (compact) args.splice(args.indexOf("--compact"), 1);
  const targetRows = flag("--target-rows");
  const shards = flag("--shards");
  const by = flag("--by");
  const [srcDir, table, outDir] = args;
  const badTarget = targetRows !== undefined && (!compact || !(Number.isInteger(Number(targetRows)) && Number(targetRows) >= 1));
  if (!srcDir || !table || !outDir || args.length !== 3 || (by !== undefined && shards === undefined) || badTarget || (compact && shards !== undefined)) {
    console.error("usage: npm run publish-table -- <src-dir> <table> <out-dir> [--compact [--target-rows N]] [--shards N [--by hash|<column>]]");
    process.exit(2);
  }
  try {
    if (shards !== undefined) {
      const stats = await publishShardedTable(srcDir, table, outDir, { shards: Number(shards), by });
      console.log(`published ${table} as ${stats.shards.length} shards (${stats.shards.map((s) => `${s.table}: ${s.rows} rows`).join(", ")}), ${stats.bytes} bytes, into ${outDir} (with ${table}.shards.json and _listing.json)`);
    } else {
      const { files, bytes } = await publishTable(srcDir, table, outDir, compact ? { compact, ...(targetRows !== undefined ? { targetRowsPerFragment: Number(targetRows) } : {}) } : {});
      console.log(`published ${table}${compact ? " (latest version, compacted)" : ""}: ${files} files, ${bytes} bytes, into ${outDir} (with _listing.json)`);
    }
  } catch (error) {
    console.error(`publish-table: ${(error as Error).message}`);
    process.exit(1);
  }
}
