/**
 * The stress test in real Chromium, on IndexedDB and OPFS: writers in three tabs and their dedicated
 * workers (append, delete, two incrementers) and an optimizer running
 * `optimize({ cleanupOlderThan: new Date() })` in a loop, all on one table; afterwards every
 * acknowledged write is visible exactly once (see test/unit/stress-roles.ts).
 */
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { checkAcknowledged } from "../unit/stress-roles.js";
import type { Checks } from "./fixture/stress-checks.js";

type StressGlobal = { quiverStress: { main: Checks; inWorker: (name: keyof Checks, ...args: unknown[]) => Promise<unknown> } };
const OPS = 40;

async function open(page: Page): Promise<void> {
  page.on("pageerror", (error) => console.error(error));
  await page.goto("/test/browser/fixture/stress.html");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
}

function call<N extends keyof Checks>(page: Page, inWorker: boolean, name: N, ...args: Parameters<Checks[N]>): Promise<Awaited<ReturnType<Checks[N]>>> {
  return page.evaluate(([inWorker, name, args]) => {
    const s = (globalThis as unknown as StressGlobal).quiverStress;
    return inWorker ? s.inWorker(name, ...args) : (s.main[name] as (...a: unknown[]) => Promise<unknown>)(...args);
  }, [inWorker, name, args] as const) as Promise<Awaited<ReturnType<Checks[N]>>>;
}

for (const backend of ["idb", "opfs"] as const) {
  test(`${backend}: writers in tabs and workers with cleanup running lose no acknowledged write`, async ({ context }) => {
    test.setTimeout(90_000);
    const pages = [await context.newPage(), await context.newPage(), await context.newPage()];
    await Promise.all(pages.map(open));
    const [a, b, c] = pages as [Page, Page, Page];
    const uri = `${backend}://stress-${randomUUID()}`;
    const seeded = await call(a, false, "seed", uri, [1], OPS);

    const cleaner = call(b, true, "run", uri, "optimize", 4, OPS);
    const writers = await Promise.all([
      call(a, false, "run", uri, "append", 0, OPS),
      call(b, false, "run", uri, "delete", 1, OPS),
      call(c, true, "run", uri, "inc", 2, OPS),
      call(a, true, "run", uri, "inc", 3, OPS),
    ]);
    await call(c, false, "stopAll", uri);
    const lines = [...writers.flat(), ...(await cleaner)];

    const outcome = checkAcknowledged(await call(c, false, "rows", uri), lines, seeded);
    expect(outcome).toMatchObject({ duplicated: [], lostAdds: [], unacknowledgedAdds: [], undeleted: [], vanished: [], wrongCounters: [] });
    const { acknowledged } = outcome;
    expect(Math.min(acknowledged.adds, acknowledged.deletes, acknowledged.increments, acknowledged.optimizes)).toBeGreaterThan(0);
  });
}
