// Host-managed buffers on the AssemblyScript runtime heap (TLSF, "minimal" runtime).
//
// The kernels never allocate: the host allocates every input and output buffer here, writes into
// it through a typed-array view of `memory`, and passes the pointers to the kernels.
//
// Why the host must refresh its views after every `alloc`: TLSF grows linear memory with
// `memory.grow` when no free block fits, which detaches the old ArrayBuffer.
//
// Failure modes, both mapped to QuiverError OUT_OF_MEMORY by the host:
//   - bytes > ~1 GiB (TLSF's BLOCK_MAXSIZE) → `abort("Allocation too large")` (the env.abort import)
//   - memory.grow fails (4 GiB wasm32 limit, or the engine refuses) → `unreachable` trap.
// Both happen before TLSF changes any state, so the instance stays usable afterwards.

/** Allocates `bytes` bytes, 16-byte aligned (TLSF's AL_SIZE), contents undefined. */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

/** Returns a buffer from `alloc` to the heap. `ptr = 0` is ignored. */
export function free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}
