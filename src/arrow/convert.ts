/** The Arrow conversions, as one module that `arrowConversions()` in detect.ts loads on demand. */
export { arrowColumnStream, arrowToColumns, fitColumns } from "./from-arrow.js";
export { quiverSchemaOf } from "./types.js";
export { arrowBatch, arrowSchema, arrowTable, loadArrow } from "./to-arrow.js";
export { columnsAs, resultColumns, sliceColumns } from "./results.js";
export { embeddingConfigFromMetadata, embeddingMetadata } from "./embedding-metadata.js";
