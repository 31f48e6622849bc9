/**
 * apache-arrow by name, the one place a bundler sees the package: imported only by the entries a
 * page (or a Node or Deno program) uses, never by the worker script (see provideArrow in detect.ts).
 */
import { provideArrow } from "./detect.js";

const importApacheArrow = (): Promise<unknown> => import("apache-arrow");

/** Lets Arrow output on this thread load apache-arrow on first use. */
export function provideApacheArrow(): void {
  provideArrow(importApacheArrow);
}
