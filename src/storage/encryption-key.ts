/**
 * Keys for encryption at rest: what `connect(uri, { encryption: { key } })` accepts, turned into
 * AES-256-GCM `CryptoKey`s with Web Crypto, and the database's key check file, which lets a wrong
 * key fail with WRONG_KEY before any data is read.
 *
 * A key is a `CryptoKey` (AES-GCM, 256 bits, usages encrypt and decrypt), 32 raw bytes, or
 * `{ passphrase }`: PBKDF2-HMAC-SHA-256 over the passphrase with the database's random 16-byte salt
 * (stored in the key check file) and PBKDF2_ITERATIONS iterations (OWASP's 2023 figure for
 * PBKDF2-SHA-256). The derived key is not extractable.
 *
 * Key check value (KCV): AES-GCM of 16 zero bytes under the key with an all-zero nonce and the
 * associated data "quiverdb key check". It identifies a key without revealing it (the first 8
 * bytes are the key id that every encrypted file names). The all-zero nonce is never used for
 * data: file chunks use random 96-bit nonces, which are all-zero with probability 2^-96.
 *
 * Key check file (`quiverdb-keys.qvk` at the root of the database, not encrypted): a checked
 * envelope, magic "QVKY", JSON `{ kdf?: { name, hash, iterations, salt }, keys: [{ id, check }] }`
 * (hex), one entry per key the database was created with; `rekey` adds a key as a write-once file
 * `quiverdb-keys/<id>.qvk` (same envelope, JSON `{ id, check }`), so the first file is never rewritten.
 */
import { createError } from "../errors.js";
import type { BlobStore } from "./blob-store.js";
import { decodeJson, encodeJson, openEnvelope, sealEnvelope } from "./envelope.js";

/** What `encryption.key` may be. */
export type EncryptionKeyInput = CryptoKey | Uint8Array | ArrayBuffer | { passphrase: string };

export interface EncryptionOptions {
  /** The key new files are encrypted with (and the first one tried when reading). */
  key: EncryptionKeyInput;
  /**
   * Keys that older files may still be encrypted with (after `table.rekey`), for reading only.
   * Files name their key by id, so each file is decrypted with the right one.
   */
  previousKeys?: readonly EncryptionKeyInput[];
}

/** PBKDF2-HMAC-SHA-256 iterations for `{ passphrase }` keys (OWASP Password Storage Cheat Sheet, 2023). */
export const PBKDF2_ITERATIONS = 600_000;
export const KEY_CHECK_FILE = "quiverdb-keys.qvk";
/** Keys registered after the database was created, one file each: `quiverdb-keys/<id>.qvk`. */
export const ADDED_KEYS_PREFIX = "quiverdb-keys/";
const KEY_CHECK_MAGIC = "QVKY";
const KCV_AAD = new TextEncoder().encode("quiverdb key check");

export interface KdfParams { name: "PBKDF2"; hash: "SHA-256"; iterations: number; salt: string }
interface KeyCheckFile { kdf?: KdfParams; keys: { id: string; check: string }[] }

/** A usable key: the CryptoKey, its id (8 bytes, hex) and its check value. */
export interface ResolvedKey {
  readonly key: CryptoKey;
  readonly id: string;
  readonly check: string;
}

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export function fromHex(s: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (s === undefined) throw createError("UNSUPPORTED", "Encryption needs Web Crypto (crypto.subtle): a secure context (https or localhost) in browsers, Node 20+, Deno or workerd.");
  return s;
}

function isPassphrase(k: unknown): k is { passphrase: string } {
  return typeof k === "object" && k !== null && typeof (k as { passphrase?: unknown }).passphrase === "string";
}

function isCryptoKey(k: unknown): k is CryptoKey {
  return typeof CryptoKey === "function" ? k instanceof CryptoKey : typeof k === "object" && k !== null && "algorithm" in k && "usages" in k;
}

/** Checks the shape of a key without deriving it (cheap; used by connect before opening the store). */
export function checkKeyInput(k: unknown, what = "encryption.key"): EncryptionKeyInput {
  if (isPassphrase(k)) {
    if (k.passphrase.length === 0) throw createError("INVALID_ARGUMENT", `${what}.passphrase must not be empty.`);
    return k;
  }
  if (k instanceof Uint8Array || k instanceof ArrayBuffer) {
    if (k.byteLength !== 32) throw createError("INVALID_ARGUMENT", `${what} as raw bytes must be 32 bytes (AES-256), got ${k.byteLength}.`);
    return k;
  }
  if (isCryptoKey(k)) {
    const alg = k.algorithm as { name?: string; length?: number };
    if (alg.name !== "AES-GCM" || alg.length !== 256 || !k.usages.includes("encrypt") || !k.usages.includes("decrypt")) {
      throw createError("INVALID_ARGUMENT", `${what} must be an AES-GCM 256-bit CryptoKey with usages ["encrypt", "decrypt"], got ${alg.name ?? "?"}/${alg.length ?? "?"} [${k.usages.join(", ")}].`);
    }
    return k;
  }
  throw createError("INVALID_ARGUMENT", `${what} must be a CryptoKey, 32 raw bytes or { passphrase }.`);
}

export function checkEncryptionOptions(options: unknown): EncryptionOptions {
  if (typeof options !== "object" || options === null) throw createError("INVALID_ARGUMENT", "encryption must be { key, previousKeys? }.");
  const o = options as EncryptionOptions;
  checkKeyInput(o.key);
  if (o.previousKeys !== undefined) {
    if (!Array.isArray(o.previousKeys)) throw createError("INVALID_ARGUMENT", "encryption.previousKeys must be an array of keys.");
    o.previousKeys.forEach((k, i) => checkKeyInput(k, `encryption.previousKeys[${i}]`));
  }
  return o;
}

async function keyCheckValue(key: CryptoKey): Promise<string> {
  const zero = new Uint8Array(16);
  const sealed = await subtle().encrypt({ name: "AES-GCM", iv: new Uint8Array(12), additionalData: KCV_AAD }, key, zero);
  return hex(new Uint8Array(sealed));
}

/** The CryptoKey of `input`; a passphrase is derived with `kdf` (which must then be given). */
export async function resolveKey(input: EncryptionKeyInput, kdf?: KdfParams): Promise<ResolvedKey> {
  let key: CryptoKey;
  if (isPassphrase(input)) {
    if (kdf === undefined) throw createError("INVALID_ARGUMENT", "A passphrase needs the database's salt; this database was created with a raw key.");
    const material = await subtle().importKey("raw", new TextEncoder().encode(input.passphrase), "PBKDF2", false, ["deriveKey"]);
    key = await subtle().deriveKey(
      { name: "PBKDF2", hash: kdf.hash, iterations: kdf.iterations, salt: fromHex(kdf.salt) },
      material, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"],
    );
  } else if (isCryptoKey(input)) {
    key = input;
  } else {
    const raw = input instanceof Uint8Array ? new Uint8Array(input) : new Uint8Array(input.slice(0));
    key = await subtle().importKey("raw", raw, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  }
  const check = await keyCheckValue(key);
  return { key, id: check.slice(0, 16), check };
}

function newKdf(): KdfParams {
  const salt = new Uint8Array(16);
  crypto.getRandomValues(salt);
  return { name: "PBKDF2", hash: "SHA-256", iterations: PBKDF2_ITERATIONS, salt: hex(salt) };
}

async function readKeyCheckFile(store: BlobStore): Promise<KeyCheckFile | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(KEY_CHECK_FILE);
  } catch (e) {
    if ((e as { code?: string }).code === "NOT_FOUND") return undefined;
    throw e;
  }
  const file = decodeJson<KeyCheckFile>(openEnvelope(KEY_CHECK_MAGIC, 1, bytes, KEY_CHECK_FILE).payload, KEY_CHECK_FILE);
  if (!Array.isArray(file.keys)) throw createError("CORRUPT_FILE", `${KEY_CHECK_FILE} in ${store.uri} is damaged: it lists no keys.`, { file: KEY_CHECK_FILE });
  // Keys added later (rekey), one write-once file each. One that does not decode was cut short by a
  // writer that died while registering it: that key never sealed a committed file, so it is skipped.
  for (const info of await store.list(ADDED_KEYS_PREFIX)) {
    try {
      const added = decodeJson<{ id: string; check: string }>(openEnvelope(KEY_CHECK_MAGIC, 1, await store.get(info.key), info.key).payload, info.key);
      if (typeof added.id === "string" && typeof added.check === "string") file.keys.push(added);
    } catch (e) {
      if ((e as { code?: string }).code !== "CORRUPT_FILE") throw e;
    }
  }
  return file;
}

/** Whether `store` holds an encrypted database (has a key check file). */
export async function isEncryptedDatabase(store: BlobStore): Promise<boolean> {
  return (await store.head(KEY_CHECK_FILE)) !== undefined;
}

/** The keys a connection holds: the one it writes with, and every one it may read with. */
export interface Keyring {
  readonly current: ResolvedKey;
  readonly byId: Map<string, ResolvedKey>;
  /** Ids of every key the database has registered (to tell a missing key from a damaged file). */
  readonly registered: Set<string>;
  readonly kdf?: KdfParams;
  /**
   * The keys as given (passphrases included, kept in memory for the connection's life): a sealed
   * backup from another database has its own salt, so a passphrase is derived again for it.
   */
  readonly inputs?: readonly EncryptionKeyInput[];
}

function wrongKey(uri: string, why: string): never {
  throw createError("WRONG_KEY", `${uri}: ${why}`, { store: uri });
}

/**
 * Opens the database's keyring: checks every given key against the key check file (WRONG_KEY when
 * one does not match), or creates the file for a new, empty database. A database that already
 * holds tables without a key check file is not encrypted: UNSUPPORTED.
 */
export async function openKeyring(store: BlobStore, options: EncryptionOptions): Promise<Keyring> {
  const inputs = [options.key, ...(options.previousKeys ?? [])];
  for (let attempt = 0; ; attempt++) {
    const file = await readKeyCheckFile(store);
    if (file !== undefined) {
      const resolved = await Promise.all(inputs.map((k) => resolveKey(k, file.kdf)));
      const known = new Map(file.keys.map((k) => [k.id, k.check]));
      resolved.forEach((r, i) => {
        if (known.get(r.id) !== r.check) {
          wrongKey(store.uri, `${i === 0 ? "encryption.key" : `encryption.previousKeys[${i - 1}]`} is not a key of this database (wrong key or passphrase). Nothing was read.`);
        }
      });
      return { current: resolved[0]!, byId: new Map(resolved.map((r) => [r.id, r])), registered: new Set(known.keys()), kdf: file.kdf, inputs };
    }
    if (store.readOnly) {
      throw createError("UNSUPPORTED", `${store.uri} has no ${KEY_CHECK_FILE}: it is not an encrypted database; connect without encryption.`, { store: store.uri });
    }
    if ((await store.list("")).length > 0) {
      throw createError(
        "UNSUPPORTED",
        `${store.uri} already holds unencrypted data; encryption applies to new databases. Back the tables up and restore them into an encrypted database.`,
        { store: store.uri },
      );
    }
    // A salt even for raw keys, so a passphrase can be added later by rekey.
    const kdf = newKdf();
    const resolved = await Promise.all(inputs.map((k) => resolveKey(k, kdf)));
    const body: KeyCheckFile = { kdf, keys: dedupe(resolved).map((r) => ({ id: r.id, check: r.check })) };
    if (await store.putIfAbsent(KEY_CHECK_FILE, sealEnvelope(KEY_CHECK_MAGIC, 1, encodeJson(body)))) {
      return { current: resolved[0]!, byId: new Map(resolved.map((r) => [r.id, r])), registered: new Set(body.keys.map((k) => k.id)), kdf, inputs };
    }
    // Another connection created the database at the same moment: check against its file.
    if (attempt > 2) throw createError("COMMIT_CONFLICT", `${store.uri}: the key check file keeps changing; try again.`);
  }
}

function dedupe(keys: ResolvedKey[]): ResolvedKey[] {
  return [...new Map(keys.map((k) => [k.id, k])).values()];
}

/** Registers `next` in the key check file (for rekey). */
export async function registerKey(store: BlobStore, keyring: Keyring, input: EncryptionKeyInput): Promise<ResolvedKey> {
  const next = await resolveKey(checkKeyInput(input, "rekey key"), keyring.kdf);
  const file = await readKeyCheckFile(store);
  if (file === undefined) throw createError("CORRUPT_FILE", `${KEY_CHECK_FILE} vanished from ${store.uri}.`, { file: KEY_CHECK_FILE });
  if (!file.keys.some((k) => k.id === next.id)) {
    // Write-once, never a rewrite of the key check file: a write torn by a crash cannot lose the keys already there.
    const key = `${ADDED_KEYS_PREFIX}${next.id}.qvk`;
    const bytes = sealEnvelope(KEY_CHECK_MAGIC, 1, encodeJson({ id: next.id, check: next.check }));
    // Taken, yet not listed above: a torn copy of this very file (the same bytes, cut short) — replace it.
    if (!(await store.putIfAbsent(key, bytes))) await store.put(key, bytes);
  }
  keyring.byId.set(next.id, next);
  keyring.registered.add(next.id);
  return next;
}
