/**
 * Running code in the real workerd binary for tests: bundling a Worker as wrangler would, and the
 * port workerd listens on, from its control fd.
 */
import type { ChildProcess } from "node:child_process";
import { basename } from "node:path";
import { build } from "esbuild";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** Resolves with the port from workerd's {"event":"listen"} control message. */
export function listenPort(proc: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    proc.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => reject(new Error(`workerd did not start listening within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`workerd exited with ${code} before listening\n${stderr}`));
    });
    createInterface({ input: proc.stdio[3] as Readable }).on("line", (line) => {
      const message = JSON.parse(line) as { event?: string; port?: number };
      if (message.event === "listen" && typeof message.port === "number") {
        clearTimeout(timer);
        resolve(message.port);
      }
    });
  });
}


/**
 * Bundles `entry` into `outfile` as wrangler would (the "workerd" export condition; .wasm imports
 * left external, to become workerd `wasm` modules). `alias` maps package names, e.g. "quiverdb" to
 * the sources, for examples that import the package by name.
 */
export async function bundleForWorkerd(entry: string, outfile: string, alias?: Record<string, string>): Promise<void> {
  await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "neutral",
    // What wrangler resolves packages with.
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    target: "es2022",
    outfile,
    logLevel: "silent",
    external: ["node:*"],
    ...(alias ? { alias } : {}),
    plugins: [
      {
        name: "wasm-modules",
        setup(b) {
          b.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: `./${basename(args.path)}`, external: true }));
        },
      },
    ],
  });
}
