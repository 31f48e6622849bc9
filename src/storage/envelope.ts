/**
 * Small binary helpers shared by Quiver's file formats (docs/FORMAT.md): a checked envelope for
 * whole small files (manifests, deletion files) and 64-byte alignment for column buffers.
 *
 * Envelope layout (little-endian):
 *
 *   0        4          8          12                12+len     16+len
 *   | magic  | version  | len      | payload bytes    | crc32    |
 *
 * From version 2 on, crc32 covers everything before it (header and payload), so a damaged version
 * or length field is told apart from a file a newer quiverdb wrote; version 1 files (written
 * before) have it over the payload alone and are still read. Anything that does not match is
 * CORRUPT_FILE; a valid file of a newer version is UNSUPPORTED.
 */
import { createError } from "../errors.js";
import { crc32 } from "./crc32.js";

export const ALIGNMENT = 64;

export function alignUp(n: number, to = ALIGNMENT): number {
  return Math.ceil(n / to) * to;
}

export function magicBytes(magic: string): Uint8Array {
  if (magic.length !== 4) throw new Error(`magic must be 4 ASCII characters: ${magic}`);
  return new Uint8Array([...magic].map((c) => c.charCodeAt(0)));
}

export function corrupt(what: string, why: string): never {
  throw createError("CORRUPT_FILE", `${what} is damaged: ${why}. Restore it from a backup or check out an older version.`, { file: what });
}

export function sealEnvelope(magic: string, version: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + payload.length);
  const dv = new DataView(out.buffer);
  out.set(magicBytes(magic), 0);
  dv.setUint32(4, version, true);
  dv.setUint32(8, payload.length, true);
  out.set(payload, 12);
  dv.setUint32(12 + payload.length, version >= 2 ? crc32(out.subarray(0, 12 + payload.length)) : crc32(payload), true);
  return out;
}

/** The payload of an envelope, after checking magic, version, length and checksum. */
export function openEnvelope(magic: string, maxVersion: number, bytes: Uint8Array, what: string): { version: number; payload: Uint8Array } {
  if (bytes.length < 16) corrupt(what, `only ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = magicBytes(magic);
  for (let i = 0; i < 4; i++) if (bytes[i] !== m[i]) corrupt(what, `it does not start with "${magic}"`);
  const version = dv.getUint32(4, true);
  const len = dv.getUint32(8, true);
  if (len !== bytes.length - 16) corrupt(what, `length field says ${len} bytes, the file holds ${bytes.length - 16}`);
  const payload = bytes.subarray(12, 12 + len);
  const stored = dv.getUint32(12 + len, true);
  const intact = version === 1 ? stored === crc32(payload) : version >= 2 && stored === crc32(bytes.subarray(0, 12 + len));
  if (!intact) corrupt(what, "checksum mismatch");
  if (version > maxVersion) {
    throw createError("UNSUPPORTED", `${what} uses format version ${version}; this build reads up to ${maxVersion}. Upgrade quiverdb.`, { file: what });
  }
  return { version, payload };
}

export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? { $bigint: v.toString() } : v)));
}

export function decodeJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes), (_, v: unknown) =>
      v !== null && typeof v === "object" && typeof (v as { $bigint?: unknown }).$bigint === "string" ? BigInt((v as { $bigint: string }).$bigint) : v,
    ) as T;
  } catch (e) {
    return corrupt(what, `its JSON does not parse (${(e as Error).message})`);
  }
}

/** A random identifier for file names (unique across writers, so files never collide). */
export function randomId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
