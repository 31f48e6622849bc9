#!/usr/bin/env node
/**
 * `npx quiverdb <command>`: moving tables in and out of a Quiver database directory.
 *
 *   quiverdb import <lancedb-dir> <table> <quiver-dir>      a LanceDB table (needs @lancedb/lancedb)
 *   quiverdb import <file.parquet|file.arrow> <table> <quiver-dir>
 *   quiverdb export <quiver-dir> <table> <lancedb-dir>      to LanceDB (needs @lancedb/lancedb)
 *   quiverdb export <quiver-dir> <table> <file.arrow|file.arrows>
 *   quiverdb publish <quiver-dir> <table> <out-dir>         for static hosting (connect("https://…"))
 *   quiverdb publish … --compact [--target-rows N]           the latest version only, in few large data files
 *   quiverdb backup … / quiverdb restore …                   one-file archives (src/cli/backup.ts; --help)
 *
 * Options: --overwrite (replace a table that exists), --format arrow|parquet (import),
 * --columns a,b (Parquet import), --quiet. Exit codes: 0 done, 1 failed, 2 usage.
 */
import { stat } from "node:fs/promises";
import { extname } from "node:path";
import { isQuiverError } from "../errors.js";
import { connect } from "../connection.js";
import { exportTable, importTable } from "../interop/files.js";
import { exportToLanceDb, importFromLanceDb } from "./lancedb.js";
import { publishTable } from "./publish.js";

const USAGE = `usage:
  quiverdb import <lancedb-dir> <table> <quiver-dir>            LanceDB table → Quiver (needs: npm install @lancedb/lancedb)
  quiverdb import <file.parquet|file.arrow|file.arrows> <table> <quiver-dir>
  quiverdb export <quiver-dir> <table> <lancedb-dir>            Quiver table → LanceDB (needs: npm install @lancedb/lancedb)
  quiverdb export <quiver-dir> <table> <file.arrow|file.arrows> Arrow IPC file (.arrow) or stream (.arrows)
  quiverdb publish <quiver-dir> <table> <out-dir>               copy for static hosting, readable with connect("https://…")
  quiverdb publish <quiver-dir> <table> <out-dir> --compact [--target-rows N]
                                                                the latest version only, compacted into data files of up to N
                                                                rows (default 1048576; indexes rebuilt): fewer requests per query
  quiverdb publish <quiver-dir> <table> <out-dir> --shards N [--by hash|<column>]
                                                                as N shard tables + <table>.shards.json (db.openShardedTable)
  quiverdb backup … | quiverdb restore …                        one-file archives of a table (quiverdb backup --help)
options: --overwrite  --format arrow|parquet  --columns a,b  --shards N  --by hash|<column>  --compact  --target-rows N  --quiet`;

const IPC_FILE = new Set([".arrow", ".feather", ".ipc"]);
const IPC_STREAM = new Set([".arrows"]);

interface Args {
  positional: string[];
  overwrite: boolean;
  quiet: boolean;
  format?: "arrow" | "parquet";
  columns?: string[];
  shards?: number;
  by?: string;
  compact: boolean;
  targetRows?: number;
}

function parse(argv: string[]): Args {
  const out: Args = { positional: [], overwrite: false, quiet: false, compact: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--overwrite") out.overwrite = true;
    else if (a === "--quiet") out.quiet = true;
    else if (a === "--compact") out.compact = true;
    else if (a === "--target-rows") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--target-rows takes a positive integer, got ${String(argv[i])}`);
      out.targetRows = n;
    }
    else if (a === "--format") {
      const f = argv[++i];
      if (f !== "arrow" && f !== "parquet") throw new UsageError(`--format takes arrow or parquet, got ${String(f)}`);
      out.format = f;
    } else if (a === "--columns") out.columns = (argv[++i] ?? "").split(",").filter((c) => c !== "");
    else if (a === "--shards") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--shards takes a positive integer, got ${String(argv[i])}`);
      out.shards = n;
    } else if (a === "--by") {
      const by = argv[++i];
      if (by === undefined || by === "") throw new UsageError("--by takes hash or a column name");
      out.by = by;
    }
    else if (a.startsWith("--")) throw new UsageError(`unknown option ${a}`);
    else out.positional.push(a);
  }
  return out;
}

class UsageError extends Error {}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

function reporter(quiet: boolean, verb: string): (p: { rowsDone: number; rowsTotal?: number }) => void {
  return (p) => {
    if (quiet) return;
    process.stderr.write(`\r${verb} ${p.rowsDone}${p.rowsTotal !== undefined ? ` / ${p.rowsTotal}` : ""} rows`);
  };
}

async function run(argv: string[]): Promise<string> {
  const [command, ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") return USAGE;
  const args = parse(rest);
  const mode = args.overwrite ? "overwrite" : "create";
  if (args.positional.length !== 3) throw new UsageError(`${command ?? "(no command)"} takes three arguments`);
  const [a, table, b] = args.positional as [string, string, string];
  switch (command) {
    case "import": {
      if (await isDirectory(a)) {
        const { rows } = await importFromLanceDb(a, table, b, { mode, onProgress: reporter(args.quiet, "read") });
        return `imported LanceDB table "${table}" from ${a} into ${b}: ${rows} rows`;
      }
      const db = await connect(b);
      try {
        const t = await importTable(db, table, a, {
          mode, ...(args.format ? { format: args.format } : {}), ...(args.columns ? { columns: args.columns } : {}),
          onProgress: reporter(args.quiet, "read"),
        });
        return `imported ${a} into table "${table}" of ${b}: ${await t.countRows()} rows`;
      } finally {
        await db.close();
      }
    }
    case "export": {
      const ext = extname(b).toLowerCase();
      if (IPC_FILE.has(ext) || IPC_STREAM.has(ext)) {
        const db = await connect(a);
        try {
          const t = await db.openTable(table);
          const { rows, bytes } = await exportTable(t, b, { format: IPC_STREAM.has(ext) ? "stream" : "file", onProgress: reporter(args.quiet, "wrote") });
          return `exported table "${table}" of ${a} to ${b}: ${rows} rows, ${bytes} bytes`;
        } finally {
          await db.close();
        }
      }
      const { rows } = await exportToLanceDb(a, table, b, { mode, onProgress: reporter(args.quiet, "wrote") });
      return `exported table "${table}" of ${a} to LanceDB ${b}: ${rows} rows`;
    }
    case "publish": {
      if (args.shards !== undefined) {
        if (args.compact || args.targetRows !== undefined) throw new UsageError("--compact and --target-rows do not go with --shards");
        const { publishShardedTable } = await import("./publish-shards.js");
        const report = reporter(args.quiet, "split");
        const { shards, bytes } = await publishShardedTable(a, table, b, { shards: args.shards, by: args.by, onProgress: (p) => report(p) });
        return `published ${table} as ${shards.length} shards (${shards.map((s) => `${s.table}: ${s.rows} rows`).join(", ")}), ${bytes} bytes, into ${b} (with ${table}.shards.json and _listing.json)`;
      }
      if (args.by !== undefined) throw new UsageError("--by needs --shards");
      if (args.targetRows !== undefined && !args.compact) throw new UsageError("--target-rows needs --compact");
      const { files, bytes } = await publishTable(a, table, b, args.compact ? { compact: true, ...(args.targetRows !== undefined ? { targetRowsPerFragment: args.targetRows } : {}) } : {});
      return `published ${table}${args.compact ? " (latest version, compacted)" : ""}: ${files} files, ${bytes} bytes, into ${b} (with _listing.json)`;
    }
    default:
      throw new UsageError(command === undefined ? "no command" : `unknown command ${command}`);
  }
}

const [command, ...rest] = process.argv.slice(2);
if (command === "backup" || command === "restore") {
  // Backups have their own argument parsing and exit codes (src/cli/backup.ts), loaded on use.
  const { backupCommand, restoreCommand } = await import("./backup.js");
  try {
    process.exit(await (command === "backup" ? backupCommand : restoreCommand)(rest));
  } catch (e) {
    console.error(`quiverdb: ${isQuiverError(e) ? `${e.code}: ` : ""}${(e as Error).message}`);
    process.exit(1);
  }
}

try {
  const message = await run(process.argv.slice(2));
  process.stderr.write("\n");
  console.log(message);
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`quiverdb: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`\nquiverdb: ${isQuiverError(e) ? `${e.code}: ` : ""}${(e as Error).message}`);
  process.exit(1);
}
