/**
 * OpfsStore: `opfs://name` (or `opfs://dir/sub`), objects as files in the Origin Private File
 * System. The class here is the public face (its type, `OpfsStore.open` and `instanceof`); the
 * implementation (opfs-directory.ts, where reads, writes and locking are described) loads when a
 * directory is opened, so pages that never use OPFS do not download it.
 */
import type { BlobInfo, BlobStore, ByteRange } from "./blob-store.js";

export interface OpfsStoreOptions {
  /**
   * Use `FileSystemSyncAccessHandle` for reads and writes where the runtime has it (dedicated
   * workers). Default true; false forces the async API everywhere (slower; for comparison).
   */
  syncAccess?: boolean;
}

export abstract class OpfsStore implements BlobStore {
  abstract readonly readOnly: boolean;
  /** `opfs://` and the directory's path. */
  abstract readonly uri: string;

  /**
   * Opens (creating) the OPFS directory `path` ("notes" or "apps/notes"). UNSUPPORTED where the
   * runtime has no OPFS.
   */
  static async open(path: string, options: OpfsStoreOptions = {}): Promise<OpfsStore> {
    const { OpfsDirectoryStore } = await import("./opfs-directory.js");
    return OpfsDirectoryStore.openDirectory(path, options);
  }

  /** Whether this store reads and writes through sync access handles. */
  abstract get usesSyncAccess(): boolean;

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
  abstract delete(key: string): Promise<void>;
  abstract listFolders(prefix: string): Promise<string[]>;
  /** Deletes temporary files under `prefix` older than `olderThanMs` left by interrupted writes; returns how many. */
  abstract removeTemporaryFiles(prefix: string, olderThanMs: number): Promise<number>;
  abstract close(): Promise<void>;
}
