/**
 * INVALID_FILTER errors: every message names the problem, the 0-based position and quotes the filter
 * (shortened around the position when the filter is long) so the user can find the spot.
 */
import { createError, type QuiverError } from "../errors.js";

/** Longest filter text quoted whole in a message; longer ones are cut around the error position. */
const QUOTE_LIMIT = 120;

export function quoteFilter(sql: string, position: number): string {
  let text = sql;
  if (sql.length > QUOTE_LIMIT) {
    const from = Math.max(0, Math.min(position - QUOTE_LIMIT / 2, sql.length - QUOTE_LIMIT));
    text = (from > 0 ? "…" : "") + sql.slice(from, from + QUOTE_LIMIT) + (from + QUOTE_LIMIT < sql.length ? "…" : "");
  }
  // Control characters would garble a terminal; show them escaped.
  // eslint-disable-next-line no-control-regex
  return `"${text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

export function filterError(sql: string, position: number, what: string, extra: Record<string, unknown> = {}, hint = ""): QuiverError {
  const message = `${what} at position ${position} in filter ${quoteFilter(sql, position)}${hint ? `. ${hint}` : ""}`;
  return createError("INVALID_FILTER", message, { position, ...extra });
}

/** How a token or character is shown inside a message. */
export function showText(text: string): string {
  if (text.length === 0) return "end of input";
  const cp = text.codePointAt(0)!;
  if (text.length <= 2 && (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && !/\p{L}|\p{N}|\p{P}|\p{S}/u.test(text)))) {
    return `character U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  const shown = text.length > 30 ? `${text.slice(0, 30)}…` : text;
  return `'${shown}'`;
}

/** Levenshtein distance, capped: returns `cap + 1` as soon as the distance is known to exceed `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > cap) return cap + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** Column names close to `name`: same name in another case first, then small edit distances. */
export function closeMatches(name: string, candidates: readonly string[]): string[] {
  const lower = name.toLowerCase();
  const scored: [string, number][] = [];
  const cap = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  for (const c of candidates) {
    if (c.toLowerCase() === lower) { scored.push([c, -1]); continue; }
    if (name.length > 200 || c.length > 200) continue;
    const d = editDistance(lower, c.toLowerCase(), cap);
    if (d <= cap) scored.push([c, d]);
  }
  return scored.sort((x, y) => x[1] - y[1]).slice(0, 3).map(([c]) => c);
}
