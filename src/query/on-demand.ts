/**
 * What the core loads on first use, as one chunk: sorted queries and takes, output schemas, the
 * descriptions of listIndices / indexStats / stats, and cloning / renaming tables. One module on purpose: each separately loaded module would split the
 * core's own code into more files for a bundler, which costs more than it saves.
 */
export { compareValues, executeOrdered, executeTake } from "./take.js";
export { streamable, streamScan } from "./stream.js";
export { outputSchemaOf } from "./output-schema.js";
export { indexInfo, indexStatistics, tableStatistics } from "../dataset/describe.js";
export { checkNoClones, cloneTable, clonesOf, dropInOrder, filesKeptForClones, releaseClone, renameTable } from "../dataset/clone.js";
