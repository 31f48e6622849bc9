/**
 * The core's functions that the on-demand chunk (on-demand.ts) uses, handed to it as one object
 * instead of imported. A bundler splits every module that both the core and a lazily loaded module
 * import into a file of its own; passing them keeps the core one piece, and the chunk's own code
 * out of it. (Type imports cost nothing; modules the bundler already keeps apart from the core —
 * errors.ts, storage/envelope.ts — the chunk imports itself.)
 */
import { readValue } from "../data/column.js";
import { DataTypes, findField, unknownColumn } from "../data/schema.js";
import { ROW_ID_FRAGMENT, selectRows } from "../dataset/fragment.js";
import { Dataset } from "../dataset/dataset.js";
import { Tags } from "../dataset/tags.js";
import { compileExpression, compileFilter } from "../filter/index.js";
import { decodeVersionFile, encodeManifest, fileKey, fileRef, filesOf, manifestKey, tableDir, versionFromKey, versionsPrefix } from "../storage/manifest.js";
import { executeQuery, loadOutput, materialize, resolveOutput } from "./execute.js";
import { filterMask } from "./hits.js";

export const onDemandKit = {
  readValue, DataTypes, findField, unknownColumn, ROW_ID_FRAGMENT, selectRows, Dataset, Tags, compileExpression, compileFilter,
  decodeVersionFile, encodeManifest, fileKey, fileRef, filesOf, manifestKey, tableDir, versionFromKey, versionsPrefix,
  executeQuery, loadOutput, materialize, resolveOutput, filterMask,
};

export type OnDemandKit = typeof onDemandKit;
