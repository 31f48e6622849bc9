/**
 * Tags: names for versions (`<table>.quiver/_refs/tags/<name>.json`), as in LanceDB. A tagged
 * version is kept by cleanup. Creating a tag uses putIfAbsent, so two writers cannot both create it.
 *
 * A tag file is `{"version":N,"crc32":C}` with C the CRC-32 of `{"version":N}`, so a flipped digit
 * cannot point the tag at another version. Files of exactly `{"version":N}` were written before tags
 * carried a checksum; they are still read, unchecked. Any other shape is CORRUPT_FILE.
 */
import { createError } from "../errors.js";
import { crc32 } from "../storage/crc32.js";
import { corrupt, decodeJson, encodeJson } from "../storage/envelope.js";
import { tableDir } from "../storage/manifest.js";
import type { Dataset } from "./dataset.js";

const TAG_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface TagInfo {
  readonly version: number;
}

function encodeTag(version: number): Uint8Array {
  return encodeJson({ version, crc32: crc32(encodeJson({ version })) });
}

function decodeTag(bytes: Uint8Array, key: string): TagInfo {
  const t = decodeJson<Record<string, unknown>>(bytes, key);
  const fields = typeof t === "object" && t !== null && !Array.isArray(t) ? Object.keys(t).sort().join() : "";
  if ((fields !== "version" && fields !== "crc32,version") || !Number.isInteger(t.version) || (t.version as number) < 1) corrupt(key, "it is not a tag");
  const version = t.version as number;
  if (fields === "crc32,version" && t.crc32 !== crc32(encodeJson({ version }))) corrupt(key, "checksum mismatch");
  return { version };
}

export class Tags {
  constructor(private readonly ds: Dataset) {}

  private writable(): void {
    if (this.ds.store.readOnly) throw createError("READ_ONLY", `Tags of "${this.ds.table}" cannot change: ${this.ds.store.uri} is read-only.`);
  }

  private key(tag: string): string {
    if (typeof tag !== "string" || !TAG_NAME.test(tag)) {
      throw createError("INVALID_ARGUMENT", `Tag ${JSON.stringify(tag)} is invalid: use 1–128 letters, digits, "_", "-" or ".".`);
    }
    return `${tableDir(this.ds.table)}_refs/tags/${tag}.json`;
  }

  private async checkVersion(version: number): Promise<void> {
    if (!Number.isInteger(version) || version < 1) throw createError("INVALID_ARGUMENT", `A tag needs a version number >= 1, got ${String(version)}.`);
    await this.ds.manifest(version); // NOT_FOUND when the version does not exist
  }

  async list(): Promise<Record<string, TagInfo>> {
    const prefix = `${tableDir(this.ds.table)}_refs/tags/`;
    const out: Record<string, TagInfo> = {};
    for (const info of await this.ds.store.list(prefix)) {
      const name = info.key.slice(prefix.length).replace(/\.json$/, "");
      out[name] = decodeTag(await this.ds.store.get(info.key), info.key);
    }
    return out;
  }

  async getVersion(tag: string): Promise<number> {
    const key = this.key(tag);
    if ((await this.ds.store.head(key)) === undefined) throw createError("NOT_FOUND", `No tag "${tag}" on table "${this.ds.table}".`);
    return decodeTag(await this.ds.store.get(key), key).version;
  }

  async create(tag: string, version: number): Promise<void> {
    this.writable();
    const key = this.key(tag);
    await this.checkVersion(version);
    if (!(await this.ds.store.putIfAbsent(key, encodeTag(version)))) {
      throw createError("INVALID_ARGUMENT", `Tag "${tag}" already exists; use update() to move it.`);
    }
    await this.confirm(key, version);
  }

  /**
   * A cleanup running meanwhile may have pruned `version` before it saw the tag (it restores
   * versions tagged by the time it has pruned); if the version is gone, so is the tag.
   */
  private async confirm(key: string, version: number): Promise<void> {
    try {
      await this.ds.manifest(version);
    } catch (e) {
      await this.ds.store.delete(key);
      throw e;
    }
  }

  async update(tag: string, version: number): Promise<void> {
    this.writable();
    const key = this.key(tag);
    await this.getVersion(tag);
    await this.checkVersion(version);
    await this.ds.store.put(key, encodeTag(version));
    await this.confirm(key, version);
  }

  async delete(tag: string): Promise<void> {
    this.writable();
    const key = this.key(tag);
    await this.getVersion(tag);
    await this.ds.store.delete(key);
  }
}
