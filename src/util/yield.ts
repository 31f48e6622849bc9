/**
 * Giving the event loop a turn during long CPU work, so a page's main thread repaints its progress
 * bar and answers input, and a worker answers messages (a cancel, a query on another table).
 */

interface SchedulerLike {
  yield?: () => Promise<void>;
}

/**
 * One macrotask turn. `scheduler.yield()` where the runtime has it (Chromium): it resumes ahead of
 * other queued tasks and is not clamped like nested `setTimeout`s (4 ms after five levels). Node's
 * `setTimeout(0)` waits at least 1 ms — a twelfth of every 12 ms slice spent idle — while
 * `setImmediate` resumes right after the pending I/O and messages have run.
 */
export function yieldToEventLoop(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: SchedulerLike }).scheduler;
  if (typeof scheduler?.yield === "function") return scheduler.yield();
  const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
  if (typeof immediate === "function") return new Promise((resolve) => void immediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Cuts a long loop into slices of about `budgetMs`: check `due()` every few iterations (it is
 * cheap) and `await yieldNow()` when it says so. 12 ms keeps a 60 Hz frame's budget for painting.
 */
export class TimeSlicer {
  #since = performance.now();

  constructor(readonly budgetMs = 12) {}

  due(): boolean {
    return performance.now() - this.#since >= this.budgetMs;
  }

  async yieldNow(): Promise<void> {
    await yieldToEventLoop();
    this.#since = performance.now();
  }
}
