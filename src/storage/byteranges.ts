/**
 * The parts of a `multipart/byteranges` answer (RFC 9110 §14.6), what a server sends for a
 * multi-range request:
 *
 *   --B CRLF  Content-Type: … CRLF  Content-Range: bytes a-b/size CRLF  CRLF  <b-a+1 bytes> CRLF
 *   --B CRLF  …                                                                        --B-- CRLF
 *
 * Each part is cut by the length its Content-Range gives, never by looking for the boundary in the
 * data (the data may hold it). Loaded by HttpStore on the first multipart answer.
 */

export interface BytePart {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function find(body: Uint8Array, pattern: Uint8Array, from: number): number {
  outer: for (let i = from; i <= body.length - pattern.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (body[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

/** The parts of `body` given its Content-Type header; undefined when the body is not well formed. */
export function parseByteranges(body: Uint8Array, contentType: string): BytePart[] | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) return undefined;
  const delimiter = ascii(`--${m[1] ?? m[2]}`);
  const blank = ascii("\r\n\r\n");
  const latin1 = new TextDecoder("latin1");
  const parts: BytePart[] = [];
  let at = find(body, delimiter, 0);
  while (at >= 0) {
    at += delimiter.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts; // "--": the closing delimiter
    const headersEnd = find(body, blank, at);
    if (headersEnd < 0) return undefined;
    const range = /content-range:\s*bytes (\d+)-(\d+)\/(?:\d+|\*)/i.exec(latin1.decode(body.subarray(at, headersEnd)));
    if (!range) return undefined;
    const start = headersEnd + blank.length;
    const end = start + Number(range[2]) - Number(range[1]) + 1;
    if (end > body.length) return undefined;
    parts.push({ offset: Number(range[1]), bytes: body.subarray(start, end) });
    // The next delimiter follows the data's CRLF; searching from the end of the data, not inside it.
    at = find(body, delimiter, end);
  }
  // No closing delimiter: every part was whole (their lengths were checked), so they stand.
  return parts.length > 0 ? parts : undefined;
}
