/**
 * crc32 (slicing-by-16) against the bitwise definition: lengths around its 16-byte steps and
 * 64 KiB calls, unaligned views, chained seeds, and the standard check value.
 */
import { describe, expect, it } from "vitest";
import { crc32 } from "../../src/storage/crc32.js";

/** CRC-32 one bit at a time, as the polynomial defines it. */
function reference(bytes: Uint8Array, seed = 0): number {
  let c = ~seed >>> 0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (0xedb88320 ^ (c >>> 1)) >>> 0 : c >>> 1;
  }
  return ~c >>> 0;
}

describe("crc32", () => {
  const data = Uint8Array.from({ length: 3 * 65536 + 37 }, (_, i) => (i * 2654435761) >>> 23 & 255);

  it("gives the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("matches the bitwise definition at awkward lengths and offsets", () => {
    for (const length of [1, 3, 15, 16, 17, 31, 32, 33, 4095, 4096, 65535, 65536, 65537, 131089, data.length - 5]) {
      for (const offset of [0, 1, 5]) {
        const view = data.subarray(offset, offset + length);
        expect(crc32(view), `length ${length} at ${offset}`).toBe(reference(view));
      }
    }
  });

  it("chains: the CRC of a whole is the CRC of its second part seeded with the first's", () => {
    for (const cut of [0, 7, 16, 65536, 100_001]) {
      expect(crc32(data.subarray(cut), crc32(data.subarray(0, cut)))).toBe(crc32(data));
    }
    expect(crc32(data.subarray(10, 20), 0xdeadbeef)).toBe(reference(data.subarray(10, 20), 0xdeadbeef));
  });
});
