/**
 * Runs Quiver inside the real Cloudflare workerd binary (the `workerd` npm package):
 * bundles test/runtimes/workerd/worker.ts with esbuild (the .wasm imports stay external and
 * become workerd `wasm` modules, as wrangler does), starts `workerd serve` on a loopback port
 * chosen by the OS and reported over --control-fd, and checks the JSON each flavor returns.
 * Then the Worker opens a table published to a local static server (its outbound network is
 * limited to the loopback interface) and answers a vector query and a filtered query.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishTable } from "../../scripts/publish-table.js";
import { connect } from "../../src/connection.js";
import type { Row } from "../../src/data/rows.js";
import { serveStatic, type StaticServer } from "../unit/static-server.js";
import { bundleForWorkerd, listenPort } from "./workerd-process.js";
import { blobStoreContract } from "../unit/storage-contract.js";

/** Cases of the BlobStore contract a writable store with a second handle runs (the runtime reports how many it ran). */
const CONTRACT_CASES = blobStoreContract({ make: async () => undefined as never, reopen: async () => undefined as never }).length;

const root = fileURLToPath(new URL("../..", import.meta.url));
const workerd = fileURLToPath(new URL("../../node_modules/workerd/bin/workerd", import.meta.url));

const config = (storage: string): string => `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # Durable Object storage on local disk (SQLite files in this directory).
    (name = "do-disk", disk = (path = "${storage}", writable = true)),
    # The Worker's fetch() goes through "internet"; only loopback addresses, for the static server.
    (name = "internet", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "quiver.simd.wasm", wasm = embed "quiver.simd.wasm"),
    (name = "quiver.scalar.wasm", wasm = embed "quiver.scalar.wasm"),
  ],
  compatibilityDate = "2024-09-23",
  # WeakRef / FinalizationRegistry (the connection's table handles, block safety nets) are on by
  # default only from 2025-05-05.
  compatibilityFlags = ["enable_weak_ref"],
  durableObjectNamespaces = [ (className = "TableObject", uniqueKey = "quiver-test-tables", enableSql = true) ],
  durableObjectStorage = (localDisk = "do-disk"),
  bindings = [ (name = "TABLES", durableObjectNamespace = "TableObject") ],
);
`;

describe("Cloudflare workerd", () => {
  let dir: string;
  let proc: ChildProcess | undefined;
  let base: string;
  let site: StaticServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "quiver-workerd-"));
    site = await serveStatic(join(dir, "site"));
    await bundleForWorkerd(join(root, "test/runtimes/workerd/worker.ts"), join(dir, "worker.js"));
    for (const flavor of ["simd", "scalar"]) copyFileSync(join(root, `build/quiver.${flavor}.wasm`), join(dir, `quiver.${flavor}.wasm`));
    mkdirSync(join(dir, "do-storage"));
    writeFileSync(join(dir, "config.capnp"), config(join(dir, "do-storage")));
    proc = spawn(workerd, ["serve", "config.capnp", "--control-fd=3"], { cwd: dir, stdio: ["ignore", "ignore", "pipe", "pipe"] });
    base = `http://127.0.0.1:${await listenPort(proc, 20_000)}`;
  }, 60_000);

  afterAll(async () => {
    if (proc && proc.exitCode === null) proc.kill("SIGKILL");
    await site?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["auto", "simd"],
    ["simd", "simd"],
    ["scalar", "scalar"],
  ])("flavor %s loads as %s and searches", async (requested, flavor) => {
    const response = await fetch(`${base}/?flavor=${requested}`, { signal: AbortSignal.timeout(10_000) });
    const body = await response.json();
    expect(body).toEqual({ flavor, rows: [1, 0, 4], distances: [0.02, 0.82, 1.82] });
    expect(response.status).toBe(200);
  });

  it("opens a read-only table over HTTP and answers a vector query and a filtered query", async () => {
    // A 2,000-row table in two fragments, built here, published, and served on 127.0.0.1.
    const dim = 16;
    const rows: Row[] = Array.from({ length: 2000 }, (_, i) => ({
      id: i, year: 2000 + (i % 25), category: `c${i % 5}`,
      vector: Array.from({ length: dim }, (_, j) => Math.sin(i * 0.37 + j * 1.3)),
    }));
    const db = await connect(join(dir, "src"));
    const local = await db.createTable("docs", rows.slice(0, 1000));
    await local.add(rows.slice(1000));
    mkdirSync(join(dir, "site"), { recursive: true });
    await publishTable(join(dir, "src"), "docs", join(dir, "site", "db"));

    const vector = Array.from({ length: dim }, (_, j) => Math.cos(j * 0.7));
    const where = "category = 'c3' AND year >= 2010";
    const round = (r: Row[]): Row[] => r.map((x) => ({ ...x, _distance: Math.round((x._distance as number) * 1e4) / 1e4 }));
    const expected = {
      tables: ["docs"],
      count: 2000,
      nearest: round(await local.search(vector).select(["id", "category"]).limit(5).toArray()),
      filteredNearest: round(await local.search(vector).where(where).select(["id", "category"]).limit(5).toArray()),
      filtered: await local.query().where(where).select(["id", "year"]).limit(20).toArray(),
      readOnly: "READ_ONLY",
    };
    await db.close();
    expect(expected.filteredNearest.every((r) => r.category === "c3")).toBe(true);
    expect(expected.filtered).toHaveLength(20);

    const response = await fetch(`${base}/remote`, {
      method: "POST",
      body: JSON.stringify({ base: `${site!.origin}/db`, table: "docs", vector, where }),
      signal: AbortSignal.timeout(20_000),
    });
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual(expected);
    // Data files were read by Range requests, not whole.
    const dataReads = site!.log.filter((r) => r.path.includes("/data/"));
    expect(dataReads.length).toBeGreaterThan(0);
    expect(dataReads.every((r) => r.status === 206)).toBe(true);
  });

  describe("a Durable Object's storage (DurableObjectStore, on local disk)", () => {
    const call = async (path: string, method = "POST"): Promise<{ status: number; body: Record<string, unknown> }> => {
      const response = await fetch(`${base}${path}`, { method, signal: AbortSignal.timeout(60_000) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    it("passes the BlobStore contract", async () => {
      const r = await call("/do/contract/contract");
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toEqual({ cases: CONTRACT_CASES, failed: [] });
    }, 90_000);

    it("creates, appends to, indexes and searches a table; two requests appending at once lose no row", async () => {
      const created = await call("/do/tables/create");
      expect(created.status, JSON.stringify(created.body)).toBe(200);
      const [a, b] = await Promise.all([call("/do/tables/append?from=1000&n=15"), call("/do/tables/append?from=2000&n=15")]);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(b.status, JSON.stringify(b.body)).toBe(200);
      const r = await call("/do/tables/inspect", "GET");
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const want = [...Array.from({ length: 490 }, (_, i) => 10 + i), ...Array.from({ length: 15 }, (_, i) => 1000 + i), ...Array.from({ length: 15 }, (_, i) => 2000 + i)];
      expect(r.body).toEqual({ ids: want, version: 34, count: 520, nearest: [42, 263, 484], indices: ["IvfFlat"] });
    }, 90_000);

    it("the table persists across a restart of workerd", async () => {
      proc!.kill("SIGKILL");
      await new Promise((resolve) => proc!.once("exit", resolve));
      proc = spawn(workerd, ["serve", "config.capnp", "--control-fd=3"], { cwd: dir, stdio: ["ignore", "ignore", "pipe", "pipe"] });
      base = `http://127.0.0.1:${await listenPort(proc, 20_000)}`;
      const r = await call("/do/tables/inspect", "GET");
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.count).toBe(520);
      expect(r.body.version).toBe(34);
    }, 90_000);
  });
});
