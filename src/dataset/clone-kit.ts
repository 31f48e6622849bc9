/** What clone.ts uses of the layers below, handed in (see src/query/on-demand-kit.ts for why). */
import type { decodeVersionFile, encodeManifest, fileKey, fileRef, filesOf, manifestKey, tableDir, versionFromKey, versionsPrefix } from "../storage/manifest.js";
import type { Dataset } from "./dataset.js";
import type { Tags } from "./tags.js";

export interface CloneKit {
  readonly Dataset: typeof Dataset;
  readonly Tags: typeof Tags;
  readonly decodeVersionFile: typeof decodeVersionFile;
  readonly encodeManifest: typeof encodeManifest;
  readonly fileKey: typeof fileKey;
  readonly fileRef: typeof fileRef;
  readonly filesOf: typeof filesOf;
  readonly manifestKey: typeof manifestKey;
  readonly tableDir: typeof tableDir;
  readonly versionFromKey: typeof versionFromKey;
  readonly versionsPrefix: typeof versionsPrefix;
}
