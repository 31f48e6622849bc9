/** WebAssembly memory growth, out-of-memory errors and the loader. */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { isQuiverError } from "../../src/errors.js";
import { loadKernels, registerWasmModule, supportsSimd } from "../../src/kernels/index.js";
import * as ref from "../support/reference.js";
import { expectClose, expectExact, randomF32 } from "./kernels-helpers.js";

const wasmUrl = (flavor: string) => new URL(`../../build/quiver.${flavor}.wasm`, import.meta.url);

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => expect.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  expect(isQuiverError(error, code as never), String(error)).toBe(true);
  return error as Error;
}

describe("memory growth", () => {
  it("keeps blocks and results right while memory grows past 64 MiB", async () => {
    // A private instance, so the growth is this test's own.
    const k = await loadKernels({ flavor: "simd", module: await readFile(wasmUrl("simd")) });
    const dim = 100;
    const rows = 45_000; // 18 MB per block
    const q = randomF32(dim, 1);
    const first = randomF32(rows * dim, 2);
    const firstBlock = k.upload(first, dim);
    const before = k.memoryBytes;
    const blocks = [firstBlock];
    const datas = [first];
    for (let i = 0; i < 4; i++) {
      datas.push(randomF32(rows * dim, 10 + i));
      blocks.push(k.upload(datas[i + 1]!, dim));
    }
    expect(k.memoryBytes).toBeGreaterThan(64 * 2 ** 20);
    expect(k.memoryBytes).toBeGreaterThan(before);
    // The block uploaded before any growth still reads back right through fresh views.
    expectClose(k.distances("l2", q, firstBlock, dim).subarray(0, 500), ref.l2(q, first.subarray(0, 500 * dim), dim), "first block");
    for (const metric of ["l2", "cosine"] as const) {
      const got = k.search(metric, q, blocks.map((block) => ({ block })), dim, 10);
      const want = ref.search(metric, q, datas.map((data) => ({ data })), dim, 10);
      expectExact(got.target, want.target, `${metric} targets`);
      expectExact(got.row, want.row, `${metric} rows`);
    }
    for (const b of blocks) b.free();
  });

  it("maps allocation failures to OUT_OF_MEMORY and stays usable", async () => {
    const k = await loadKernels({ flavor: "scalar", module: await readFile(wasmUrl("scalar")) });
    await rejectsWith(Promise.resolve().then(() => k.heap.alloc(2 ** 31)), "OUT_OF_MEMORY"); // > TLSF's 1 GiB block limit
    await rejectsWith(Promise.resolve().then(() => k.heap.alloc(2 ** 33)), "OUT_OF_MEMORY"); // > the 4 GiB address space
    // Grow until memory.grow itself fails (wasm32 stops at 4 GiB; pages are only reserved).
    const held: number[] = [];
    const error = await rejectsWith(
      Promise.resolve().then(() => {
        for (let i = 0; i < 8; i++) held.push(k.heap.alloc(2 ** 30 - 64));
      }),
      "OUT_OF_MEMORY",
    );
    expect(held.length).toBeGreaterThan(0);
    expect(error.message).toMatch(/could not grow/);
    for (const p of held) k.heap.free(p);
    const block = k.upload(Float32Array.from([1, 2, 3, 4]), 2);
    expectExact(k.search("l2", [1, 2], [{ block }], 2, 2).row, [0, 1], "still works");
  });

  it("surfaces an upload that cannot fit as OUT_OF_MEMORY", async () => {
    const k = await loadKernels();
    const huge = { length: 2 ** 29, byteLength: 2 ** 31, buffer: new ArrayBuffer(0), byteOffset: 0 };
    Object.setPrototypeOf(huge, Float32Array.prototype);
    // A fake 2 GiB Float32Array: the allocation fails before any copy is attempted.
    expect(() => k.upload(huge as unknown as Float32Array, 4)).toThrow(expect.objectContaining({ code: "OUT_OF_MEMORY" }));
  });

  it("reuses freed space instead of growing forever", async () => {
    const k = await loadKernels({ flavor: "simd", module: await readFile(wasmUrl("simd")) });
    const data = randomF32(250_000, 3); // 1 MB
    for (let i = 0; i < 3; i++) k.upload(data, 10).free();
    const settled = k.memoryBytes;
    for (let i = 0; i < 50; i++) k.upload(data, 10).free();
    expect(k.memoryBytes).toBe(settled);
  });
});

describe("loader", () => {
  it("picks SIMD on Node and caches one instance per flavor", async () => {
    expect(supportsSimd()).toBe(true);
    const auto = await loadKernels();
    expect(auto.flavor).toBe("simd");
    expect(await loadKernels({ flavor: "simd" })).toBe(auto);
    const [a, b] = await Promise.all([loadKernels({ flavor: "scalar" }), loadKernels({ flavor: "scalar" })]);
    expect(a).toBe(b);
    expect(a.flavor).toBe("scalar");
  });

  it("loads from a Module, bytes, a URL and a URL string", async () => {
    const bytes = await readFile(wasmUrl("scalar"));
    for (const module of [new WebAssembly.Module(bytes), bytes, wasmUrl("scalar"), wasmUrl("scalar").href]) {
      const k = await loadKernels({ flavor: "scalar", module });
      expect(k.flavor).toBe("scalar");
      expect(k).not.toBe(await loadKernels({ flavor: "scalar" }));
      const block = k.upload(Float32Array.from([0, 0, 3, 4]), 2);
      expect(Array.from(k.distances("l2", [0, 0], block, 2))).toEqual([0, 25]);
    }
  });

  it("reports what it tried when loading fails", async () => {
    const missing = new URL("../../build/missing.wasm", import.meta.url);
    const e1 = await rejectsWith(loadKernels({ flavor: "simd", module: missing }), "WASM_LOAD_FAILED");
    expect(e1.message).toContain("missing.wasm");
    await rejectsWith(loadKernels({ module: new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]) }), "WASM_LOAD_FAILED");
    // A valid module without the kernel exports (an empty module) is rejected too.
    const e3 = await rejectsWith(loadKernels({ module: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }), "WASM_LOAD_FAILED");
    expect(e3.message).toContain("l2_f32");
    await rejectsWith(loadKernels({ flavor: "avx" as "simd" }), "INVALID_ARGUMENT");
  });

  it("uses a registered module for later loads of that flavor", async () => {
    const cached = await loadKernels({ flavor: "scalar" });
    registerWasmModule("scalar", new WebAssembly.Module(await readFile(wasmUrl("scalar"))));
    const fresh = await loadKernels({ flavor: "scalar" });
    expect(fresh).not.toBe(cached);
    expect(await loadKernels({ flavor: "scalar" })).toBe(fresh);
    expect(() => registerWasmModule("scalar", new Uint8Array(8) as unknown as WebAssembly.Module)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
