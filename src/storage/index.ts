/**
 * Storage: the BlobStore interface, its backends and `openStore`, which picks one from a URI.
 */
export type { BlobInfo, BlobStore } from "./blob-store.js";
export { openStore } from "./open-store.js";
export type { OpenStoreOptions } from "./open-store.js";
export { MemoryStore, MemoryVolume } from "./memory-store.js";
export type { MemoryStoreOptions } from "./memory-store.js";
export { IdbStore } from "./idb-store.js";
export type { IdbStoreOptions } from "./idb-store.js";
export { OpfsStore } from "./opfs-store.js";
export type { OpfsStoreOptions } from "./opfs-store.js";
export { FsStore } from "./fs-store.js";
export type { FsStoreOptions } from "./fs-store.js";
export { HttpStore, LISTING_KEY, writeHttpListing } from "./http-store.js";
export type { HttpStoreOptions } from "./http-store.js";
export { checkKey, checkPrefix, MAX_KEY_LENGTH } from "./keys.js";
