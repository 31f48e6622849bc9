/**
 * Splits filter text into tokens. Reserved words are recognised case-insensitively; everything else
 * that looks like a word is an identifier (TIMESTAMP, DATE, CAST, AS and ESCAPE are recognised by the
 * parser from context, so they stay usable as column names).
 */
import { filterError, showText } from "./diagnostics.js";

export type TokenKind = "ident" | "quoted" | "keyword" | "string" | "number" | "op" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** Identifier name, upper-cased keyword, unescaped string contents, number text, or operator. */
  readonly text: string;
  readonly pos: number;
  readonly end: number;
}

export const RESERVED = new Set(["AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "ILIKE", "IS", "NULL", "TRUE", "FALSE"]);

const OPERATORS = ["<=", ">=", "<>", "!=", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", "[", "]"];

function isIdentStart(ch: string): boolean {
  return /[A-Za-z_]/.test(ch) || (ch.charCodeAt(0) > 0x7f && /\p{L}/u.test(ch));
}

function isIdentPart(ch: string): boolean {
  return /[A-Za-z0-9_]/.test(ch) || (ch.charCodeAt(0) > 0x7f && /[\p{L}\p{N}\p{M}]/u.test(ch));
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** One code point at `i` (a lone surrogate counts as itself). */
function charAt(sql: string, i: number): string {
  const cp = sql.codePointAt(i)!;
  return String.fromCodePoint(cp);
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const code = sql.charCodeAt(i);
    if (code === 32 || code === 9 || code === 10 || code === 13 || code === 12 || code === 0xa0 || code === 0xfeff) { i++; continue; }
    const start = i;
    const ch = charAt(sql, i);

    if (ch === "'") {
      const { value, next } = readQuoted(sql, i, "'", "string literal");
      tokens.push({ kind: "string", text: value, pos: start, end: next });
      i = next;
      continue;
    }
    if (ch === '"' || ch === "`") {
      const { value, next } = readQuoted(sql, i, ch, "quoted identifier");
      if (value.length === 0) throw filterError(sql, start, "Empty quoted identifier");
      tokens.push({ kind: "quoted", text: value, pos: start, end: next });
      i = next;
      continue;
    }
    if (isDigit(code) || (code === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      i = readNumber(sql, i);
      tokens.push({ kind: "number", text: sql.slice(start, i), pos: start, end: i });
      continue;
    }
    if (isIdentStart(ch)) {
      i += ch.length;
      while (i < n) {
        const c = charAt(sql, i);
        if (!isIdentPart(c)) break;
        i += c.length;
      }
      const word = sql.slice(start, i);
      const upper = word.toUpperCase();
      tokens.push(RESERVED.has(upper) ? { kind: "keyword", text: upper, pos: start, end: i } : { kind: "ident", text: word, pos: start, end: i });
      continue;
    }
    const op = OPERATORS.find((o) => sql.startsWith(o, i));
    if (op !== undefined) {
      if (op === "=" && sql[i + 1] === "=") throw filterError(sql, i, "Unexpected '=='", {}, "SQL compares with a single '='");
      tokens.push({ kind: "op", text: op === "<>" ? "!=" : op, pos: start, end: i + op.length });
      i += op.length;
      continue;
    }
    if (ch === "&" || ch === "|") {
      const word = ch === "&" ? "AND" : "OR";
      throw filterError(sql, i, `Unexpected ${showText(ch)}`, {}, `Write ${word} to combine conditions`);
    }
    throw filterError(sql, i, `Unexpected ${showText(ch)}`);
  }
  tokens.push({ kind: "eof", text: "", pos: n, end: n });
  return tokens;
}

/** Reads text between `quote`s where a doubled quote stands for one quote character. */
function readQuoted(sql: string, start: number, quote: string, what: string): { value: string; next: number } {
  let value = "";
  let i = start + 1;
  for (;;) {
    const close = sql.indexOf(quote, i);
    if (close < 0) throw filterError(sql, start, `Unterminated ${what} starting`, {}, `Close it with ${quote}`);
    value += sql.slice(i, close);
    if (sql[close + 1] === quote) { value += quote; i = close + 2; continue; }
    return { value, next: close + 1 };
  }
}

/** digits [. digits] [e [+-] digits], or . digits [...]; a letter right after a number is an error. */
function readNumber(sql: string, start: number): number {
  let i = start;
  while (isDigit(sql.charCodeAt(i))) i++;
  if (sql[i] === ".") {
    i++;
    while (isDigit(sql.charCodeAt(i))) i++;
  }
  if (sql[i] === "e" || sql[i] === "E") {
    let j = i + 1;
    if (sql[j] === "+" || sql[j] === "-") j++;
    if (!isDigit(sql.charCodeAt(j))) throw filterError(sql, start, `Malformed number '${sql.slice(start, j)}'`, {}, "An exponent needs digits, as in 1e6");
    i = j;
    while (isDigit(sql.charCodeAt(i))) i++;
  }
  if (i < sql.length && (isIdentPart(charAt(sql, i)) || sql[i] === ".")) {
    throw filterError(sql, start, `Malformed number '${sql.slice(start, i + 1)}'`, {}, "Quote column names that start with a digit, as in `2nd`");
  }
  return i;
}
