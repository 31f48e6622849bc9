/**
 * quiverdb/interop: whole tables in and out of files — Arrow IPC (file and stream formats) and
 * Parquet — in an entry of its own, so the core does not carry the readers. apache-arrow (a peer
 * dependency) and hyparquet load on first use. See docs/INTEROP.md.
 */
export { addFromFile, exportArrowChunks, exportTable, importTable, openDataFile } from "./interop/files.js";
export type { AddFromFileOptions, ExportableTable, ExportOptions, ExportProgress, ExportTarget, FileReadOptions, FileSource, ImportOptions, ImportProgress, OpenedFile, TableCreator } from "./interop/files.js";
export type { ParquetReadOptions } from "./interop/parquet.js";
