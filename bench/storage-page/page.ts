/**
 * The storage bench page: runs tasks on the main thread, or in a dedicated worker started at load
 * (so its start-up is not part of what a task times). `body[data-ready]` says both are ready.
 */
import { tasks, type Tasks } from "./tasks.js";

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextId = 0;
const workerReady = new Promise<void>((resolve) => {
  worker.onmessage = (event: MessageEvent<{ ready?: true; id: number; result?: unknown; error?: string }>) => {
    if (event.data.ready) return resolve();
    const call = pending.get(event.data.id)!;
    pending.delete(event.data.id);
    if (event.data.error !== undefined) call.reject(new Error(event.data.error));
    else call.resolve(event.data.result);
  };
});

function inWorker(name: keyof Tasks, ...args: unknown[]): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, name, args });
  });
}

Object.assign(globalThis, { quiverBench: { main: tasks, inWorker } });
await workerReady;
document.body.dataset.ready = "true";
