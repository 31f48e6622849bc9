/**
 * A dynamic import made once. `import()` of a module already loaded still resolves it again on each
 * call (under a loader hook, a round trip to the loader thread): paths run per query keep the
 * promise instead. A failed load is forgotten, so the next call tries again.
 */
export function lazyImport<T>(load: () => Promise<T>): () => Promise<T> {
  let module: Promise<T> | undefined;
  return () => (module ??= load().catch((e: unknown) => {
    module = undefined;
    throw e;
  }));
}
