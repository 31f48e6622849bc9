/**
 * LangChain metadata filters as Quiver `where` text. An object filter is turned into SQL here, with
 * every name and value quoted, so a metadata value can never change the shape of the filter; a
 * string is taken as a filter already written in Quiver's SQL subset (docs/FILTERS.md).
 *
 *   { source: "a.txt", page: [1, 2], draft: null }  →  `source` = 'a.txt' AND `page` IN (1, 2) AND `draft` IS NULL
 */
import { createError } from "../errors.js";

/** A filter: `{ column: value | value[] | null }` (all must hold), or a SQL string. */
export type MetadataFilter = Readonly<Record<string, unknown>> | string;

/** `name` as a backtick-quoted identifier (a backtick inside is doubled). */
export function quoteName(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

/** A JavaScript value as a SQL literal: text in single quotes ('' inside), numbers, booleans, NULL. */
export function sqlLiteral(value: unknown, key: string): string {
  if (typeof value === "string") return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw createError("INVALID_FILTER", `Filter value of "${key}" must be a finite number, got ${value}.`, { column: key });
    return String(value);
  }
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "bigint") return value.toString();
  throw createError("INVALID_FILTER", `Filter value of "${key}" must be a string, number, boolean, null or an array of them; got ${typeof value}.`, { column: key });
}

/** The `where` text of a filter, or undefined for no filter (undefined, an empty object, a blank string). */
export function filterToWhere(filter: MetadataFilter | undefined): string | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter === "string") return filter.trim() === "" ? undefined : filter;
  if (typeof filter !== "object" || Array.isArray(filter)) {
    throw createError("INVALID_FILTER", "A filter is an object of metadata key → value (or an array of values), or a SQL string.");
  }
  const clauses = Object.entries(filter).map(([key, value]) => {
    const column = quoteName(key);
    if (value === null) return `${column} IS NULL`;
    if (Array.isArray(value)) {
      if (value.length === 0) throw createError("INVALID_FILTER", `Filter of "${key}" is an empty list; it would match nothing.`, { column: key });
      return `${column} IN (${value.map((v) => sqlLiteral(v, key)).join(", ")})`;
    }
    return `${column} = ${sqlLiteral(value, key)}`;
  });
  return clauses.length === 0 ? undefined : clauses.join(" AND ");
}
