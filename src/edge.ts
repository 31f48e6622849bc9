/**
 * quiverdb/edge: writable stores for edge runtimes, in an entry of their own so browser bundles do
 * not carry them. `DurableObjectStore` keeps a database in a Cloudflare Durable Object's storage,
 * `DenoKvStore` in Deno KV; both sit on `ChunkedKvStore`, which maps files onto any key-value
 * database with small values and an atomic check-and-set (see src/storage/chunked-kv-store.ts).
 */
export { ChunkedKvStore } from "./storage/chunked-kv-store.js";
export type { KvBackend } from "./storage/chunked-kv-store.js";
export { DenoKvStore } from "./storage/deno-kv-store.js";
export type { DenoKvLike, DenoKvStoreOptions } from "./storage/deno-kv-store.js";
export { DurableObjectStore } from "./storage/durable-object-store.js";
export type { DurableObjectStorageLike, DurableObjectStoreOptions } from "./storage/durable-object-store.js";
