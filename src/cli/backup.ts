/**
 * `quiverdb backup <database> <table> <archive>` and `quiverdb restore <database> <archive> --name
 * <table>`: table.backup() and db.restoreBackup() on the file system.
 *
 * Options: `--version N` (backup), `--no-indexes` (backup), `--passphrase-env VAR` (the passphrase
 * of an encrypted database, read from environment variable VAR, never from the command line),
 * `--key-file PATH` (32 raw key bytes).
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { connect } from "../connection.js";
import type { EncryptionOptions } from "../storage/encryption-key.js";

const USAGE = {
  backup: "usage: quiverdb backup <database> <table> <archive> [--version N] [--no-indexes] [--passphrase-env VAR | --key-file PATH]\n",
  restore: "usage: quiverdb restore <database> <archive> --name <table> [--passphrase-env VAR | --key-file PATH]\n",
};

const OPTIONS = {
  version: { type: "string" },
  "no-indexes": { type: "boolean" },
  name: { type: "string" },
  "passphrase-env": { type: "string" },
  "key-file": { type: "string" },
  help: { type: "boolean" },
} as const;

async function encryptionOf(values: { "passphrase-env"?: string; "key-file"?: string }): Promise<EncryptionOptions | undefined> {
  if (values["passphrase-env"] !== undefined) {
    const passphrase = process.env[values["passphrase-env"]];
    if (!passphrase) throw new Error(`environment variable ${values["passphrase-env"]} is empty or unset`);
    return { key: { passphrase } };
  }
  if (values["key-file"] !== undefined) return { key: new Uint8Array(await readFile(values["key-file"])) };
  return undefined;
}

export async function backupCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  if (values.help || positionals.length !== 3) {
    process.stderr.write(USAGE.backup);
    return values.help ? 0 : 2;
  }
  const [database, table, archive] = positionals as [string, string, string];
  const encryption = await encryptionOf(values);
  const db = await connect(database, encryption ? { encryption } : {});
  try {
    const t = await db.openTable(table);
    const version = values.version === undefined ? undefined : Number(values.version);
    const blob = await t.backup({ version, includeIndexes: !values["no-indexes"] });
    await writeFile(archive, new Uint8Array(await blob.arrayBuffer()));
    process.stdout.write(`backed up ${table} (version ${version ?? (await t.version())}) to ${archive}: ${blob.size} bytes\n`);
    return 0;
  } finally {
    await db.close();
  }
}

export async function restoreCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  if (values.help || positionals.length !== 2 || values.name === undefined) {
    process.stderr.write(USAGE.restore);
    return values.help ? 0 : 2;
  }
  const [database, archive] = positionals as [string, string];
  const encryption = await encryptionOf(values);
  const db = await connect(database, encryption ? { encryption } : {});
  try {
    const t = await db.restoreBackup(new Uint8Array(await readFile(archive)), { name: values.name });
    process.stdout.write(`restored ${values.name} at version ${await t.version()}: ${await t.countRows()} rows\n`);
    return 0;
  } finally {
    await db.close();
  }
}
