/**
 * LIKE / ILIKE matching without regular expressions. A pattern is split at `%` into segments; each
 * segment is literal text and `_` wildcards (one character = one code point each), so it always
 * matches a fixed number of characters. Then the first segment is anchored at the start, the last at
 * the end, and each middle one is placed at its leftmost match — which is always optimal when the
 * pieces between `%`s have fixed length. Cost is O(text × pattern) in the worst case, never exponential.
 */

export type LikeMatcher = (text: string) => boolean;

/** Literal text, or a run of `count` single-character wildcards. */
type Piece = string | number;
type Segment = Piece[];

/** Splits a pattern into `%`-separated segments. `escape` ("" for none) makes the next character literal. */
function parsePattern(pattern: string, escape: string): { segments: Segment[]; anchoredStart: boolean; anchoredEnd: boolean } {
  const segments: Segment[] = [[]];
  let literal = "";
  let anchoredStart = true;
  let anchoredEnd = true;
  const flush = (): void => {
    if (literal !== "") { segments[segments.length - 1]!.push(literal); literal = ""; }
  };
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (escape !== "" && ch === escape) {
      literal += i + 1 < chars.length ? chars[++i]! : ch;
      continue;
    }
    if (ch === "%") {
      flush();
      if (segments.length === 1 && segments[0]!.length === 0) anchoredStart = false;
      const last = segments[segments.length - 1]!;
      if (last.length > 0 || segments.length === 1) segments.push([]);
      continue;
    }
    if (ch === "_") {
      flush();
      const seg = segments[segments.length - 1]!;
      const prev = seg[seg.length - 1];
      if (typeof prev === "number") seg[seg.length - 1] = prev + 1;
      else seg.push(1);
      continue;
    }
    literal += ch;
  }
  flush();
  if (segments.length > 1) {
    anchoredEnd = segments[segments.length - 1]!.length > 0;
    if (!anchoredEnd) segments.pop();
    if (!anchoredStart) segments.shift();
  }
  return { segments, anchoredStart, anchoredEnd };
}

/** Advances one code point from `pos`, or returns -1 at the end. */
function stepForward(s: string, pos: number): number {
  if (pos >= s.length) return -1;
  const c = s.charCodeAt(pos);
  if (c >= 0xd800 && c <= 0xdbff && pos + 1 < s.length) {
    const d = s.charCodeAt(pos + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return pos + 2;
  }
  return pos + 1;
}

function stepBack(s: string, pos: number): number {
  if (pos <= 0) return -1;
  const c = s.charCodeAt(pos - 1);
  if (c >= 0xdc00 && c <= 0xdfff && pos >= 2) {
    const h = s.charCodeAt(pos - 2);
    if (h >= 0xd800 && h <= 0xdbff) return pos - 2;
  }
  return pos - 1;
}

/** End of `seg` matched at `pos`, or -1. */
function matchAt(s: string, pos: number, seg: Segment): number {
  for (const piece of seg) {
    if (typeof piece === "string") {
      if (!s.startsWith(piece, pos)) return -1;
      pos += piece.length;
    } else {
      for (let k = 0; k < piece; k++) {
        pos = stepForward(s, pos);
        if (pos < 0) return -1;
      }
    }
  }
  return pos;
}

/** Start of `seg` matched so that it ends at `end`, or -1. */
function matchBefore(s: string, end: number, seg: Segment): number {
  for (let p = seg.length - 1; p >= 0; p--) {
    const piece = seg[p]!;
    if (typeof piece === "string") {
      if (end < piece.length || !s.startsWith(piece, end - piece.length)) return -1;
      end -= piece.length;
    } else {
      for (let k = 0; k < piece; k++) {
        end = stepBack(s, end);
        if (end < 0) return -1;
      }
    }
  }
  return end;
}

/** Leftmost placement of `seg` within s[from, limit): its end, or -1. */
function findLeftmost(s: string, from: number, limit: number, seg: Segment): number {
  const first = seg[0];
  let p = from;
  while (p <= limit) {
    if (typeof first === "string") {
      p = s.indexOf(first, p);
      if (p < 0 || p > limit) return -1;
    }
    const end = matchAt(s, p, seg);
    if (end >= 0 && end <= limit) return end;
    if (end > limit && typeof first !== "string") return -1;
    const next = stepForward(s, p);
    if (next < 0) return -1;
    p = next;
  }
  return -1;
}

export function compileLike(pattern: string, escape: string, caseInsensitive: boolean): LikeMatcher {
  const { segments, anchoredStart, anchoredEnd } = parsePattern(pattern, escape);
  // Fold literals after parsing, so that an escape letter keeps its meaning whatever its case.
  if (caseInsensitive) for (const seg of segments) for (let i = 0; i < seg.length; i++) { const p = seg[i]!; if (typeof p === "string") seg[i] = p.toLowerCase(); }
  const fold = caseInsensitive ? (s: string): string => s.toLowerCase() : (s: string): string => s;

  // No '%': the whole text must match one segment.
  if (anchoredStart && anchoredEnd && segments.length === 1) {
    const seg = segments[0]!;
    if (seg.length === 1 && typeof seg[0] === "string") { const lit = seg[0]; return (t) => fold(t) === lit; }
    return (t) => { const s = fold(t); return matchAt(s, 0, seg) === s.length; };
  }
  if (segments.length === 0) return () => true; // "%", "%%", …
  return (t) => {
    const s = fold(t);
    let pos = 0;
    let limit = s.length;
    let lo = 0;
    let hi = segments.length;
    if (anchoredStart) {
      pos = matchAt(s, 0, segments[0]!);
      if (pos < 0) return false;
      lo = 1;
    }
    if (anchoredEnd) {
      limit = matchBefore(s, s.length, segments[hi - 1]!);
      if (limit < pos) return false;
      hi--;
    }
    for (let k = lo; k < hi; k++) {
      pos = findLeftmost(s, pos, limit, segments[k]!);
      if (pos < 0) return false;
    }
    return true;
  };
}
