/** BufferPool: host buffers reused across reads, within a byte limit. */
import { describe, expect, it } from "vitest";
import { BufferPool } from "../../src/util/buffer-pool.js";

describe("BufferPool", () => {
  it("gives back the smallest held buffer that fits, sized in powers of two from 64 KiB", () => {
    const pool = new BufferPool(2 ** 22);
    const a = pool.take(10);
    const b = pool.take(100_000);
    const c = pool.take(300_000);
    expect([a, b, c].map((x) => x.length)).toEqual([10, 100_000, 300_000]);
    expect([a, b, c].map((x) => x.buffer.byteLength)).toEqual([65_536, 131_072, 524_288]);
    expect(pool.bytes).toBe(0);
    [a, b, c].forEach((x) => pool.give(x));
    expect(pool.bytes).toBe(65_536 + 131_072 + 524_288);
    const d = pool.take(70_000);
    expect(d.buffer).toBe(b.buffer);
    expect(d.length).toBe(70_000);
    expect(pool.take(1).buffer).toBe(a.buffer);
    // Nothing held fits: a new one.
    const e = pool.take(600_000);
    expect([a, b, c].some((x) => x.buffer === e.buffer)).toBe(false);
    expect(pool.bytes).toBe(524_288);
  });

  it("keeps at most its limit, dropping the smallest buffers first, and none larger than the limit", () => {
    const pool = new BufferPool(300_000);
    const small = pool.take(1);
    const mid = pool.take(100_000);
    const large = pool.take(200_000);
    pool.give(small);
    pool.give(mid);
    expect(pool.bytes).toBe(65_536 + 131_072);
    pool.give(large); // 262,144 B: the two smaller ones go
    expect(pool.bytes).toBe(262_144);
    expect(pool.take(1).buffer).toBe(large.buffer);
    pool.give(pool.take(400_000)); // 524,288 B: over the limit, not kept
    expect(pool.bytes).toBe(0);
  });

  it("ignores a buffer given twice, and clear() lets go of everything", () => {
    const pool = new BufferPool(2 ** 20);
    const a = pool.take(5);
    pool.give(a);
    pool.give(a);
    expect(pool.bytes).toBe(65_536);
    pool.clear();
    expect(pool.bytes).toBe(0);
    expect(pool.take(5).buffer).not.toBe(a.buffer);
  });
});
