/**
 * One Endpoint abstraction for every runtime: comlink speaks to anything with `postMessage` and
 * `addEventListener("message")` (a Web Worker, a MessagePort, a worker's global scope, Node's
 * MessagePort and parentPort). Node's `worker_threads.Worker` is an EventEmitter instead, so it is
 * adapted here, as comlink's node-adapter does.
 */
import type { Endpoint } from "comlink";

/** Node's `worker_threads.Worker` (or any emitter-style port). */
export interface NodeWorkerLike {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(type: "message", listener: (data: unknown) => void): unknown;
  off(type: "message", listener: (data: unknown) => void): unknown;
  terminate?(): unknown;
}

/** What `connectWorker` can run over. */
export type WorkerLike = Endpoint | NodeWorkerLike;

type Listener = EventListenerOrEventListenerObject;

/**
 * The Endpoint for `target`. Anything with `on` is taken the Node way (Node's MessagePorts have
 * `addEventListener` too, but `on("message")` is what keeps a worker thread alive while it listens).
 */
export function toEndpoint(target: WorkerLike): Endpoint {
  if (typeof (target as NodeWorkerLike).on !== "function") return target as Endpoint;
  const node = target as NodeWorkerLike;
  const listeners = new WeakMap<Listener, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) => node.postMessage(message, transfer),
    addEventListener(_type: string, listener: Listener) {
      const wrapped = (data: unknown): void => {
        const event = { data } as MessageEvent;
        if (typeof listener === "function") listener(event);
        else listener.handleEvent(event);
      };
      node.on("message", wrapped);
      listeners.set(listener, wrapped);
    },
    removeEventListener(_type: string, listener: Listener) {
      const wrapped = listeners.get(listener);
      if (wrapped === undefined) return;
      node.off("message", wrapped);
      listeners.delete(listener);
    },
  };
}

/** Ends a worker the client started itself. */
export async function terminate(target: WorkerLike): Promise<void> {
  const t = target as { terminate?: () => unknown; close?: () => unknown };
  if (typeof t.terminate === "function") await t.terminate();
  else if (typeof t.close === "function") t.close();
}
