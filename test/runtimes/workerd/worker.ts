// A tiny Worker for test/runtimes/workerd.test.ts: the package's workerd entry, which registers
// the .wasm modules that workerd compiled at startup, then one search per kernel flavor.
import { loadKernels } from "../../../src/index.workerd.js";

export default {
  async fetch(request: Request): Promise<Response> {
    const flavor = (new URL(request.url).searchParams.get("flavor") ?? "auto") as "auto" | "simd" | "scalar";
    try {
      const kernels = await loadKernels({ flavor });
      const dim = 3;
      const block = kernels.upload(new Float32Array([0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 1, 1]), dim);
      const hits = kernels.search("l2", [0.9, 0.1, 0], [{ block }], dim, 3);
      block.free();
      return Response.json({
        flavor: kernels.flavor,
        rows: Array.from(hits.row),
        distances: Array.from(hits.distance, (d) => Math.round(d * 1000) / 1000),
      });
    } catch (error) {
      const e = error as { code?: string; message?: string };
      return Response.json({ error: e.code ?? "unknown", message: e.message }, { status: 500 });
    }
  },
};
