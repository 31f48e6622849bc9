/**
 * `openStore(uri)`: the BlobStore a URI names, the way `connect(uri)` picks where a database lives.
 *
 * | uri                                   | store        | runtimes                       |
 * |---------------------------------------|--------------|--------------------------------|
 * | `memory://`                           | MemoryStore  | all; a fresh, private store    |
 * | `memory://name`                       | MemoryStore  | all; shared by every store opened with that name in this JavaScript realm |
 * | `idb://name`                          | IdbStore     | browsers (windows and workers) |
 * | `opfs://name`, `opfs://dir/sub`       | OpfsStore    | browsers; sync access handles in dedicated workers |
 * | `https://host/path`, `http://…`       | HttpStore    | all with fetch; read-only      |
 * | `file:///abs/path`, `/abs`, `./rel`, `rel/dir`, `C:\dir` | FsStore | Node, Deno |
 */
import { createError } from "../errors.js";
import type { BlobStore } from "./blob-store.js";
import { FsStore, type FsStoreOptions } from "./fs-store.js";
import { HttpStore, type HttpStoreOptions } from "./http-store.js";
import { IdbStore, type IdbStoreOptions } from "./idb-store.js";
import { checkKey } from "./keys.js";
import { MemoryStore, MemoryVolume, type MemoryStoreOptions } from "./memory-store.js";
import { OpfsStore, type OpfsStoreOptions } from "./opfs-store.js";

/** Options for each backend; only the one the URI selects is used. */
export interface OpenStoreOptions {
  /** `quotaBytes` applies when a named volume is first created. */
  memory?: MemoryStoreOptions;
  idb?: IdbStoreOptions;
  opfs?: OpfsStoreOptions;
  fs?: FsStoreOptions;
  http?: HttpStoreOptions;
}

const memoryVolumes = new Map<string, MemoryVolume>();

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s;
const WINDOWS_PATH = /^(?:[A-Za-z]:[\\/]|\\\\)/;

export async function openStore(uri: string, options: OpenStoreOptions = {}): Promise<BlobStore> {
  if (typeof uri !== "string" || uri.trim() === "") {
    throw createError("INVALID_ARGUMENT", `A store URI must be a non-empty string, got ${JSON.stringify(uri)}.`, { uri });
  }
  const match = WINDOWS_PATH.test(uri) ? null : SCHEME.exec(uri);
  if (!match) return openFileSystem(uri, uri, options.fs);
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  switch (scheme) {
    case "memory": {
      if (rest === "") return new MemoryStore("memory://", options.memory);
      let volume = memoryVolumes.get(rest);
      if (!volume) memoryVolumes.set(rest, (volume = new MemoryVolume(options.memory?.quotaBytes)));
      return new MemoryStore(`memory://${rest}`, volume);
    }
    case "idb":
      if (rest === "") throw createError("INVALID_ARGUMENT", `${uri}: name the database, as in idb://notes.`, { uri });
      return IdbStore.open(rest, options.idb);
    case "opfs":
      return OpfsStore.open(checkStorePath(uri, rest.replace(/\/+$/, "")), options.opfs);
    case "http":
    case "https":
      return new HttpStore(uri, options.http);
    case "file":
      return openFileSystem(uri, fileUrlToPath(uri), options.fs);
    default:
      throw createError(
        "INVALID_ARGUMENT",
        `Unknown storage scheme "${scheme}://" in ${uri}: use memory://, idb://, opfs://, https://, file:// or a path.`,
        { uri },
      );
  }
}

function checkStorePath(uri: string, path: string): string {
  try {
    return checkKey(path);
  } catch (error) {
    throw createError("INVALID_ARGUMENT", `${uri}: name the directory with "/"-separated names, as in opfs://notes or opfs://apps/notes.`, { uri }, error);
  }
}

function fileUrlToPath(uri: string): string {
  const url = new URL(uri);
  const path = decodeURIComponent(url.pathname);
  if (url.hostname !== "" && url.hostname !== "localhost") return `//${url.hostname}${path}`;
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path; // file:///C:/dir → C:/dir
}

function hasFileSystem(): boolean {
  const g = globalThis as { Deno?: unknown; process?: { versions?: { node?: string } } };
  return g.Deno !== undefined || typeof g.process?.versions?.node === "string";
}

async function openFileSystem(uri: string, path: string, options?: FsStoreOptions): Promise<BlobStore> {
  if (!hasFileSystem() && !options?.fileSystem) {
    throw createError(
      "UNSUPPORTED",
      `${uri} is a file path, and file paths need Node or Deno. In a browser use idb://name or opfs://name; to read published files use https://.`,
      { uri },
    );
  }
  return FsStore.open(path, options);
}
