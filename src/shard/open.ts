/**
 * Opening a sharded view (`db.openShardedTable(…)`): resolving what names the shards, opening them
 * all at once, and checking that they can be read as one table.
 *
 * A shard is given as
 * - a table name of the connection (`"docs-0-of-4"`),
 * - a table location: a database URI and the table's name, `https://cdn.example.com/db/docs-0-of-4`,
 *   `./data/docs-0-of-4`, `memory://x/docs-0-of-4` (anything with a "/"; a `.quiver` suffix may be
 *   given), opened through a connection the view makes and closes with itself — one per database;
 * - or an open `Table` (from any connection; the view does not close it).
 * A single string instead of a list is a shard manifest (`<name>.shards.json`, see manifest.ts):
 * a name in this database, or a location (`https://cdn.example.com/db/docs`).
 */
import { createError } from "../errors.js";
import type { ConnectionOptions, Connection } from "../connection.js";
import type { Schema } from "../data/schema.js";
import type { Session } from "../session.js";
import type { Table } from "../table.js";
import type { ShardKit } from "./kit.js";
import { decodeShardManifest, shardManifestKey, SHARD_MANIFEST_SUFFIX } from "./manifest.js";
import { ShardedTable } from "./sharded-table.js";

/** One shard of `openShardedTable`: a table name, a table location (URI or path), or an open Table. */
export type ShardSpec = string | Table;

export interface OpenShardedTableOptions {
  /** The view's name (in display() and errors). Default: the manifest's table, else the first shard's name. */
  name?: string;
}

/** What the view needs of the connection it is opened through. */
export interface ShardParent {
  readonly connection: Connection;
  readonly options: ConnectionOptions;
  /** The connection's session: connections the view opens share it (one cache budget) unless the connection has a scan pool. */
  readonly session: Session;
  /** The connection's open views: the view is in it until closed (the connection closes what is left). */
  readonly views: Set<ShardedTable>;
}

/** openTable() of a table that is not there but was published as shards: say how to open it. */
export async function explainMissing(connection: Connection, name: string, error: unknown): Promise<void> {
  if ((await connection.readStoreFile(shardManifestKey(name))) === undefined) return;
  throw createError("TABLE_NOT_FOUND", `"${name}" in ${connection.uri} is published as shards; open it with openShardedTable("${name}").`, { shards: true }, error);
}

const isLocation = (s: string): boolean => s.includes("/") || s.includes("\\");

/** `https://host/db/docs` → database `https://host/db`, table `docs`. */
function splitLocation(location: string, suffix: string): { db: string; name: string } {
  const trimmed = location.replace(/[\\/]+$/, "");
  const at = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  const db = trimmed.slice(0, at);
  let name = trimmed.slice(at + 1);
  if (name.endsWith(suffix)) name = name.slice(0, -suffix.length);
  if (name === "" || (db === "" && at !== 0) || /^[a-z][a-z0-9+.-]*:\/?$/i.test(db)) {
    throw createError("INVALID_ARGUMENT", `${JSON.stringify(location)} does not name a table: give a database location and a table name, e.g. "https://host/db/docs".`);
  }
  return { db: db === "" ? "/" : db, name };
}

function isTable(value: unknown): value is Table {
  const t = value as Partial<Table> | null;
  return typeof t === "object" && t !== null && typeof t.execute === "function" && typeof t.ftsStatistics === "function" && typeof t.embedPlan === "function";
}

/** Connections the view opens, one per database location, closed with the view. */
class Connections {
  readonly #open = new Map<string, Promise<Connection>>();

  constructor(
    private readonly kit: ShardKit,
    private readonly parent: ShardParent,
  ) {}

  get(db: string): Promise<Connection> {
    let c = this.#open.get(db);
    if (c === undefined) {
      const { kernels, http, readConsistencyInterval, cacheBytes } = this.parent.options;
      const session = (this.parent.options.workers ?? 1) > 1 ? undefined : this.parent.session;
      c = this.kit.connect(db, { kernels, http, readConsistencyInterval, ...(session ? { session } : { cacheBytes }) });
      this.#open.set(db, c);
    }
    return c;
  }

  async closeAll(): Promise<void> {
    const all = await Promise.allSettled(this.#open.values());
    this.#open.clear();
    await Promise.all(all.map((r) => (r.status === "fulfilled" ? r.value.close() : undefined)));
  }
}

export async function openShardedTable(kit: ShardKit, parent: ShardParent, spec: string | readonly ShardSpec[], options: OpenShardedTableOptions = {}): Promise<ShardedTable> {
  const connections = new Connections(kit, parent);
  const opened: Table[] = [];
  let view: ShardedTable | undefined;
  const release = async (): Promise<void> => {
    if (view !== undefined) parent.views.delete(view);
    for (const t of opened) t.close();
    await connections.closeAll();
  };
  try {
    let specs: readonly ShardSpec[];
    let name = options.name;
    /** Where shard names of a manifest live: the parent, or the manifest's own database. */
    let openByName = (n: string): Promise<Table> => parent.connection.openTable(n);
    if (typeof spec === "string") {
      let bytes: Uint8Array | undefined;
      let where: string;
      if (isLocation(spec)) {
        const { db, name: table } = splitLocation(spec, SHARD_MANIFEST_SUFFIX);
        const conn = await connections.get(db);
        where = `${db}/${shardManifestKey(table)}`;
        bytes = await conn.readStoreFile(shardManifestKey(table));
        openByName = (n) => conn.openTable(n);
      } else {
        where = `${parent.connection.uri}/${shardManifestKey(spec)}`;
        bytes = await parent.connection.readStoreFile(shardManifestKey(spec));
      }
      if (bytes === undefined) {
        throw createError("TABLE_NOT_FOUND", `No shard manifest ${where}: publish the table with --shards (npx quiverdb publish … --shards N), or pass the shard tables as a list.`);
      }
      const manifest = decodeShardManifest(bytes, where);
      specs = manifest.shards.map((s) => s.table);
      name ??= manifest.table;
    } else if (Array.isArray(spec) && spec.length > 0) {
      specs = spec;
    } else {
      throw createError("INVALID_ARGUMENT", "openShardedTable() takes a non-empty list of shards (table names, table locations or Tables), or the name or location of a shard manifest.");
    }
    const tables = await Promise.all(specs.map(async (s, i) => {
      let t: Table;
      if (isTable(s)) return s;
      if (typeof s !== "string") throw createError("INVALID_ARGUMENT", `Shard ${i} is neither a table name, a table location nor a Table.`, { shard: i });
      if (isLocation(s)) {
        const { db, name: table } = splitLocation(s, ".quiver");
        t = await (await connections.get(db)).openTable(table);
      } else {
        t = await openByName(s);
      }
      opened.push(t);
      return t;
    }));
    const schema = await sameSchema(tables);
    view = new ShardedTable(name ?? tables[0]!.name, tables, schema, kit, release);
    parent.views.add(view);
    return view;
  } catch (error) {
    await release();
    throw error;
  }
}

/** The shards' common schema; a shard whose schema differs from the first's is SCHEMA_MISMATCH. */
async function sameSchema(tables: readonly Table[]): Promise<Schema> {
  const schemas = await Promise.all(tables.map((t) => t.quiverSchema()));
  const first = schemas[0]!;
  const show = (s: Schema): string => JSON.stringify(s.fields.map((f) => [f.name, f.type, f.nullable]));
  schemas.forEach((s, i) => {
    if (show(s) === show(first)) return;
    const names = (x: Schema): string[] => x.fields.map((f) => f.name);
    const differs = [...new Set([...names(first), ...names(s)])].find((n) => {
      const a = first.fields.find((f) => f.name === n);
      const b = s.fields.find((f) => f.name === n);
      return a === undefined || b === undefined || JSON.stringify([a.type, a.nullable]) !== JSON.stringify([b.type, b.nullable]);
    });
    throw createError(
      "SCHEMA_MISMATCH",
      `Shard ${i} ("${tables[i]!.name}") does not have the schema of shard 0 ("${tables[0]!.name}")${differs === undefined ? " (its columns are in another order)" : `: column "${differs}" differs`}; a sharded view needs the same columns, types and order in every shard.`,
      { shard: i, ...(differs === undefined ? {} : { column: differs }) },
    );
  });
  return first;
}
