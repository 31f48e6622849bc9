/**
 * The publisher's listing (`_listing.json`, see http-store.ts) read back: checked entry by entry,
 * filtered by prefix and sorted by key. Loaded on demand: only readers that list a remote store
 * (opening a table by name, listing tables) need it.
 */
import { createError } from "../errors.js";
import type { BlobInfo } from "./blob-store.js";

interface ListingEntry {
  key: string;
  size: number;
  modified?: number;
}

export function parseListing(body: Uint8Array, url: string, store: string, prefix: string): BlobInfo[] {
  let entries: unknown;
  try {
    entries = JSON.parse(new TextDecoder().decode(body));
  } catch (error) {
    throw createError("CORRUPT_FILE", `${url} is not valid JSON.`, { key: "_listing.json", store }, error);
  }
  if (!Array.isArray(entries) || !entries.every(isListingEntry)) {
    throw createError("CORRUPT_FILE", `${url} must be an array of { key, size, modified? } objects.`, { key: "_listing.json", store });
  }
  return entries
    .filter((e) => e.key.startsWith(prefix))
    .map((e) => (e.modified === undefined ? { key: e.key, size: e.size } : { key: e.key, size: e.size, modified: e.modified }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function isListingEntry(value: unknown): value is ListingEntry {
  const e = value as ListingEntry;
  return (
    typeof e === "object" &&
    e !== null &&
    typeof e.key === "string" &&
    Number.isSafeInteger(e.size) &&
    e.size >= 0 &&
    (e.modified === undefined || typeof e.modified === "number")
  );
}
