/** The gzip sizes `viteWorkerSizes` reads from a Vite build's assets folder (see vite-worker-size.mjs). */
export interface ViteWorkerSizes {
  /** The worker script's file name in the assets folder. */
  readonly workerFile: string;
  /** The worker script alone. */
  readonly worker: number;
  /** The worker script and every chunk it imports, statically or on demand. */
  readonly reachable: number;
  /** How many files `reachable` counts. */
  readonly chunks: number;
  /** Language files (dist/languages/*.js) among the assets, and their gzip bytes in all. */
  readonly languageFiles: number;
  readonly languageGzip: number;
}

export function viteWorkerSizes(assets: string, languages: readonly string[]): ViteWorkerSizes;
