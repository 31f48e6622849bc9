/**
 * `table.rekey(newKey)`: the newest version rewritten under a new encryption key, as one commit.
 *
 * The key is registered in the database's key check file first (so a connection given only the
 * new key passes the key check), then every file the newest version names — data, deletion and
 * index files — is read (decrypted with whichever key sealed it) and written again under a fresh
 * name, sealed with the new key; the commit names only those. From then on this connection writes
 * with the new key. Older versions stay under the old key until `optimize({ cleanupOlderThan })`
 * removes them; the manifests cleanup rewrites (tombstones) are sealed with the new key too.
 */
import { createError } from "../errors.js";
import type { Dataset, TableState, Transaction } from "../dataset/dataset.js";
import type { Fragment } from "../dataset/fragment.js";
import { EncryptedStore } from "../storage/encrypted-store.js";
import { registerKey, type EncryptionKeyInput } from "../storage/encryption-key.js";
import { randomId } from "../storage/envelope.js";
import type { IndexEntry } from "../storage/manifest.js";

export interface RekeyOptions {
  /** Called after each file is rewritten: files done and files in all. */
  progress?: (done: number, total: number) => void;
}

/** Writes the files of `head` again under `key` and returns the transaction naming them (not committed). */
export async function rekeyTransaction(ds: Dataset, head: TableState, key: EncryptionKeyInput, options: RekeyOptions = {}): Promise<Transaction> {
  const store = ds.store;
  if (!(store instanceof EncryptedStore)) {
    throw createError("UNSUPPORTED", `Table "${ds.table}" is not encrypted: rekey needs a connection opened with { encryption: { key } }.`);
  }
  const next = await registerKey(store.inner, store.keyring, key);
  const previous = store.writeKey;
  store.useWriteKey(next);
  try {
    const dir = `${ds.table}.quiver/`; // the table folder (docs/FORMAT.md); not imported, see backup.ts
    const total = head.fragments.reduce((n, f) => n + f.files.length + (f.deletionFile === null ? 0 : 1), 0) + head.indices.length;
    let done = 0;
    const copy = async (from: string, to: string): Promise<string> => {
      await store.put(to, await store.get(from));
      options.progress?.(++done, total);
      return to;
    };
    const fragments: Fragment[] = [];
    for (const f of head.fragments) {
      const files = [];
      for (const file of f.files) files.push({ ...file, key: await copy(file.key, `${dir}data/${randomId()}.qvf`) });
      const deletionFile = f.deletionFile === null ? null : await copy(f.deletionFile, `${dir}_deletions/${f.id}-${randomId()}.qvd`);
      fragments.push({ ...f, files, deletionFile });
    }
    const indices: IndexEntry[] = [];
    for (const entry of head.indices) {
      const ext = /\.[A-Za-z0-9]+$/.exec(entry.file)?.[0] ?? "";
      const file = `_indices/${randomId()}${ext}`;
      await copy(dir + entry.file, dir + file);
      indices.push({ ...entry, file });
    }
    return { type: "rekey", readVersion: head.version, fragments, indices, schema: head.schema, config: head.config };
  } catch (e) {
    store.useWriteKey(previous);
    throw e;
  }
}
