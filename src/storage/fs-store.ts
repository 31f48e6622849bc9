/**
 * FsStore: a directory on the file system, for Node and Deno. The class here is the public face
 * (its type, `FsStore.open` and `instanceof`); the implementation (fs-directory.ts, where the write
 * protocol is described) loads when a directory is opened, so browser bundles that never open a
 * path do not carry it.
 */
import type { BlobInfo, BlobStore, ByteRange } from "./blob-store.js";

export interface FsStoreOptions {
  /**
   * The `node:fs/promises` module to use (or an object with its functions). Default: imported on
   * first use. For runtimes that provide a compatible module under another name, and for tests
   * that simulate a full disk. Typed as `object` so the declarations need no Node types: a
   * browser-only project type-checks against them.
   */
  fileSystem?: object;
}

export abstract class FsStore implements BlobStore {
  abstract readonly readOnly: boolean;
  /** The directory's absolute path. */
  abstract readonly uri: string;

  /**
   * Opens the directory `root` (absolute, or relative to the working directory now), creating it
   * and its parents when missing. `uri` is the absolute path.
   */
  static async open(root: string, options: FsStoreOptions = {}): Promise<FsStore> {
    const { FsDirectoryStore } = await import("./fs-directory.js");
    return FsDirectoryStore.openDirectory(root, options);
  }

  abstract get(key: string): Promise<Uint8Array>;
  abstract getRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  abstract getRanges(key: string, ranges: readonly ByteRange[], into?: Uint8Array): Promise<Uint8Array[]>;
  abstract readInto(key: string, offset: number, into: Uint8Array): Promise<Uint8Array>;
  abstract head(key: string): Promise<BlobInfo | undefined>;
  abstract put(key: string, data: Uint8Array): Promise<void>;
  abstract putIfAbsent(key: string, data: Uint8Array): Promise<boolean>;
  abstract putParts(key: string, parts: readonly Uint8Array[]): Promise<void>;
  abstract putStream(key: string, size: number | undefined, parts: AsyncIterable<Uint8Array>): Promise<void>;
  abstract list(prefix: string): Promise<BlobInfo[]>;
  abstract renameFolder(from: string, to: string): Promise<boolean>;
  abstract delete(key: string): Promise<void>;
  abstract listFolders(prefix: string): Promise<string[]>;
  /** Deletes temporary files under `prefix` older than `olderThanMs` left by crashed writes; returns how many. */
  abstract removeTemporaryFiles(prefix: string, olderThanMs: number): Promise<number>;
  abstract close(): Promise<void>;
}
