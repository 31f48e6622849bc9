/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), slicing-by-16. Written here rather than
 * taken from a package because it is part of our file format, sits on the cold path of every
 * remote query (index head, partitions, checked chunks: MBs), and the packages on npm are either
 * CommonJS-only or per-byte.
 *
 * Sixteen bytes per step, looked up in sixteen 256-entry tables held in one Int32Array (16 KB,
 * table s at s × 256), where table s maps a byte to its CRC after s more zero bytes:
 *
 *   bytes  b0 b1 b2 b3 | b4 … b15
 *          (xor crc)   |
 *   crc' = T15[b0'] ^ T14[b1'] ^ T13[b2'] ^ T12[b3'] ^ T11[b4] ^ … ^ T0[b15]
 *
 * Twice the speed of slicing-by-8 once optimized (about 1.7 GB/s in V8), and half again as fast
 * before (a cold query checks its first MBs in V8's baseline tiers): fewer steps per byte.
 */
const TABLES: Int32Array = (() => {
  const t = new Int32Array(16 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 16; s++) t[s * 256 + i] = t[t[(s - 1) * 256 + i]! & 0xff]! ^ (t[(s - 1) * 256 + i]! >>> 8);
  }
  return t;
})();

/** Bytes per call of the inner loop; see `crc32`. */
const CHUNK = 64 * 1024;

/**
 * The loop runs over 64 KiB chunks: one call over a whole 40 MB buffer can stay unoptimized in V8
 * (Chromium 156 bails out of the optimized code for lack of type feedback), taking over a second.
 */
export function crc32(bytes: Uint8Array, seed = 0): number {
  let c = ~seed;
  for (let at = 0; at < bytes.length; at += CHUNK) c = update(c, bytes, at, Math.min(bytes.length, at + CHUNK));
  return ~c >>> 0;
}

function update(crc: number, bytes: Uint8Array, start: number, end: number): number {
  const t = TABLES;
  let c = crc;
  let i = start;
  const end16 = end - ((end - start) % 16);
  for (; i < end16; i += 16) {
    const a = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c = t[3840 + (a & 0xff)]! ^ t[3584 + ((a >>> 8) & 0xff)]! ^ t[3328 + ((a >>> 16) & 0xff)]! ^ t[3072 + (a >>> 24)]! ^
      t[2816 + bytes[i + 4]!]! ^ t[2560 + bytes[i + 5]!]! ^ t[2304 + bytes[i + 6]!]! ^ t[2048 + bytes[i + 7]!]! ^
      t[1792 + bytes[i + 8]!]! ^ t[1536 + bytes[i + 9]!]! ^ t[1280 + bytes[i + 10]!]! ^ t[1024 + bytes[i + 11]!]! ^
      t[768 + bytes[i + 12]!]! ^ t[512 + bytes[i + 13]!]! ^ t[256 + bytes[i + 14]!]! ^ t[bytes[i + 15]!]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}
