/**
 * What a session's kernels cost in WebAssembly instances: one instance per session, none made only
 * to compile the module. (Each test imports a fresh loader; other modules stay out of this file,
 * since a reset module graph would give them classes of their own.)
 */
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("newKernels", () => {
  it("compiles once per flavor and instantiates once per call: no instance is made only to compile", async () => {
    // A fresh loader module: its compiled-module cache starts empty.
    vi.resetModules();
    const { newKernels } = await import("../../src/kernels/loader.js");
    const instantiate = vi.spyOn(WebAssembly, "instantiate");
    const a = await newKernels({ flavor: "simd" });
    expect(instantiate).toHaveBeenCalledTimes(1);
    const b = await newKernels({ flavor: "simd" });
    expect(instantiate).toHaveBeenCalledTimes(2);
    // The second instantiates the module the first compiled, with a memory of its own.
    expect(instantiate.mock.calls[1]![0]).toBe(a.module);
    expect(b.module).toBe(a.module);
    expect(b.exports.memory).not.toBe(a.exports.memory);
    const p = a.heap.alloc(1024);
    expect(a.heap.allocatedBytes).toBe(1024);
    expect(b.heap.allocatedBytes).toBe(0);
    a.heap.free(p);
  });

  it("concurrent first calls share one compile and each get their own instance", async () => {
    vi.resetModules();
    const { newKernels } = await import("../../src/kernels/loader.js");
    const instantiate = vi.spyOn(WebAssembly, "instantiate");
    const [a, b, c] = await Promise.all([newKernels({ flavor: "scalar" }), newKernels({ flavor: "scalar" }), newKernels({ flavor: "scalar" })]);
    expect(instantiate).toHaveBeenCalledTimes(3);
    expect(new Set([a.module, b.module, c.module]).size).toBe(1);
    expect(new Set([a.exports.memory, b.exports.memory, c.exports.memory]).size).toBe(3);
  });
});
