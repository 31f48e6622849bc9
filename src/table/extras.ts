/**
 * Encryption at rest, backups, rekey and storage reports, loaded together on first use: one
 * dynamically imported module keeps them out of the core bundle without splitting the core's own
 * modules into many small shared chunks (each chunk compresses on its own).
 */
import { createError } from "../errors.js";
import type { BlobStore } from "../storage/blob-store.js";
import { EncryptedStore } from "../storage/encrypted-store.js";
import { checkEncryptionOptions, isEncryptedDatabase, openKeyring, type EncryptionOptions } from "../storage/encryption-key.js";
import { QuotaGuardStore, type QuotaGuardOptions } from "../storage/quota.js";

export { requestPersistence } from "../storage/quota.js";
export { restoreBackup, writeBackup } from "./backup.js";
export { rekeyTransaction } from "./rekey.js";
export { storageReport } from "./storage-report.js";

/**
 * The store `connect` hands to its Connection: checked against the origin's quota (browser stores)
 * and `storageLimit`, then encrypted when `encryption` is given. `owned`: close `opened` on failure.
 */
export async function wrapStore(
  opened: BlobStore, options: { encryption?: EncryptionOptions; storageLimit?: number }, owned: boolean,
): Promise<{ store: BlobStore; guard?: QuotaGuardOptions }> {
  try {
    const limit = options.storageLimit;
    if (limit !== undefined && !(typeof limit === "number" && Number.isSafeInteger(limit) && limit > 0)) {
      throw createError("INVALID_ARGUMENT", `storageLimit must be a positive whole number of bytes, got ${String(limit)}.`);
    }
    const encryption = options.encryption === undefined ? undefined : checkEncryptionOptions(options.encryption);
    const guard: QuotaGuardOptions | undefined = limit !== undefined || (!opened.readOnly && /^(idb|opfs):/.test(opened.uri)) ? { limitBytes: limit } : undefined;
    const guarded = guard ? new QuotaGuardStore(opened, guard) : opened;
    return { store: encryption ? new EncryptedStore(guarded, await openKeyring(guarded, encryption)) : guarded, guard };
  } catch (e) {
    if (owned) await opened.close();
    throw e;
  }
}

/** A table that does not decode in a database with a key check file was opened without its key: WRONG_KEY. */
export async function explainUnreadable(store: BlobStore, error: unknown): Promise<void> {
  if (await isEncryptedDatabase(store).catch(() => false)) {
    throw createError("WRONG_KEY", `${store.uri} is an encrypted database: connect with { encryption: { key } } to open its tables.`, { store: store.uri }, error);
  }
}
