/**
 * `npm run publish-table -- <src-dir> <table> <out-dir>`: copies table `<table>` of the file-system
 * database `<src-dir>` into `<out-dir>`, ready for static hosting, with the `_listing.json` readers
 * list it with. The same as `npx quiverdb publish`; the work is done by src/cli/publish.ts.
 */
import { fileURLToPath } from "node:url";
import { publishTable } from "../src/cli/publish.js";

export { publishTable, type PublishStats } from "../src/cli/publish.js";

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [srcDir, table, outDir] = process.argv.slice(2);
  if (!srcDir || !table || !outDir) {
    console.error("usage: npm run publish-table -- <src-dir> <table> <out-dir>");
    process.exit(2);
  }
  try {
    const { files, bytes } = await publishTable(srcDir, table, outDir);
    console.log(`published ${table}: ${files} files, ${bytes} bytes, into ${outDir} (with _listing.json)`);
  } catch (error) {
    console.error(`publish-table: ${(error as Error).message}`);
    process.exit(1);
  }
}
